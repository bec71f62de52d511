"""The result of evaluating one flag for one context: what was served, and why.

Reasons and error codes are the OpenFeature names as plain strings, so the provider passes
them through unchanged and the engine stays free of OpenFeature.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ErrorCode", "Reason", "Resolution"]


class Reason:
    """OpenFeature resolution reasons used by modelflags."""

    STATIC = "STATIC"
    DEFAULT = "DEFAULT"
    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DISABLED = "DISABLED"
    ERROR = "ERROR"


class ErrorCode:
    """OpenFeature error codes used by modelflags."""

    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    GENERAL = "GENERAL"


class Resolution:
    """One evaluation's outcome, as returned by :meth:`FlagSet.evaluate`.

    ``value`` is a fresh copy the caller may mutate. ``metadata`` is the flag metadata of
    docs/flag-files.md (``experimentKey``, ``assignmentUnit``, ``unitId``, ``rule``,
    ``configVersion`` and the flag's own ``metadata``), built on first access.
    """

    __slots__ = (
        "_metadata",
        "_static",
        "error_code",
        "error_message",
        "flag_key",
        "reason",
        "rule",
        "unit_id",
        "value",
        "variant",
    )

    def __init__(  # noqa: PLR0917 -- positional on purpose: built on every evaluation
        self,
        flag_key: str,
        value: Any,
        variant: str | None,
        reason: str,
        rule: str,
        unit_id: str | None,
        static_metadata: dict[str, str | int | float | bool],
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        self.flag_key = flag_key
        self.value = value
        self.variant = variant
        self.reason = reason
        self.rule = rule
        self.unit_id = unit_id
        self.error_code = error_code
        self.error_message = error_message
        self._static = static_metadata
        self._metadata: dict[str, str | int | float | bool] | None = None

    @property
    def metadata(self) -> dict[str, str | int | float | bool]:
        """Flag metadata: scalars only, safe to keep."""
        if self._metadata is None:
            self._metadata = with_unit(self._static, self.rule, self.unit_id)
        return self._metadata

    def __repr__(self) -> str:
        error = f", error_code={self.error_code!r}" if self.error_code else ""
        return (
            f"Resolution(flag_key={self.flag_key!r}, variant={self.variant!r}, "
            f"reason={self.reason!r}, rule={self.rule!r}, unit_id={self.unit_id!r}{error})"
        )


def with_unit(
    static: dict[str, str | int | float | bool], rule: str, unit_id: str | None
) -> dict[str, str | int | float | bool]:
    """The static flag metadata plus this evaluation's ``rule`` and ``unitId``."""
    metadata = static.copy()
    metadata["rule"] = rule
    if unit_id is not None:
        metadata["unitId"] = unit_id
    return metadata
