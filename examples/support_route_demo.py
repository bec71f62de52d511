"""The main job, end to end: route simulated support conversations through OpenFeature.

Loads the flag files in flags/, installs the modelflags provider in the OpenFeature API,
evaluates `support_answer_model_route` for a stream of simulated conversations keyed on
the conversation id, and prints how many conversations got each variation and why.

    python examples/support_route_demo.py [--conversations N] [--flags PATH]
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from modelflags import ModelFlagsProvider

FLAG = "support_answer_model_route"
DEFAULT_ROUTE = {"modelRoute": "support_model_a", "promptVersion": "support_v3"}
ROOT = Path(__file__).resolve().parent.parent


def simulated_conversations(n: int, seed: int = 7) -> list[EvaluationContext]:
    """Conversations from a mix of plans, channels and accounts, some internal."""
    rng = random.Random(seed)
    contexts = []
    for i in range(n):
        account = f"acct_{rng.randrange(60)}"
        email_domain = "example.com" if rng.random() < 0.02 else "customer.test"
        contexts.append(
            EvaluationContext(
                attributes={
                    "conversationId": f"conv-{i:06d}",
                    "accountId": account,
                    "plan": rng.choices(["free", "pro", "enterprise"], [3, 5, 2])[0],
                    "channel": rng.choices(["chat", "email"], [4, 1])[0],
                    "email": f"user{rng.randrange(10_000)}@{email_domain}",
                }
            )
        )
    return contexts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--flags", default=str(ROOT / "flags"))
    args = parser.parse_args()

    api.set_provider_and_wait(ModelFlagsProvider(args.flags))
    client = api.get_client()
    outcomes: Counter[tuple[str, str]] = Counter()
    routes: Counter[str] = Counter()
    for ctx in simulated_conversations(args.conversations):
        details = client.get_object_details(FLAG, DEFAULT_ROUTE, ctx)
        outcomes[(str(details.variant), str(details.reason))] += 1
        routes[str(details.value["modelRoute"])] += 1  # type: ignore[call-overload,index]
    api.shutdown()

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
    print("model routes called:", dict(sorted(routes.items())))


if __name__ == "__main__":
    main()
