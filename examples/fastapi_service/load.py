"""Send simulated support conversations through the running service, then read the experiment.

    python examples/fastapi_service/load.py [--url http://127.0.0.1:8000]
        [--conversations 400] [--concurrency 16] [--events events/fastapi_service.jsonl]
        [--flags flags/] [--seed 11] [--run-id ID]

Each conversation asks one question (``POST /support/answer``, with the conversation's
headers: its id, and the caller's account, plan and channel, drawn from a seeded mix in
which most callers are on a paid plan in chat, the flag's eligible segment). Four users in
five then give feedback (``POST /support/feedback``): resolved or not, a little more often
resolved with the candidate model, never after a failed answer.

The service records the evidence in the background, so once the last reply is in, this
waits until the events file holds the exposure of every answered conversation and every
outcome sent, then runs::

    modelflags report EVENTS --flag support_answer_model_route --flags FLAGS

Conversation ids are ``conv-<run id>-<n>``: the run id is new for each run (``--run-id``
fixes it), so a run adds new conversations to the experiment rather than repeating old ones.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from modelflags import read_events
from modelflags.cli import main as modelflags

__all__ = ["Conversation", "Tally", "conversations", "main"]

FLAG = "support_answer_model_route"
OUTCOME = "support_conversation_outcome"
ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = (
    "How do I rotate my API key?",
    "Where can I download last month's invoice?",
    "I forgot my password and the reset email never came.",
    "How do I add two seats to our team?",
    "Can I export all our conversations to CSV?",
    "Why was my card declined when upgrading?",
)
# How often a user calls a conversation resolved, by the model that answered.
RESOLVED = {"support_model_a": 0.70, "support_model_b": 0.72}
FEEDBACK_SHARE = 0.8
ANSWERED = (200, 502, 504)  # the handler ran, so the service recorded an exposure


@dataclass(frozen=True)
class Conversation:
    """One simulated conversation: its headers, its question, what its user will do."""

    headers: dict[str, str]
    question: str
    gives_feedback: bool
    draw: float  # compared with the answering model's resolution rate

    @property
    def unit(self) -> str:
        return self.headers["X-Conversation-Id"]


def conversations(n: int, seed: int, run_id: str) -> list[Conversation]:
    """``n`` conversations from a seeded mix of accounts, plans and channels."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        headers = {
            "X-Conversation-Id": f"conv-{run_id}-{i:05d}",
            "X-Account-Id": f"acct_{rng.randrange(60)}",  # acct_17 and acct_42: an incident
            "X-Plan": rng.choices(["free", "pro", "enterprise"], [1, 6, 3])[0],
            "X-Channel": rng.choices(["chat", "email"], [9, 1])[0],
        }
        question, feedback, draw = (
            rng.choice(QUESTIONS),
            rng.random() < FEEDBACK_SHARE,
            rng.random(),
        )
        out.append(Conversation(headers, question, feedback, draw))
    return out


@dataclass
class Tally:
    """What the service answered: replies by model and by status, feedback sent."""

    models: Counter[str]
    statuses: Counter[int]
    resolved: Counter[bool]

    @property
    def exposures(self) -> int:
        return sum(self.statuses[status] for status in ANSWERED)

    @property
    def outcomes(self) -> int:
        return sum(self.resolved.values())


async def converse(http: httpx.AsyncClient, conversation: Conversation, tally: Tally) -> None:
    """Ask the question, then give the feedback the user would."""
    reply = await http.post(
        "/support/answer", headers=conversation.headers, json={"question": conversation.question}
    )
    tally.statuses[reply.status_code] += 1
    model = reply.json().get("model") if reply.status_code == 200 else None
    if model is not None:
        tally.models[model] += 1
    if not conversation.gives_feedback:
        return
    resolved = model is not None and conversation.draw < RESOLVED.get(model, 0.5)
    sent = await http.post(
        "/support/feedback", headers=conversation.headers, json={"resolved": resolved}
    )
    if sent.status_code == 200:
        tally.resolved[resolved] += 1


