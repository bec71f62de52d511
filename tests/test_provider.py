"""The provider through the real OpenFeature client: values, reasons, errors, metadata."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus

from modelflags import FlagFileError, ModelFlagsProvider, SourceError
from modelflags.evidence.lookups import live_lookups
from modelflags.store import Reload

ROUTE = "support_answer_model_route"
DEFAULT = {"modelRoute": "caller_default"}


def paid_chat(conversation: str, **extra: object) -> EvaluationContext:
    attributes = {"conversationId": conversation, "plan": "pro", "channel": "chat", **extra}
    return EvaluationContext(attributes=attributes)  # type: ignore[arg-type]


@pytest.fixture
def client(repo_flags: Path) -> OpenFeatureClient:
    api.set_provider_and_wait(ModelFlagsProvider(repo_flags, poll_interval=0))
    return api.get_client()


def test_provider_is_ready_after_set_provider_and_wait(client: OpenFeatureClient) -> None:
    assert client.get_provider_status() == ProviderStatus.READY


def test_split_serves_a_declared_variation_with_its_route(client: OpenFeatureClient) -> None:
    details = client.get_object_details(ROUTE, DEFAULT, paid_chat("conv-1"))
    assert details.reason == Reason.SPLIT
    assert details.variant in {"control", "candidate"}
    assert details.value["modelRoute"] in {"support_model_a", "support_model_b"}
    assert details.error_code is None


def test_split_shares_follow_the_declared_weights(client: OpenFeatureClient) -> None:
    variants = [
        client.get_object_details(ROUTE, DEFAULT, paid_chat(f"conv-{i}")).variant
        for i in range(4000)
    ]
    share = variants.count("candidate") / len(variants)
    assert 0.085 < share < 0.115  # 10% declared; 4000 units: sd ~0.0047


def test_a_unit_keeps_its_arm(client: OpenFeatureClient) -> None:
    def arms() -> list[str | None]:
        return [client.get_object_details(ROUTE, DEFAULT, paid_chat(f"c{i}")).variant
                for i in range(200)]  # fmt: skip

    assert arms() == arms()


def test_flag_metadata_carries_the_join_keys(client: OpenFeatureClient) -> None:
    details = client.get_object_details(ROUTE, DEFAULT, paid_chat("conv-9"))
    meta = details.flag_metadata
    assert meta["experimentKey"] == "support-route-2026-11"
    assert meta["assignmentUnit"] == "conversation"
    assert meta["unitId"] == "conv-9"
    assert meta["rule"] == "split"
    assert meta["ticket"] == "AI-123"
    assert isinstance(meta["configVersion"], str) and len(meta["configVersion"]) == 12
    assert all(isinstance(v, str | int | float | bool) for v in meta.values())


def test_excluded_segment_gets_the_exclusion_variation(client: OpenFeatureClient) -> None:
    details = client.get_object_details(ROUTE, DEFAULT, paid_chat("c1", accountId="acct_42"))
    assert (details.variant, details.reason) == ("fallback", Reason.TARGETING_MATCH)
    assert details.flag_metadata["rule"] == "exclusions"
    assert details.value["retrievalProfile"] == "safe_fallback"


def test_first_matching_rule_serves_its_variation(client: OpenFeatureClient) -> None:
    ctx = paid_chat("c1", email="dev@example.com")
    details = client.get_object_details(ROUTE, DEFAULT, ctx)
    assert (details.variant, details.reason) == ("candidate", Reason.TARGETING_MATCH)
    assert details.flag_metadata["rule"] == "internal_traffic"


def test_ineligible_unit_gets_the_default_variation(client: OpenFeatureClient) -> None:
    ctx = EvaluationContext(attributes={"conversationId": "c1", "plan": "free", "channel": "chat"})
    details = client.get_object_details(ROUTE, DEFAULT, ctx)
    assert (details.variant, details.reason) == ("control", Reason.DEFAULT)
    assert details.flag_metadata["rule"] == "not-eligible"


def test_missing_unit_id_is_an_error_with_the_callers_default(client: OpenFeatureClient) -> None:
    ctx = EvaluationContext(targeting_key="ignored", attributes={"plan": "pro", "channel": "chat"})
    details = client.get_object_details(ROUTE, DEFAULT, ctx)
    assert details.error_code == ErrorCode.TARGETING_KEY_MISSING
    assert details.reason == Reason.ERROR
    assert details.value == DEFAULT
    assert "conversationId" in (details.error_message or "")


@pytest.mark.parametrize("bad", [["c1"], {"id": "c1"}, 1.5, True])
def test_unit_id_of_the_wrong_type_is_invalid_context(
    client: OpenFeatureClient, bad: object
) -> None:
    details = client.get_object_details(ROUTE, DEFAULT, paid_chat(bad))  # type: ignore[arg-type]
    assert details.error_code == ErrorCode.INVALID_CONTEXT
    assert details.value == DEFAULT


def test_integer_unit_id_lands_where_its_decimal_string_does(client: OpenFeatureClient) -> None:
    for n in range(300):
        as_int = client.get_object_details(ROUTE, DEFAULT, paid_chat(n))  # type: ignore[arg-type]
        as_str = client.get_object_details(ROUTE, DEFAULT, paid_chat(str(n)))
        assert (as_int.variant, as_int.flag_metadata["unitId"]) == (as_str.variant, str(n))


def test_disabled_flag_serves_its_default_with_reason_disabled(client: OpenFeatureClient) -> None:
    details = client.get_float_details("answer_temperature", 1.0, EvaluationContext("u1"))
    assert (details.value, details.variant, details.reason) == (0.2, "cool", Reason.DISABLED)


def test_a_flag_that_is_off_still_names_the_unit(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(
        "version: 1\nflags:\n  route:\n    state: off\n    default: a\n"
        "    variations: {a: 1, b: 2}\n    assignment: {unit: conversation, key: conversationId}\n"
        "    split: {a: 1, b: 1}\n"
    )
    provider = ModelFlagsProvider(path, poll_interval=0)
    api.set_provider_and_wait(provider)
    ctx = EvaluationContext(attributes={"conversationId": "conv-5"})
    details = api.get_client().get_integer_details("route", 0, ctx)
    assert (details.reason, details.flag_metadata["rule"]) == (Reason.DISABLED, "off")
    assert details.flag_metadata["unitId"] == "conv-5"  # its evidence still joins the unit
    assert provider.evaluate_for_evidence("route", ctx).unit_id == "conv-5"  # type: ignore[union-attr]


def test_a_flag_that_is_off_without_the_unit_names_none(client: OpenFeatureClient) -> None:
    details = client.get_float_details("answer_temperature", 1.0, EvaluationContext())
    assert details.reason == Reason.DISABLED
    assert "unitId" not in details.flag_metadata


def test_initialized_provider_is_a_live_flag_lookup_until_shutdown(repo_flags: Path) -> None:
    provider = ModelFlagsProvider(repo_flags, poll_interval=0)
    assert provider not in live_lookups()
    api.set_provider_and_wait(provider)
    assert provider in live_lookups()
    api.shutdown()
    assert provider not in live_lookups()


def test_unknown_flag_is_flag_not_found(client: OpenFeatureClient) -> None:
    details = client.get_string_details("no_such_flag", "fallback", EvaluationContext("u1"))
    assert details.error_code == ErrorCode.FLAG_NOT_FOUND
    assert details.value == "fallback"


@pytest.mark.parametrize(
    ("method", "default"),
    [("get_boolean_details", False), ("get_string_details", "x"), ("get_integer_details", 3),
     ("get_float_details", 0.5)],
)  # fmt: skip
def test_wrong_type_is_type_mismatch_with_the_callers_default(
    client: OpenFeatureClient, method: str, default: object
) -> None:
    details = getattr(client, method)(ROUTE, default, paid_chat("c1"))
    assert details.error_code == ErrorCode.TYPE_MISMATCH
    assert details.value == default


def test_all_five_typed_resolvers_serve_their_type(client: OpenFeatureClient) -> None:
    user = EvaluationContext("user-1", {"plan": "enterprise", "accountId": "acct_3"})
    assert client.get_boolean_details("summarizer_streaming", False, user).value in {True, False}
    assert client.get_string_value("summarizer_model", "x", user) == "summarizer_large_v1"
    assert client.get_integer_value("reranker_top_k", 0, user) in {8, 12}
    assert isinstance(client.get_float_value("answer_temperature", 1.0, user), float)
    assert isinstance(client.get_object_value(ROUTE, DEFAULT, paid_chat("c1")), dict)


def test_object_values_are_fresh_copies(client: OpenFeatureClient) -> None:
    ctx = paid_chat("c1", accountId="acct_42")
    first = client.get_object_value(ROUTE, DEFAULT, ctx)
    first["modelRoute"] = "mutated"
    assert client.get_object_value(ROUTE, DEFAULT, ctx)["modelRoute"] == "support_model_a"


def test_get_metadata_returns_one_shared_object() -> None:
    provider = ModelFlagsProvider("flags/", poll_interval=0)
    assert provider.get_metadata() is provider.get_metadata()
    assert provider.get_metadata().name == "modelflags"


@pytest.mark.parametrize(
    "attributes",
    [
        {"conversationId": "x" * 1024, "email": "y" * 1_000_000, "plan": "pro", "channel": "chat"},
        {"conversationId": "c1", "plan": None, "channel": ["chat"], "email": 42},
        {"conversationId": "c1", "plan": {"nested": {"deep": [1, {"x": None}]}}, "email": b"x"},
        {"conversationId": "ünïcødé-☃", "accountId": 17, "plan": "pro", "channel": "chat"},
    ],
)
def test_odd_contexts_never_raise(client: OpenFeatureClient, attributes: dict[str, object]) -> None:
    details = client.get_object_details(ROUTE, DEFAULT, EvaluationContext(attributes=attributes))  # type: ignore[arg-type]
    assert details.error_code is None
    assert details.variant in {"control", "candidate", "fallback"}


def test_a_megabyte_unit_id_is_an_invalid_context_with_the_default(
    client: OpenFeatureClient,
) -> None:
    ctx = EvaluationContext(attributes={"conversationId": "x" * 1_000_000, "plan": "pro"})
    details = client.get_object_details(ROUTE, DEFAULT, ctx)
    assert (details.error_code, details.value) == ("INVALID_CONTEXT", DEFAULT)


def test_no_context_at_all_is_reported_not_raised(client: OpenFeatureClient) -> None:
    details = client.get_object_details(ROUTE, DEFAULT)
    assert details.error_code == ErrorCode.TARGETING_KEY_MISSING


def test_invalid_source_fails_initialization_with_the_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "flags.yaml"
    bad.write_text("version: 1\nflags:\n  f:\n    default: a\n    variations: {b: 1}\n")
    with pytest.raises(FlagFileError) as caught:
        api.set_provider_and_wait(ModelFlagsProvider(bad, poll_interval=0))
    assert f"{bad}:4:14: [unknown-variation]" in str(caught.value)
    assert api.get_client().get_provider_status() == ProviderStatus.ERROR


def test_concurrent_evaluations_agree_with_serial_ones(client: OpenFeatureClient) -> None:
    contexts = [paid_chat(f"conv-{i}") for i in range(500)]
    expected = [client.get_object_details(ROUTE, DEFAULT, c).variant for c in contexts]
    mismatches: list[int] = []

    def work() -> None:
        for _ in range(4):
            for i, ctx in enumerate(contexts):
                if client.get_object_details(ROUTE, DEFAULT, ctx).variant != expected[i]:
                    mismatches.append(i)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mismatches == []


# -- configVersion: the flag content and the names relative to the source -------------------


def config_version(source: object) -> str:
    provider = ModelFlagsProvider(source, poll_interval=0)  # type: ignore[arg-type]
    api.set_provider_and_wait(provider)
    meta = api.get_client().get_object_details(ROUTE, DEFAULT, paid_chat("c1")).flag_metadata
    api.shutdown()
    return str(meta["configVersion"])


def copy_flags(repo_flags: Path, to: Path) -> Path:
    to.mkdir(parents=True)
    for path in sorted(repo_flags.glob("*.yaml")):
        (to / path.name).write_bytes(path.read_bytes())
    return to


def test_config_version_is_the_documented_hash_of_names_and_contents(repo_flags: Path) -> None:
    expected = hashlib.sha256()
    for path in sorted(repo_flags.rglob("*.y*ml")):
        expected.update(path.relative_to(repo_flags).as_posix().encode() + b"\0")
        expected.update(hashlib.sha256(path.read_bytes()).digest())
    assert config_version(repo_flags) == expected.hexdigest()[:12]


def test_replicas_mounting_the_same_files_at_different_paths_agree_on_config_version(
    repo_flags: Path, tmp_path: Path
) -> None:
    here = copy_flags(repo_flags, tmp_path / "srv" / "flags")
    there = copy_flags(repo_flags, tmp_path / "etc" / "modelflags" / "config")
    assert config_version(here) == config_version(there) == config_version(repo_flags)


def test_one_flag_file_at_two_paths_has_one_config_version(tmp_path: Path) -> None:
    text = "version: 1\nflags:\n  f:\n    default: a\n    variations: {a: 1}\n"
    versions = set()
    for path in (tmp_path / "a" / "flags.yaml", tmp_path / "b" / "other.yml"):
        path.parent.mkdir()
        path.write_text(text)
        api.set_provider_and_wait(ModelFlagsProvider(path, poll_interval=0))
        versions.add(api.get_client().get_integer_details("f", 0).flag_metadata["configVersion"])
        api.shutdown()
    assert len(versions) == 1


def test_renaming_a_file_in_a_directory_changes_the_config_version(
    repo_flags: Path, tmp_path: Path
) -> None:
    folder = copy_flags(repo_flags, tmp_path / "flags")
    before = config_version(folder)
    first = sorted(folder.iterdir())[0]
    first.rename(folder / f"renamed-{first.name}")
    assert config_version(folder) != before


# -- reload reports in order -----------------------------------------------------------------


def test_a_reload_report_older_than_one_acted_on_changes_no_status(repo_flags: Path) -> None:
    provider = ModelFlagsProvider(repo_flags, poll_interval=0)
    api.set_provider_and_wait(provider)
    client = api.get_client()
    stale = Reload(error=SourceError("flags: gone"), sequence=5, notify=True)
    provider._on_reload(Reload(sequence=6))  # the newer reload: nothing to report
    provider._on_reload(stale)  # arrives late (a poller that read before the manual reload)
    assert client.get_provider_status() == ProviderStatus.READY
    provider._on_reload(Reload(error=SourceError("flags: gone"), sequence=7, notify=True))
    assert client.get_provider_status() == ProviderStatus.STALE


def test_a_late_reload_report_still_names_the_flags_it_changed(repo_flags: Path) -> None:
    provider = ModelFlagsProvider(repo_flags, poll_interval=0)
    api.set_provider_and_wait(provider)
    client = api.get_client()
    changed: list[list[str]] = []
    client.add_handler(
        ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
        lambda details: changed.append(list(details.flags_changed or [])),
    )
    provider._on_reload(Reload(error=SourceError("flags: gone"), sequence=6, notify=True))
    provider._on_reload(Reload(loaded=True, changed=("f",), sequence=5, notify=True))
    deadline = time.monotonic() + 5  # handlers run on OpenFeature's executor thread
    while not changed and time.monotonic() < deadline:
        time.sleep(0.005)
    assert changed == [["f"]]
    assert client.get_provider_status() == ProviderStatus.STALE
