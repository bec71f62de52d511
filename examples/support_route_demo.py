"""The main job, end to end: route simulated support conversations and record the evidence.

Loads the flag files in flags/, installs the modelflags provider in the OpenFeature API,
and for a stream of simulated conversations (keyed on the conversation id): evaluates
`support_answer_model_route` through the OpenFeature client, "calls" the chosen model
(simulated latency, cost, errors and timeouts; a timeout falls back to the `fallback`
route), records the exposure, and records the conversation's outcome through
`client.track`. Prints per-variation counts and reasons, and where the events went; then
reads the experiment with `modelflags report`: the verdict and the per-arm table on the
terminal, and the HTML page next to the events.

    python examples/support_route_demo.py [--conversations N] [--flags PATH] [--events PATH]
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails

from modelflags import Evidence, JsonlTracker, ModelFlagsProvider
from modelflags.cli import main as modelflags

FLAG = "support_answer_model_route"
DEFAULT_ROUTE = {"modelRoute": "support_model_a", "promptVersion": "support_v3"}
ROOT = Path(__file__).resolve().parent.parent

# Simulated models: mean latency (ms), cost per call, error rate, timeout rate, and how often
# a conversation ends resolved without escalation.
MODELS = {
    "support_model_a": {"latency": 900.0, "cost": 0.0040, "error": 0.010, "timeout": 0.020,
                        "resolved": 0.70},
    "support_model_b": {"latency": 650.0, "cost": 0.0025, "error": 0.012, "timeout": 0.030,
                        "resolved": 0.72},
}  # fmt: skip


class SimulatedTimeout(Exception):
    """The model did not answer in time."""


class SimulatedModelError(Exception):
    """The model answered with an error."""


def simulated_conversations(n: int, seed: int = 7) -> list[EvaluationContext]:
    """Conversations from a mix of plans, channels and accounts, some internal."""
    rng = random.Random(seed)
    contexts = []
    for i in range(n):
        email_domain = "example.com" if rng.random() < 0.02 else "customer.test"
        contexts.append(
            EvaluationContext(
                attributes={
                    "conversationId": f"conv-{i:06d}",
                    "accountId": f"acct_{rng.randrange(60)}",
                    "plan": rng.choices(["free", "pro", "enterprise"], [3, 5, 2])[0],
                    "channel": rng.choices(["chat", "email"], [4, 1])[0],
                    "email": f"user{rng.randrange(10_000)}@{email_domain}",
                }
            )
        )
    return contexts


def call_model(route: dict[str, Any], rng: random.Random) -> tuple[float, float]:
    """Simulate one model call: (latency in ms, cost), or raise a timeout or an error."""
    model = MODELS.get(str(route.get("modelRoute")), MODELS["support_model_a"])
    draw = rng.random()
    if draw < model["timeout"]:
        raise SimulatedTimeout
    if draw < model["timeout"] + model["error"]:
        raise SimulatedModelError
    return rng.gammavariate(4.0, model["latency"] / 4.0), model["cost"] * rng.uniform(0.6, 1.4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--flags", default=str(ROOT / "flags"))
    parser.add_argument("--events", default=str(ROOT / "events" / "support.jsonl"))
    args = parser.parse_args()

    events = Path(args.events)
    events.unlink(missing_ok=True)  # a fresh file for this run
    evidence = Evidence(JsonlTracker(events), context_attributes=["plan"])
    api.set_provider_and_wait(ModelFlagsProvider(args.flags, evidence=evidence))
    client = api.get_client()
    rng = random.Random(11)
    outcomes: Counter[tuple[str, str]] = Counter()
    fallbacks = errors = 0
    for ctx in simulated_conversations(args.conversations):
        route = client.get_object_details(FLAG, DEFAULT_ROUTE, ctx)
        outcomes[(str(route.variant), str(route.reason))] += 1
        try:
            with evidence.exposure(route, ctx) as exposure:
                try:
                    latency, cost = call_model(route.value, rng)  # type: ignore[arg-type]
                except SimulatedTimeout:
                    exposure.fallback("fallback", reason="timeout")
                    fallbacks += 1
                    latency, cost = call_model(DEFAULT_ROUTE, rng)
                exposure.record(latency_ms=latency, estimated_cost=cost)
        except (SimulatedTimeout, SimulatedModelError):
            errors += 1  # recorded as error: true on the exposure
            continue
        model = MODELS.get(str(route.value.get("modelRoute")), MODELS["support_model_a"])  # type: ignore[union-attr]
        resolved = rng.random() < model["resolved"]
        client.track(
            "support_conversation_outcome",
            ctx,
            TrackingEventDetails(
                value=1.0 if resolved else 0.0,
                attributes={"flagKey": FLAG, "resolvedWithoutEscalation": resolved},
            ),
        )
    api.shutdown()  # flushes and closes the evidence

    total = sum(outcomes.values())
    print(f"{FLAG}: {total} conversations\n")
    print(f"{'variation':<12}{'reason':<18}{'conversations':>14}{'share':>9}")
    for (variant, reason), count in sorted(outcomes.items()):
        print(f"{variant:<12}{reason:<18}{count:>14}{count / total:>9.1%}")
    split = {v: c for (v, r), c in outcomes.items() if r == "SPLIT"}
    in_split = sum(split.values())
    if in_split:
        shares = ", ".join(f"{v} {c / in_split:.1%}" for v, c in sorted(split.items()))
        print(f"\nsplit among {in_split} eligible conversations: {shares} (declared 90/10)")
    counters = evidence.counters
    print(
        f"\nevidence: {counters['delivered']} events written to {events} "
        f"({fallbacks} timeouts fell back, {errors} calls failed; "
        f"dropped {counters['dropped']}, failed {counters['failed']})"
    )

    # Read the experiment: the verdict and the arms here, the full page next to the events.
    html = events.with_suffix(".report.html")
    report = ["report", str(events), "--flag", FLAG, "--flags", args.flags]
    print(f"\n$ modelflags {' '.join(report)}\n", flush=True)
    modelflags(report)
    modelflags([*report, "--format", "html", "--output", str(html)])
    print(f"\nthe report as a page: {html}")


if __name__ == "__main__":
    main()