async def send(url: str, batch: Sequence[Conversation], concurrency: int) -> Tally:
    """Run every conversation, ``concurrency`` at a time."""
    tally = Tally(Counter(), Counter(), Counter())
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(http: httpx.AsyncClient, conversation: Conversation) -> None:
        async with gate:
            await converse(http, conversation, tally)

    async with httpx.AsyncClient(base_url=url, timeout=120.0, limits=limits) as http:
        await asyncio.gather(*(one(http, conversation) for conversation in batch))
    return tally


def recorded(events: Path, prefix: str) -> tuple[int, int]:
    """(exposures, outcomes) of this run's conversations in the events file so far."""
    if not events.exists():
        return 0, 0
    exposures = outcomes = 0
    for event in read_events([events]):
        if str(event.get("unitId", "")).startswith(prefix):
            exposures += event.get("event") == "exposure"
            outcomes += event.get("event") == OUTCOME
    return exposures, outcomes


def wait_for_events(events: Path, prefix: str, tally: Tally, seconds: float) -> bool:
    """Wait until the service has written this run's events; False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        exposures, outcomes = recorded(events, prefix)
        if exposures >= tally.exposures and outcomes >= tally.outcomes:
            return True
        if time.monotonic() > deadline:
            print(
                f"load: after {seconds:g} s {events} holds {exposures} of {tally.exposures} "
                f"exposures and {outcomes} of {tally.outcomes} outcomes of this run: is the "
                "service writing there (MODELFLAGS_EVIDENCE)?",
                file=sys.stderr,
            )
            return False
        time.sleep(0.2)


def _shown(path: str) -> str:
    """``path`` as a reader would type it: relative to the working directory when inside it,
    a directory with its trailing slash."""
    resolved = Path(path).resolve()
    try:
        text = str(resolved.relative_to(Path.cwd()))
    except ValueError:
        text = path
    return f"{text.rstrip('/')}/" if resolved.is_dir() else text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running service")
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--events", default=str(ROOT / "events" / "fastapi_service.jsonl"))
    parser.add_argument("--flags", default=str(ROOT / "flags"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--run-id", default=None, help="default: a new one for each run")
    parser.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                        help="how long to wait for the events to be written")  # fmt: skip
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.concurrency < 1:
        parser.error("--conversations and --concurrency are counts of 1 or more")
    run_id = args.run_id or secrets.token_hex(3)
    batch = conversations(args.conversations, args.seed, run_id)
    started = time.monotonic()
    try:
        tally = asyncio.run(send(args.url, batch, args.concurrency))
    except httpx.TransportError as error:
        print(f"load: cannot talk to the service at {args.url} ({error!r}): is it running?",
              file=sys.stderr)  # fmt: skip
        return 1
    elapsed = time.monotonic() - started
    answered = ", ".join(f"{count} by {model}" for model, count in sorted(tally.models.items()))
    failed = sum(count for status, count in tally.statuses.items() if status != 200)
    print(f"{len(batch)} conversations (run {run_id}) in {elapsed:.1f} s: answered {answered}; "
          f"{failed} failed")  # fmt: skip
    print(f"feedback: {tally.outcomes} ({tally.resolved[True]} resolved)")
    if failed - tally.statuses[502] - tally.statuses[504]:
        print(f"unexpected statuses: {dict(tally.statuses)}", file=sys.stderr)
        return 1
    if not wait_for_events(Path(args.events), f"conv-{run_id}-", tally, args.wait):
        return 1
    report = ["report", _shown(args.events), "--flag", FLAG, "--flags", _shown(args.flags)]
    print(f"\n$ modelflags {' '.join(report)}\n", flush=True)
    return modelflags(report)


if __name__ == "__main__":
    sys.exit(main())
