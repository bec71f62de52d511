"""The pytest plugin, run by real pytest sessions (pytester): loaded through its ``pytest11``
entry point, its fixtures give providers over YAML, dicts and directories, isolate the global
OpenFeature API and restore it, force variations (to everyone or one unit), and record
events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.hook import Hook
from openfeature.provider.no_op_provider import NoOpProvider
from openfeature.transaction_context import ContextVarsTransactionContextPropagator

from modelflags.testing import provider_from_yaml

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

FLAGS = """\
version: 1
flags:
  answer_route:
    default: control
    variations:
      control: {modelRoute: model_a}
      candidate: {modelRoute: model_b}
    assignment: {unit: conversation, key: conversationId}
  temperature:
    default: low
    variations: {low: 0, high: 1}
"""
HEADER = f'''
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
import pytest

FLAGS = """{FLAGS}"""


def route(unit="conv-1"):
    ctx = EvaluationContext(attributes={{"conversationId": unit}})
    return api.get_client().get_object_details("answer_route", {{}}, ctx)
'''


def run(pytester: pytest.Pytester, body: str, *args: str, **kwargs: Any) -> pytest.RunResult:
    pytester.makepyfile(test_inner=HEADER + body)
    return pytester.runpytest("-p", "no:cacheprovider", *args, **kwargs)


class Shared:
    """A plugin object handing the outer test's objects to the inner session."""

    def __init__(self, **objects: Any) -> None:
        self.objects = objects

    @pytest.fixture
    def shared(self) -> dict[str, Any]:
        return self.objects


def test_a_fresh_session_loads_the_plugin_through_its_entry_point(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_inner=HEADER
        + """
def test_it(modelflags_provider):
    modelflags_provider(FLAGS)
    assert route().value == {"modelRoute": "model_a"}
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=1)


def test_importing_the_plugin_imports_neither_openfeature_nor_the_provider() -> None:
    program = (
        "import sys, pytest, modelflags.integrations.pytest_plugin\n"
        "heavy = [m for m in ('openfeature', 'modelflags.provider', 'yaml') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_force_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.modelflags_force(flag_key, variation, unit=None)*"])


def test_a_provider_from_yaml_text_is_set_and_ready(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_it(modelflags_provider):
    provider = modelflags_provider(FLAGS)
    assert api.get_provider_metadata().name == "modelflags"
    assert route().reason == "STATIC"
    assert provider.flags is not None
""",
    )
    result.assert_outcomes(passed=1)


def test_a_provider_from_a_dict(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_it(modelflags_provider):
    modelflags_provider({"version": 1, "flags": {"on": {"default": "yes",
                         "variations": {"yes": True, "no": False}}}})
    assert api.get_client().get_boolean_value("on", False) is True
""",
    )
    result.assert_outcomes(passed=1)


def test_a_provider_from_a_flag_directory_as_a_path_or_a_string(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "flags").mkdir()
    (pytester.path / "flags" / "routes.yaml").write_text(FLAGS)
    result = run(
        pytester,
        """
from pathlib import Path

@pytest.mark.parametrize("where", [Path("flags"), "flags", "flags/routes.yaml"])
def test_it(modelflags_provider, where):
    modelflags_provider(where)
    assert route().variant == "control"
""",
    )
    result.assert_outcomes(passed=3)


def test_a_provider_for_a_domain_leaves_the_default_alone(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_it(modelflags_provider):
    modelflags_provider(FLAGS, domain="routes")
    assert api.get_provider_metadata().name != "modelflags"
    ctx = EvaluationContext(attributes={"conversationId": "c"})
    assert api.get_client("routes").get_object_details("answer_route", {}, ctx).variant == "control"
""",
    )
    result.assert_outcomes(passed=1)


