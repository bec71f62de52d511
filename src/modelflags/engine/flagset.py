"""The direct, OpenFeature-free way to evaluate flags: ``FlagSet.evaluate(key, context)``.

Same semantics as the provider (they share :func:`~modelflags.engine.evaluation.decide`),
for hot loops, batch jobs and tools such as ``explain`` and ``diff``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from modelflags.engine.compiled import CompiledFlag, compile_flags
from modelflags.engine.evaluation import decide, failure, not_found_message
from modelflags.engine.resolution import ErrorCode, Reason, Resolution
from modelflags.schema.models import TARGETING_KEY, FlagFile
from modelflags.schema.steps import StepName

__all__ = ["FlagSet"]

_EMPTY: Mapping[str, Any] = {}
_NO_METADATA: dict[str, str | int | float | bool] = {}


class FlagSet:
    """An immutable set of compiled flags from one version of a flag source.

    ``clock`` returns the time in epoch seconds; it is read only for flags with a schedule
    (inject a fixed clock in tests).

    >>> flags = FlagSet.from_config(config, version="abc123")      # doctest: +SKIP
    >>> flags.evaluate("support_answer_model_route", {"targetingKey": "conv-1"}).variant
    'control'
    """

    __slots__ = ("clock", "config", "flags", "version")

    def __init__(
        self,
        flags: Mapping[str, CompiledFlag],
        *,
        config: FlagFile,
        version: str,
        clock: Callable[[], float],
    ) -> None:
        self.flags = dict(flags)
        self.config = config
        self.version = version
        self.clock = clock

    @classmethod
    def from_config(
        cls, config: FlagFile, *, version: str, clock: Callable[[], float] | None = None
    ) -> FlagSet:
        """Compile a validated config."""
        return cls(
            compile_flags(config, version),
            config=config,
            version=version,
            clock=clock or time.time,
        )

    def __contains__(self, key: object) -> bool:
        return key in self.flags

    def __len__(self) -> int:
        return len(self.flags)

    def evaluate(self, key: str, context: Mapping[str, Any] | None = None) -> Resolution:
        """Evaluate flag ``key`` for ``context`` (attributes; ``targetingKey`` is the key).

        Never raises: an unknown flag or an unusable context gives a resolution with
        ``error_code`` set and ``value`` None (unknown flag) or the flag's default.
        """
        flag = self.flags.get(key)
        if flag is None:
            return Resolution(
                key, None, None, Reason.ERROR, StepName.UNKNOWN, None, _NO_METADATA,
                ErrorCode.FLAG_NOT_FOUND, not_found_message(key),
            )  # fmt: skip
        attributes = _EMPTY if context is None else context
        try:
            now = self.clock() if flag.has_schedule else None
            decision, unit = decide(flag, attributes, attributes.get(TARGETING_KEY), now)
        except Exception as exc:  # a broken Mapping, a unit id that is not text: never raise
            decision, unit = failure(flag, exc), None
        variant = decision.variant
        return Resolution(
            key, flag.fresh[variant](), variant, decision.reason, decision.rule, unit,
            flag.metadata, decision.error, decision.message,
        )  # fmt: skip
