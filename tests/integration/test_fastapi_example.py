"""The FastAPI example (examples/fastapi_service/) end to end, every part for real.

The model server and the service run as their README runs them, each a process on a free
loopback port: the service talks to the model server through the ``openai`` client, the
model server injects 500s and hangs (seeded). ``load.py`` sends 300 conversations and their
feedback, waits for the evidence and runs ``modelflags report``; then the service is
stopped with Ctrl-C (SIGINT), as a reader stops it. The tests read what is left: the load's
output, the events file, the model server's counts, and the JSON report of the events.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from modelflags import read_events
from modelflags.loader.prices import load_prices

pytest.importorskip("fastapi")
pytest.importorskip("openai")
pytest.importorskip("uvicorn")

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fastapi_service"
FLAG = "support_answer_model_route"
OUTCOME = "support_conversation_outcome"
CONVERSATIONS = 300
RUN_ID = "t"
SEED = 11
MODEL_TIMEOUT = 1.0  # seconds; the model server hangs for 3
ACTIONS = ("ROLLBACK", "INVESTIGATE", "PROMOTE", "NO DIFFERENCE", "CONTINUE")


def example_module(name: str) -> ModuleType:
    """A module of the example, imported from its file."""
    spec = importlib.util.spec_from_file_location(f"fastapi_example_{name}", EXAMPLE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


model_server = example_module("model_server")
load = example_module("load")
app = example_module("app")


@dataclass(frozen=True)
class Run:
    """What one run of the example left behind."""

    load: subprocess.CompletedProcess[str]
    events: list[dict[str, Any]]
    events_file: Path
    stats: dict[str, dict[str, int]]
    service_exit: int
    service_stderr: str
    probes: dict[str, httpx.Response]
    readme: list[httpx.Response]

    def exposures(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == "exposure"]

    def outcomes(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == OUTCOME]


def start(args: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen[str], str]:
    """Start a process of the example, its stderr to ``log``; return it and the URL its first
    line names."""
    with log.open("w") as stderr:  # a file, not a pipe nobody reads: it cannot fill up
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()  # empty when the process died first
    if not line:
        process.wait(10)
        pytest.fail(f"{args[0]} did not start:\n{log.read_text()}")
    return process, line.split(" on ", 1)[1].split()[0]


def stop(process: subprocess.Popen[str], sig: int) -> int:
    """Signal the process; its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def wait_until_serving(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, "the service exited while starting"
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the service did not start in 20 s"
        time.sleep(0.1)


@dataclass(frozen=True)
class Curl:
    """A request the README shows with curl, and the reply it shows for it."""

    path: str
    headers: dict[str, str]
    body: Any
    shown: Any


def readme_curls() -> list[Curl]:
    """The curl commands of the README's hand-run conversation, with their shown replies."""
    readme = (EXAMPLE / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if "curl" in b]
    curls = []
    for command in re.split(r"^(?=curl )", block, flags=re.M)[1:]:
        code = "".join(line for line in command.splitlines(True) if not line.startswith("#"))
        shown = "".join(line[2:] for line in command.splitlines(True) if line.startswith("# "))
        headers = dict(h.split(": ", 1) for h in re.findall(r"-H '([^']+)'", code))
        (body,) = re.findall(r"-d '([^']+)'", code)
        path = re.findall(r"localhost:8000(/\S+)", code)[0]
        curls.append(Curl(path, headers, json.loads(body), json.loads(shown)))
    return curls


def shown_as(shown: Any, actual: Any) -> bool:
    """A shown JSON value against the real one; ``...`` in a string stands for any text."""
    if isinstance(shown, dict):
        return (
            isinstance(actual, dict)
            and list(shown) == list(actual)
            and all(shown_as(value, actual[key]) for key, value in shown.items())
        )
    if isinstance(shown, str) and "..." in shown and isinstance(actual, str):
        head, tail = shown.split("...", 1)
        return actual.startswith(head) and actual.endswith(tail)
    return type(shown) is type(actual) and shown == actual


def probe(url: str) -> dict[str, httpx.Response]:
    """Requests a client gets wrong, and a last burst of answers sent just before Ctrl-C."""
    headers = {"X-Conversation-Id": "conv-probe", "X-Plan": "pro", "X-Channel": "chat"}
    with httpx.Client(base_url=url, timeout=30) as http:
        probes = {
            "no unit": http.post("/support/answer", json={"question": "hi"}),
            "unit too long": http.post(
                "/support/answer",
                json={"question": "hi"},
                headers={**headers, "X-Conversation-Id": "x" * 1025},
            ),
            "empty question": http.post("/support/answer", json={"question": ""}, headers=headers),
            "no resolved": http.post("/support/feedback", json={}, headers=headers),
        }
        for i in range(5):
            last = {**headers, "X-Conversation-Id": f"conv-last-{i}"}
            probes[f"last {i}"] = http.post(
                "/support/answer", json={"question": "How do I rotate my API key?"}, headers=last
            )
    return probes


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("fastapi_example")
    events = work / "events" / "fastapi_service.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELFLAGS_", "OPENAI_"))}
    server, models_url = start(
        [str(EXAMPLE / "model_server.py"), "--port", "0", "--seed", "7",
         "--latency-scale", "0.02", "--hang", "3",
         "--error-rate", "support_model_a=0.03", "--error-rate", "support_model_b=0.15",
         "--timeout-rate", "support_model_a=0.02", "--timeout-rate", "support_model_b=0.08"],
        env, work / "model_server.err",
    )  # fmt: skip
    try:
        service_env = {**env, "MODEL_BASE_URL": models_url, "MODEL_TIMEOUT": str(MODEL_TIMEOUT),
                       "MODELFLAGS_EVIDENCE": f"jsonl:{events}"}  # fmt: skip
        service, url = start(
            [str(EXAMPLE / "app.py"), "--port", "0"], service_env, work / "service.err"
        )
        try:
            wait_until_serving(url, service)
            # first: the first draws of seed 7 answer, so these never fail
            with httpx.Client(base_url=url, timeout=30) as http:
                readme = [http.post(c.path, headers=c.headers, json=c.body) for c in readme_curls()]
            result = subprocess.run(
                [sys.executable, str(EXAMPLE / "load.py"), "--url", url,
                 "--conversations", str(CONVERSATIONS), "--concurrency", "16",
                 "--run-id", RUN_ID, "--seed", str(SEED), "--events", str(events),
                 "--flags", "flags/"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            probes = probe(url)
        finally:
            service_exit = stop(service, signal.SIGINT)
        stats = httpx.get(models_url.removesuffix("/v1") + "/stats", timeout=5).json()
    finally:
        stop(server, signal.SIGTERM)
    service_stderr = (work / "service.err").read_text()
    yield Run(result, list(read_events([events])), events, stats, service_exit, service_stderr,
              probes, readme)  # fmt: skip


def test_load_sends_the_conversations_and_reports_the_arms(run: Run) -> None:
    assert run.load.returncode == 0, run.load.stderr
    output = run.load.stdout
    assert output.startswith(f"{CONVERSATIONS} conversations (run {RUN_ID})")
    command, report = output.split("\n$ modelflags ", 1)[1].split("\n\n", 1)
    assert command == f"report {run.events_file} --flag {FLAG} --flags flags/"
    assert report.startswith(ACTIONS), report
    arms = report.split("\nArms\n", 1)[1].split("\n\n", 1)[0]
    assert "control" in arms and "candidate" in arms


def test_every_answered_conversation_is_one_exposure_with_its_tokens_and_cost(run: Run) -> None:
    exposures = [e for e in run.exposures() if e["unitId"].startswith(f"conv-{RUN_ID}-")]
    assert len(exposures) == len({e["unitId"] for e in exposures}) == CONVERSATIONS
    questions = {c.unit: c.question for c in load.conversations(CONVERSATIONS, SEED, RUN_ID)}
    prices = load_prices(ROOT / "examples" / "prices.yaml")
    answered = [e for e in exposures if not e["error"]]
    assert len(answered) > 0.9 * CONVERSATIONS
    for exposure in answered:  # the messages were built for the route that answered
        messages = app.support_messages(questions[exposure["unitId"]])(exposure)
        assert exposure["promptVersion"] in app.SYSTEM_PROMPTS
        assert exposure["promptTokens"] == model_server.prompt_tokens(messages)
        assert exposure["completionTokens"] > 0
        cost = prices.cost(exposure["modelRoute"], exposure["promptTokens"],
                           exposure["completionTokens"])  # fmt: skip
        assert cost is not None and cost > 0
        assert exposure["estimatedCost"] == pytest.approx(cost, rel=1e-12)
        assert exposure["latencyMs"] > 0
        assert exposure["attributes"]["plan"] in {"free", "pro", "enterprise"}
    assert {e["modelRoute"] for e in answered} == {"support_model_a", "support_model_b"}


def test_injected_failures_fall_back_as_often_as_the_model_server_failed(run: Run) -> None:
    exposures = run.exposures()
    reasons = Counter(e["fallbackReason"] for e in exposures if e["fallbackUsed"])
    errors = Counter(e["errorType"] for e in exposures if e["error"])
    served = {
        kind: sum(model[kind] for model in run.stats.values()) for kind in ("errors", "hangs")
    }
    assert reasons["server_error"] >= 1 and reasons["timeout"] >= 1, reasons
    # each failure the model server served is one fallback, or one failed call recorded
    assert served["errors"] == reasons["server_error"] + errors["InternalServerError"]
    assert served["hangs"] == reasons["timeout"] + errors["APITimeoutError"]
    for exposure in (e for e in exposures if e["fallbackUsed"]):
        assert exposure["variation"] == "fallback"
        assert exposure["assignedVariation"] in {"control", "candidate"}
        assert (exposure["modelRoute"], exposure["retrievalProfile"]) == (
            "support_model_a", "safe_fallback",
        )  # fmt: skip
        if exposure["fallbackReason"] == "timeout":
            assert exposure["latencyMs"] >= MODEL_TIMEOUT * 1000


def test_feedback_outcomes_join_the_exposures_of_their_conversations(run: Run) -> None:
    feedback = int(run.load.stdout.split("\nfeedback: ", 1)[1].split()[0])
    outcomes = [o for o in run.outcomes() if o["unitId"].startswith(f"conv-{RUN_ID}-")]
    assert len(outcomes) == feedback > 0.6 * CONVERSATIONS
    exposures = {e["unitId"]: e for e in run.exposures()}
    for outcome in outcomes:
        exposure = exposures[outcome["unitId"]]
        assert outcome["flagKey"] == FLAG
        assert outcome["experimentKey"] == exposure["experimentKey"]
        assert outcome["variation"] == exposure["assignedVariation"]
        resolved = outcome["metrics"]["resolvedWithoutEscalation"]
        assert outcome["value"] == (1.0 if resolved else 0.0)
        if exposure["error"]:
            assert resolved is False  # the simulated user after a failed answer


def test_the_report_reads_the_arms_and_their_outcomes_from_the_events(run: Run) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelflags", "report", str(run.events_file), "--flag", FLAG,
         "--flags", "flags/", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    randomised = [e for e in run.exposures() if e["inExperiment"]]
    units = Counter(e["assignedVariation"] for e in randomised)
    arms = {arm["variation"]: arm for arm in report["arms"]}
    assert set(arms) == {"control", "candidate"}
    assert {name: arm["units"] for name, arm in arms.items()} == dict(units)
    with_outcome = {o["unitId"] for o in run.outcomes()}
    for name, arm in arms.items():
        mine = [e for e in randomised if e["assignedVariation"] == name]
        coverage = sum(e["unitId"] in with_outcome for e in mine) / len(mine)
        assert report["health"]["arms"][name]["outcomeCoverage"] == pytest.approx(coverage)
        fallbacks = sum(e["fallbackUsed"] for e in mine) / len(mine)
        assert arm["fallbackRate"] == pytest.approx(fallbacks)
    population = report["population"]
    assert population["orphanOutcomes"] == population["variationMismatch"] == 0
    primary = [c for c in report["comparisons"] if c["primary"]]
    assert [c["metric"] for c in primary] == ["resolvedWithoutEscalation"]


def test_ctrl_c_stops_the_service_cleanly_with_its_last_events_written(run: Run) -> None:
    assert run.service_exit == 0, run.service_stderr
    assert "Traceback" not in run.service_stderr
    last = [run.probes[f"last {i}"] for i in range(5)]
    assert {r.status_code for r in last} <= {200, 502, 504}  # a failed call is recorded too
    units = {e["unitId"] for e in run.exposures()}
    assert {f"conv-last-{i}" for i in range(5)} <= units


def test_an_answer_says_the_variation_its_exposure_recorded_and_whether_it_fell_back(
    run: Run,
) -> None:
    exposures = {e["unitId"]: e for e in run.exposures()}
    answers = [run.probes[f"last {i}"] for i in range(5)] + run.readme[:1]
    replies = [r.json() for r in answers if r.status_code == 200]
    assert replies, [r.status_code for r in answers]
    for reply in replies:
        exposure = exposures[reply["conversationId"]]
        assert (reply["servedVariation"], reply["fallbackUsed"]) == (
            exposure["variation"], exposure["fallbackUsed"],
        )  # fmt: skip
        assert reply["model"] == exposure["modelRoute"]
        assert exposure["attributes"]["plan"] == "pro"  # from the middleware's context


def test_requests_without_a_usable_unit_or_body_are_refused(run: Run) -> None:
    statuses = {
        name: r.status_code for name, r in run.probes.items() if not name.startswith("last")
    }
    assert statuses == {"no unit": 422, "unit too long": 400, "empty question": 422,
                        "no resolved": 422}  # fmt: skip
    assert "X-Conversation-Id" in run.probes["unit too long"].json()["detail"]
    units = {e["unitId"] for e in run.events}
    assert "conv-probe" not in units  # a refused request records nothing


def test_the_readme_shows_what_the_service_answers_its_conversation(run: Run) -> None:
    curls = readme_curls()
    assert [c.path for c in curls] == ["/support/answer", "/support/feedback"]
    for curl, response in zip(curls, run.readme, strict=True):
        assert response.status_code == 200, response.text
        assert shown_as(curl.shown, response.json()), (curl.shown, response.json())


def sh_commands(page: Path) -> list[list[str]]:
    """The words of each command line in the page's ``sh`` blocks, comments left out."""
    blocks = re.findall(r"```sh\n(.*?)```", page.read_text(), re.S)
    return [line.split("#")[0].split() for block in blocks for line in block.splitlines()]


def test_the_readme_and_the_guide_run_the_three_scripts_this_test_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands = sh_commands(EXAMPLE / "README.md")
    scripts = [[".venv/bin/python", f"examples/fastapi_service/{script}"]
               for script in ("model_server.py", "app.py", "load.py")]  # fmt: skip
    assert all(script in commands for script in scripts)
    guide = sh_commands(ROOT / "docs" / "integrations.md")
    assert all(script in guide for script in scripts)
    report = (
        f".venv/bin/modelflags report events/fastapi_service.jsonl --flag {FLAG} --flags flags/"
    )
    assert report.split() in commands
    monkeypatch.chdir(ROOT)  # load.py names its default files as the README does
    defaults = [str(ROOT / "events" / "fastapi_service.jsonl"), str(ROOT / "flags")]
    words = report.split()
    assert [load._shown(path) for path in defaults] == [words[2], words[-1]]


@pytest.fixture
def models() -> Iterator[Any]:
    """The example's model server in this process, instant and never failing."""
    quiet = {name: model_server.ModelProfile(1.0, profile.sentences)
             for name, profile in model_server.MODELS.items()}  # fmt: skip
    with model_server.ModelServer(port=0, latency_scale=0, models=quiet) as server:
        yield server


def test_the_model_server_streams_the_answer_and_its_usage_as_openai_does(models: Any) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=models.base_url, api_key="test", max_retries=0)
    messages = [{"role": "user", "content": "Where can I download my invoice?"}]
    whole = client.chat.completions.create(model="support_model_b", messages=messages)
    stream = client.chat.completions.create(
        model="support_model_b", messages=messages, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert text.startswith("Your invoices are under Billing")
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    # 32 characters: 8 tokens; 4 more for the message, 3 for the reply
    assert whole.usage is not None and whole.usage.prompt_tokens == 8 + 4 + 3


def test_the_model_server_refuses_an_unknown_model_as_openai_does(models: Any) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=models.base_url, api_key="test", max_retries=0)
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(
            model="support_model_c", messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.code == "model_not_found"
    assert models.stats()["support_model_a"]["requests"] == 0


def test_the_model_server_draws_the_same_fates_for_the_same_seed() -> None:
    profile = model_server.ModelProfile(100.0, 1, error_rate=0.2, timeout_rate=0.2)

    def draws(seed: int) -> list[tuple[str, float]]:
        model = model_server._Model("support_model_a", profile, seed)
        return [model.draw(1.0) for _ in range(50)]

    assert draws(7) == draws(7) != draws(8)
    assert {fate for fate, _ in draws(7)} == {"answer", "error", "hang"}
