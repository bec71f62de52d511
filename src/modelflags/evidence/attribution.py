"""Attribution: which evaluation an outcome joins, and which value a fallback ran.

Both questions go to the provider an :class:`~modelflags.evidence.Evidence` is bound to or,
unbound, to the live providers that know the flag (:mod:`modelflags.evidence.lookups`).
What cannot be attributed is still recorded, but counted (``unattributed``) and warned about
once through the ``modelflags.evidence`` logger, with how to fix it: silent evidence that joins
nothing would otherwise surface only as a report with missing outcomes.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from modelflags.evidence.events import read_facts
from modelflags.evidence.lookups import FlagLookup, ask, live_lookups
from modelflags.evidence.problems import log_details

__all__ = ["Attribution"]

_NAME_FLAG = (
    "name the flag: TrackingEventDetails(attributes={'flagKey': ...}) for client.track, "
    "or the evaluation result or flag key for evidence.outcome"
)


class Attribution:
    """Resolves flag keys and fallback variations for one Evidence; counts what it cannot.

    ``lookup`` is the bound provider (None: ask the live ones); ``unattributed`` counts
    outcomes recorded without a flag, or with one that no provider asked knows.
    """

    def __init__(self) -> None:
        self.lookup: FlagLookup | None = None
        self.unattributed = 0
        self._warned: set[tuple[str, str]] = set()

    def details(self, name: str, details_or_flag_key: Any, context: Any) -> Any:
        """The evaluation result outcome ``name`` joins to; a flag key is evaluated now."""
        if details_or_flag_key is None:
            self.unattributed += 1
            self._warn_once(
                "no-flag", name, f"outcome names no flag: it joins no exposure; {_NAME_FLAG}",
                outcome=name,
            )  # fmt: skip
            return None
        if not isinstance(details_or_flag_key, str):
            if getattr(details_or_flag_key, "error_code", None) == "FLAG_NOT_FOUND":
                self._unknown_flag(name, getattr(details_or_flag_key, "flag_key", None))
            return details_or_flag_key
        flag_key = details_or_flag_key
        lookups = self.lookups()
        if not lookups:
            self._warn_once(
                "no-provider", name,
                "outcome named by flag key, but no provider is bound or live to evaluate it: "
                "its unit is the context's targeting key and its variation unknown; pass the "
                "evaluation result instead, or bind the evidence",
                outcome=name, flag_key=flag_key,
            )  # fmt: skip
            return SimpleNamespace(flag_key=flag_key)  # only the flag is known
        answer = ask(lookups, lambda lookup: lookup.evaluate_for_evidence(flag_key, context), _same)
        if answer.value is not None:
            return answer.value
        if answer.problem == "unknown":
            self._unknown_flag(name, flag_key)
        else:
            self._warn_once(
                "ambiguous", flag_key,
                "live providers disagree on this flag's evaluation: outcomes named by it "
                "carry the flag and unit only; bind the evidence to one provider",
                flag_key=flag_key,
            )  # fmt: skip
        return SimpleNamespace(flag_key=flag_key)

    def variation_value(self, flag_key: str | None, variation: str) -> Any:
        """The value of a flag's variation (None, warned once per flag, when unknown)."""
        if flag_key is None:
            return None
        answer = ask(
            self.lookups(),
            lambda lookup: lookup.variation_value(flag_key, variation),
            lambda value: value,
        )
        if answer.problem is not None:
            why = (
                "the live providers disagree on it"
                if answer.problem == "ambiguous"
                else "no provider the evidence can ask knows it"
            )
            self._warn_once(
                "fallback-value", flag_key,
                f"the value of a fallback variation is unknown ({why}): the exposure's route "
                "fields are left empty; pass value= to fallback(), or bind the evidence "
                "with ModelFlagsProvider(source, evidence=...)",
                flag_key=flag_key, variation=variation,
            )  # fmt: skip
        return answer.value

    def lookups(self) -> list[FlagLookup]:
        """Whom to ask about a flag: the bound provider only, else every live one."""
        return [self.lookup] if self.lookup is not None else live_lookups()

    def _unknown_flag(self, name: str, flag_key: Any) -> None:
        self.unattributed += 1
        self._warn_once(
            "unknown-flag", name,
            f"outcome names a flag no provider knows: it joins no exposure; {_NAME_FLAG}",
            outcome=name, flag_key=flag_key,
        )  # fmt: skip

    def _warn_once(self, problem: str, subject: str, message: str, **details: Any) -> None:
        if (problem, subject) not in self._warned:
            self._warned.add((problem, subject))
            log_details("warning", message, details)


def _same(details: Any) -> tuple[Any, Any, Any]:
    """What two evaluations of one flag must agree on: variant, config version, unit."""
    _, variant, _, metadata, unit = read_facts(details, None)
    return variant, metadata.get("configVersion"), unit
