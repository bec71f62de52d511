"""The recorder behind ``explain``: a compiled flag whose splits note every arm's draw.

:class:`Probe` copies a compiled flag with each split (the flag's and each rule's) wrapped in
a split that records the scores of every arm before choosing exactly as the original does.
Evaluating the copy with the engine gives the production result and, beside it, the draws.
Predicates need no wrapping: which rule or step decided is in the resolution itself.
"""

from __future__ import annotations

import dataclasses

from modelflags.engine import CompiledFlag, Split, StepName
from modelflags.engine.bucketing import ArmScore

__all__ = ["Probe"]


class Probe:
    """Instruments a compiled flag's splits and holds what they drew."""

    def __init__(self) -> None:
        self._drawn: dict[str, tuple[ArmScore, ...]] = {}

    def instrument(self, flag: CompiledFlag) -> CompiledFlag:
        """A copy of ``flag`` whose splits record their draws in this probe."""
        rules = tuple(
            dataclasses.replace(rule, split=self._split(_rule_key(rule.label), rule.split))
            for rule in flag.rules
        )
        return dataclasses.replace(flag, rules=rules, split=self._split(StepName.SPLIT, flag.split))

    def rule_scores(self, label: str) -> tuple[ArmScore, ...]:
        """Every arm's draw in the split of rule ``label`` (empty when it did not draw)."""
        return self._drawn.get(_rule_key(label), ())

    def split_scores(self) -> tuple[ArmScore, ...]:
        """Every arm's draw in the flag's split (empty when it did not draw)."""
        return self._drawn.get(StepName.SPLIT, ())

    def _split(self, name: str, split: Split | None) -> Split | None:
        return None if split is None else _RecordedSplit(split, self._drawn, name)


def _rule_key(label: str) -> str:
    return f"rule:{label}"


class _RecordedSplit(Split):
    """A :class:`Split` that records every arm's draw before choosing exactly as it does."""

    __slots__ = ("_drawn", "_name")

    _drawn: dict[str, tuple[ArmScore, ...]]
    _name: str

    def __init__(self, split: Split, drawn: dict[str, tuple[ArmScore, ...]], name: str) -> None:
        super().__init__(split.salt, split.weights)
        object.__setattr__(self, "_drawn", drawn)
        object.__setattr__(self, "_name", name)

    def choose(self, unit_id: str) -> str:
        self._drawn[self._name] = tuple(self.scores(unit_id))
        return super().choose(unit_id)
