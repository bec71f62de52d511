"""The flag file format as frozen pydantic models: field names are the YAML keys.

These models check shape and types only; cross-references (which variations and segments a
flag names, condition syntax) are checked by :mod:`modelflags.schema.semantics`, which needs
the whole file. The JSON Schema for editors is generated from :class:`FlagFile`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

__all__ = [
    "TARGETING_KEY",
    "TELEMETRY",
    "Assignment",
    "Condition",
    "Exclusions",
    "Experiment",
    "Flag",
    "FlagFile",
    "Guardrail",
    "Rule",
    "Schedule",
]

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$", max_length=200)]
"""Flag, variation and segment names: letters, digits, ``_ . -``."""

Condition = dict[str, Any]
"""A MongoDB-style condition; its syntax is checked by :mod:`modelflags.schema.condition_syntax`."""

Weight = Annotated[StrictInt, Field(ge=0)]
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat

TELEMETRY = "telemetry"
"""The guardrail metric that watches for events that stop arriving."""

TARGETING_KEY = "targetingKey"
"""The OpenFeature targeting key, as conditions (and the direct path's context) name it."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)


class Assignment(_Model):
    """Who the assignment unit is and how units are hashed."""

    unit: str | None = Field(
        None, description="The unit's name written into every event; omitted = the key's name."
    )
    key: str | None = Field(
        None,
        description="Context attribute that identifies the unit; omitted = the targeting key.",
    )
    salt: str | None = Field(
        None, description="Hash salt; omitted = the flag key. Change it to re-randomise."
    )

    @field_validator("unit", "key", "salt")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.encode()
            except UnicodeEncodeError:
                raise ValueError("must be valid Unicode text (no lone surrogates)") from None
        return value

    @property
    def unit_name(self) -> str:
        """The unit's name in flag metadata and events: ``unit``, else ``key``, else
        ``targetingKey``."""
        return self.unit or self.key or TARGETING_KEY


class Exclusions(_Model):
    """Units in any of these segments never enter rules or the split."""

    segments: list[Name] = Field(min_length=1)
    serve: Name | None = Field(None, description="Variation served to excluded units.")


class Rule(_Model):
    """A targeting rule: when ``when`` matches, serve one variation or split."""

    name: str | None = None
    when: Condition
    serve: Name | None = None
    split: dict[Name, Weight] | None = None

    @model_validator(mode="after")
    def _serve_or_split(self) -> Rule:
        if (self.serve is None) == (self.split is None):
            raise ValueError("a rule needs exactly one of 'serve' or 'split'")
        return self


class Schedule(_Model):
    """The window in which the flag's targeting applies: ``start <= now < end``."""

    start: datetime | None = None
    end: datetime | None = None

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a timezone, e.g. 2026-11-01T00:00:00Z")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.start and self.end and self.start >= self.end:
            raise ValueError("'start' must be before 'end'")
        return self


class Guardrail(_Model):
    """A stop rule read by the report: a bound on one metric's statistic.

    ``{metric, stat, max_ratio}`` bounds the ratio of an arm's statistic to the control's;
    ``{metric, stat, max}`` bounds the arm's own value; ``{metric: telemetry,
    max_silence_minutes}`` breaches when an arm's events stop arriving.
    """

    metric: str
    stat: Literal["mean", "rate", "p50", "p95", "p99"] | None = None
    max_ratio: Annotated[float, Field(gt=0)] | None = None
    max: float | None = None
    max_silence_minutes: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Guardrail:
        if self.metric == TELEMETRY:
            if self.max_silence_minutes is None or self.stat or self.max or self.max_ratio:
                raise ValueError(
                    "a telemetry guardrail needs 'max_silence_minutes' and nothing else"
                )
            return self
        if self.max_silence_minutes is not None:
            raise ValueError("'max_silence_minutes' belongs to 'metric: telemetry' only")
        if self.stat is None:
            raise ValueError("a guardrail needs 'stat' (mean, rate, p50, p95 or p99)")
        if (self.max_ratio is None) == (self.max is None):
            raise ValueError("a guardrail needs exactly one of 'max_ratio' or 'max'")
        return self


class Experiment(_Model):
    """What the evidence and the report need to judge the flag as an experiment."""

    key: str
    control: Name
    hypothesis: str | None = Field(None, description="What the experiment expects; shown first.")
    primary_metric: str | None = None
    minimum_detectable_effect: Annotated[float, Field(gt=0)] | None = None
    test: Literal["superiority", "non_inferiority"] = Field(
        "superiority",
        description="superiority: the candidate must be better; non_inferiority: not worse "
        "than the control by more than 'margin' (a cheaper or faster route).",
    )
    margin: Annotated[float, Field(gt=0)] | None = Field(
        None, description="Non-inferiority margin, absolute on the primary metric."
    )
    decide_by: date | None = Field(
        None, description="The report and validate flag an experiment still running after it."
    )
    guardrails: list[Guardrail] = Field(default_factory=list)

    @model_validator(mode="after")
    def _margin_for_non_inferiority(self) -> Experiment:
        if self.test == "non_inferiority" and self.margin is None:
            raise ValueError("'test: non_inferiority' needs a 'margin'")
        if self.test == "non_inferiority" and self.primary_metric is None:
            raise ValueError("'test: non_inferiority' needs a 'primary_metric'")
        return self


class Flag(_Model):
    """One flag: named variations (any JSON values) and who gets which."""

    description: str | None = None
    owner: str | None = None
    state: Literal["on", "off"] = Field(
        "on", description="off is the kill switch: everyone gets 'default'."
    )
    default: Name
    variations: dict[Name, Any] = Field(min_length=1)
    assignment: Assignment = Assignment()
    exclusions: Exclusions | None = None
    rules: list[Rule] = Field(default_factory=list)
    eligible: Name | Condition | None = Field(
        None, description="A segment name or an inline condition; omitted = everyone."
    )
    schedule: Schedule | None = None
    coverage: Annotated[float, Field(ge=0, le=100)] = Field(
        100, description="Percent of eligible units that enter the split (the rest: default)."
    )
    split: dict[Name, Weight] | None = Field(None, description="Relative integer weights.")
    experiment: Experiment | None = None
    metadata: dict[str, Scalar] = Field(default_factory=dict)

    @field_validator("state", mode="before")
    @classmethod
    def _state_spelling(cls, value: object) -> object:
        # YAML 1.1 loaders read on/off as booleans; accept both spellings.
        if isinstance(value, bool):
            return "on" if value else "off"
        return value


class FlagFile(_Model):
    """One flag file (or the merge of a directory of them)."""

    version: Literal[1]
    segments: dict[Name, Condition] = Field(default_factory=dict)
    flags: dict[Name, Flag] = Field(default_factory=dict)