def test_invalid_flags_fail_the_test_with_the_located_error(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_it(modelflags_provider):
    modelflags_provider(FLAGS.replace("default: control", "default: contrl"))
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*<inline>:4:14: [[]unknown-variation[]]*did you mean 'control'*"])


def test_the_environment_evidence_is_ignored(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_it(modelflags_provider, monkeypatch, tmp_path):
    monkeypatch.setenv("MODELFLAGS_EVIDENCE", f"jsonl://{tmp_path}/events.jsonl")
    assert modelflags_provider(FLAGS).evidence is None
""",
    )
    result.assert_outcomes(passed=1)


def test_each_test_starts_with_a_clean_api_and_leaves_none_behind(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
from openfeature.hook import Hook
from openfeature.transaction_context import ContextVarsTransactionContextPropagator

def clean():
    assert api.get_provider_metadata().name == "No-op Provider"
    assert api.get_hooks() == []
    assert api.get_evaluation_context() == EvaluationContext()
    assert api.get_transaction_context() == EvaluationContext()

def test_first(openfeature_isolated, modelflags_provider):
    clean()
    modelflags_provider(FLAGS)
    api.add_hooks([Hook()])
    api.set_evaluation_context(EvaluationContext("global"))
    api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())
    api.set_transaction_context(EvaluationContext("request"))

def test_second(openfeature_isolated):
    clean()
""",
    )
    result.assert_outcomes(passed=2)


def test_the_api_as_it_was_before_the_test_is_restored_after_it(
    pytester: pytest.Pytester,
) -> None:
    outer = provider_from_yaml(FLAGS)
    api.set_provider_and_wait(outer)
    api.set_provider_and_wait(NoOpProvider(), "other")
    hook = Hook()
    api.add_hooks([hook])
    context = EvaluationContext("outer")
    api.set_evaluation_context(context)
    propagator = ContextVarsTransactionContextPropagator()
    api.set_transaction_context_propagator(propagator)
    request = EvaluationContext("outer-request")
    api.set_transaction_context(request)
    shared = Shared()
    result = run(
        pytester,
        """
def test_it(modelflags_provider, shared):
    shared["inner"] = modelflags_provider(FLAGS, domain="other")
    assert api.get_hooks() == []
""",
        plugins=[shared],
    )
    result.assert_outcomes(passed=1)
    assert api.get_hooks() == [hook]
    assert api.get_evaluation_context() is context
    assert api.get_transaction_context() is request
    assert api.get_provider_metadata().name == "modelflags"
    assert api.get_provider_metadata("other").name == "No-op Provider"
    assert api.get_client().get_integer_value("temperature", 9) == 0  # outer still serves
    assert shared.objects["inner"].flags is not None


def test_the_inner_provider_is_shut_down_after_the_test(pytester: pytest.Pytester) -> None:
    shared = Shared()
    result = run(
        pytester,
        """
from modelflags import Evidence, MemoryTracker

def test_it(modelflags_provider, shared):
    shared["tracker"] = MemoryTracker()
    modelflags_provider(FLAGS, evidence=Evidence(shared["tracker"]))
""",
        plugins=[shared],
    )
    result.assert_outcomes(passed=1)
    assert shared.objects["tracker"].closed  # the provider's shutdown closed its evidence


def test_the_marker_forces_a_variation_for_everyone(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.modelflags_force("answer_route", "candidate")
def test_it(modelflags_provider):
    modelflags_provider(FLAGS)
    assert (route("a").variant, route("b").variant) == ("candidate", "candidate")
    assert route().value == {"modelRoute": "model_b"}
""",
        "--strict-markers",
    )
    result.assert_outcomes(passed=1)


def test_the_marker_forces_a_variation_for_one_unit_only(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.modelflags_force("answer_route", "candidate", unit="conv-7")
def test_it(modelflags_provider):
    modelflags_provider(FLAGS)
    forced, other = route("conv-7"), route("conv-8")
    assert (forced.variant, forced.reason) == ("candidate", "STATIC")
    assert forced.value == {"modelRoute": "model_b"}
    assert forced.flag_metadata["unitId"] == "conv-7"
    assert other.variant == "control"
""",
    )
    result.assert_outcomes(passed=1)


def test_the_closest_marker_wins(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
pytestmark = pytest.mark.modelflags_force("answer_route", "control")

@pytest.mark.modelflags_force("answer_route", "candidate")
def test_it(modelflags_provider):
    modelflags_provider(FLAGS)
    assert route().variant == "candidate"
""",
    )
    result.assert_outcomes(passed=1)


def test_the_marker_without_the_provider_fixture_is_a_clear_error(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.modelflags_force("answer_route", "candidate")
def test_it():
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*does not use that fixture*"])


def test_a_marker_with_the_wrong_arguments_says_how_to_call_it(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
@pytest.mark.modelflags_force("answer_route")
def test_it(modelflags_provider):
    modelflags_provider(FLAGS)
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*modelflags_force(flag_key, variation, unit=None)*"])


def test_force_variation_forces_one_unit_and_then_everyone(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_it(modelflags_provider, force_variation):
    modelflags_provider(FLAGS)
    force_variation("answer_route", "candidate", unit="conv-2")
    assert (route("conv-1").variant, route("conv-2").variant) == ("control", "candidate")
    force_variation("temperature", "high")
    assert api.get_client().get_float_value("temperature", 9.0) == 1.0
""",
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('force_variation("answer_rout", "candidate")', "*did you mean 'answer_route'*"),
        ('force_variation("answer_route", "candidat", unit="u")', "*did you mean 'candidate'*"),
    ],
)
def test_forcing_an_unknown_flag_or_variation_names_the_known_ones(
    pytester: pytest.Pytester, call: str, message: str
) -> None:
    result = run(
        pytester,
        f"""
def test_it(modelflags_provider, force_variation):
    modelflags_provider(FLAGS)
    {call}
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])


def test_forcing_is_undone_when_the_test_ends(pytester: pytest.Pytester) -> None:
    outer = provider_from_yaml(FLAGS)
    api.set_provider_and_wait(outer)
    result = run(
        pytester,
        """
def test_it(force_variation, shared):
    force_variation("answer_route", "candidate", provider=shared["provider"])
    force_variation("temperature", "high", unit="conv-1", provider=shared["provider"])
    assert route().variant == "candidate"
""",
        plugins=[Shared(provider=outer)],
    )
    result.assert_outcomes(passed=1)
    ctx = EvaluationContext(attributes={"conversationId": "conv-1"})
    assert api.get_client().get_object_details("answer_route", {}, ctx).variant == "control"
    assert "resolve_integer_details" not in vars(outer)


def test_force_variation_defaults_to_the_api_provider(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from modelflags.testing import provider_from_yaml

def test_it(force_variation):
    api.set_provider_and_wait(provider_from_yaml(FLAGS))
    force_variation("answer_route", "candidate")
    assert route().variant == "candidate"
    api.shutdown()
""",
    )
    result.assert_outcomes(passed=1)


