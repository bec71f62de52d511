"""The reference flag and the contexts every peer benchmark evaluates.

One flag, expressed in each SDK's own format by its ``bench_<sdk>.py``: three object
variations; one rule, ``accountId`` in three excluded accounts -> ``fallback``; everyone else
split 90/10 between ``control`` and ``candidate`` by a hash of the targeting key (the
conversation id). The default variation is ``control``.

The contexts come from a seeded generator, so every script and every run evaluates the same
10,000 conversations; ``benchmarks/bench_evaluation.py`` imports the flag and the generator from
here too. Standard library only: this module is imported in every SDK's virtual environment.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = [
    "ACCOUNTS",
    "CANDIDATE",
    "CANDIDATE_SHARE_RANGE",
    "CONTROL",
    "DEFAULT_VARIATION",
    "EXCLUDED_ACCOUNTS",
    "FALLBACK",
    "FLAG_KEY",
    "LOCALES",
    "MODELFLAGS_YAML",
    "SEED",
    "SPLIT_PERCENT",
    "VARIATIONS",
    "make_contexts",
    "variation_of_value",
]

FLAG_KEY = "support_answer_model_route"
CONTROL: dict[str, str] = {"modelRoute": "model_a", "promptVersion": "v3"}
CANDIDATE: dict[str, str] = {"modelRoute": "model_b", "promptVersion": "v3"}
FALLBACK: dict[str, str] = {
    "modelRoute": "model_a",
    "promptVersion": "v3",
    "retrievalProfile": "safe",
}
VARIATIONS: dict[str, dict[str, str]] = {
    "control": CONTROL,
    "candidate": CANDIDATE,
    "fallback": FALLBACK,
}
DEFAULT_VARIATION = "control"
EXCLUDED_ACCOUNTS: list[str] = ["acct-007", "acct-023", "acct-041"]
SPLIT_PERCENT: dict[str, int] = {"control": 90, "candidate": 10}

# A row passes only if the candidate share among the non-excluded contexts is in this range:
# every SDK hashes differently, so the share is what is comparable, not the chosen contexts.
CANDIDATE_SHARE_RANGE = (0.08, 0.12)

ACCOUNTS: list[str] = [f"acct-{i:03d}" for i in range(50)]
LOCALES: list[str] = ["en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR", "nl-NL"]
SEED = 20240601

# The flag in modelflags' own YAML format (bench_evaluation.py evaluates it too).
MODELFLAGS_YAML = """\
version: 1
flags:
  support_answer_model_route:
    default: control
    variations:
      control: {modelRoute: model_a, promptVersion: v3}
      candidate: {modelRoute: model_b, promptVersion: v3}
      fallback: {modelRoute: model_a, promptVersion: v3, retrievalProfile: safe}
    rules:
      - name: excluded_accounts
        when: {accountId: {$in: [acct-007, acct-023, acct-041]}}
        serve: fallback
    split: {control: 90, candidate: 10}
"""


def make_contexts(count: int, seed: int = SEED) -> list[dict[str, str]]:
    """``count`` distinct conversations as plain dicts, the same ones for the same seed.

    Each has a 128-bit conversation id (``targetingKey``), one of 50 accounts, one of 8
    locales and a user id. The draws are made in a fixed order (id, account, locale, user), so
    the sequence is the same in every Python version and environment.
    """
    rng = random.Random(seed)
    contexts: list[dict[str, str]] = []
    taken: set[str] = set()
    while len(contexts) < count:
        conversation = "conv-" + format(rng.getrandbits(128), "032x")
        if conversation in taken:
            continue
        taken.add(conversation)
        account = rng.choice(ACCOUNTS)
        locale = rng.choice(LOCALES)
        user = "user-" + format(rng.randrange(20000), "05d")
        contexts.append(
            {"targetingKey": conversation, "accountId": account, "locale": locale, "userId": user}
        )
    return contexts


def variation_of_value(value: Any) -> str | None:
    """The name of the variation whose payload equals ``value``, or None.

    Every correctness check goes through the returned payload, so an SDK that names the
    right variant but hands back the wrong value is caught."""
    for name, payload in VARIATIONS.items():
        if value == payload:
            return name
    return None