def test_force_variation_without_a_modelflags_provider_says_what_to_do(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
def test_it(openfeature_isolated, force_variation):
    force_variation("answer_route", "candidate")
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no modelflags provider to force*"])


def test_recorded_events_gets_the_exposures_and_outcomes_of_the_test(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
from openfeature.track import TrackingEventDetails

@pytest.mark.modelflags_force("answer_route", "candidate", unit="conv-9")
def test_it(modelflags_provider, recorded_events):
    modelflags_provider(FLAGS)
    for unit in ("conv-8", "conv-9"):
        exposure = recorded_events.evidence.exposure(route(unit), {"conversationId": unit})
        exposure.record(latency_ms=4)
    ctx = EvaluationContext(attributes={"conversationId": "conv-9"})
    api.get_client().track("resolved", ctx, TrackingEventDetails(
        value=1, attributes={"flagKey": "answer_route"}))
    (exposure,) = recorded_events.exposures("answer_route", variation="candidate")
    assert exposure["unitId"] == "conv-9"
    assert len(recorded_events.exposures(unitId="conv-8")) == 1
    (outcome,) = recorded_events.outcomes("resolved")
    assert (outcome["unitId"], outcome["variation"]) == ("conv-9", "candidate")
    recorded_events.clear()
    assert recorded_events.events == []
""",
    )
    result.assert_outcomes(passed=1)
