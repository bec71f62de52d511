"""Forced variations for one test: to every unit, or to single units of a provider.

The ``force_variation`` fixture and the ``modelflags_force`` marker of
:mod:`modelflags.integrations.pytest_plugin` force through :class:`Forces`, which undoes every
forcing, in reverse order, when the test ends. Forcing to everyone is
:func:`modelflags.testing.force`; forcing to one unit wraps the provider's resolvers on the
instance (:class:`UnitForcing`), because the flag set has no notion of a single unit. Imported
only when a fixture is used, so the plugin module itself stays cheap for every pytest run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from openfeature.flag_evaluation import FlagResolutionDetails

    from modelflags.engine.resolution import Resolution
    from modelflags.provider import ModelFlagsProvider

__all__ = ["Forces", "UnitForcing"]

_RESOLVERS = (
    "resolve_boolean_details",
    "resolve_string_details",
    "resolve_integer_details",
    "resolve_float_details",
    "resolve_object_details",
)


class Forces:
    """What one test made and forced; undone, in reverse order, when the test ends."""

    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.providers: list[ModelFlagsProvider] = []
        self._per_unit: dict[int, UnitForcing] = {}

    def target(self, provider: ModelFlagsProvider | None) -> ModelFlagsProvider:
        """The provider to force: ``provider``, else the last one the test made, else the
        API's default one if it is a modelflags provider."""
        from modelflags.provider import ModelFlagsProvider

        if provider is not None:
            return provider
        if self.providers:
            return self.providers[-1]
        default = _default_provider()
        if isinstance(default, ModelFlagsProvider):
            return default
        raise pytest.UsageError(
            "force_variation: no modelflags provider to force (make one with the "
            "modelflags_provider fixture, set one on the OpenFeature API, or pass provider=)"
        )

    def force(
        self, provider: ModelFlagsProvider, flag_key: str, variation: str, unit: str | None
    ) -> None:
        """Serve ``variation`` of ``flag_key`` from ``provider`` until the test ends: to every
        unit, or to ``unit`` only."""
        from modelflags.testing import force

        if unit is None:
            self.stack.enter_context(force(provider, flag_key, variation))
            return
        flags = provider.flags
        if flags is None:
            raise pytest.UsageError("force_variation: the provider is not initialized")
        with force(flags, flag_key, variation):  # checks the flag and the variation
            pass
        forcing = self._per_unit.get(id(provider))
        if forcing is None:
            forcing = self._per_unit[id(provider)] = UnitForcing(provider)
            self.stack.callback(forcing.uninstall)
        forcing.forced[flag_key, str(unit)] = variation

    def close(self) -> None:
        """Undo every forcing of the test, in reverse order."""
        self.stack.close()


def _default_provider() -> Any:
    from openfeature.provider._registry import provider_registry

    return provider_registry.get_default_provider()


class UnitForcing:
    """Serves forced variations to single units of one provider: its resolvers are wrapped
    on the instance (until the test ends); a unit is the id the engine reads, the
    ``unitId`` of the evaluation's flag metadata."""

    def __init__(self, provider: ModelFlagsProvider) -> None:
        self.provider = provider
        self.forced: dict[tuple[str, str], str] = {}
        for name in _RESOLVERS:
            setattr(provider, name, self._resolver(getattr(provider, name), name))
        evaluate = provider.evaluate_for_evidence

        def evaluate_for_evidence(flag_key: str, context: Any) -> Resolution | None:
            return self._resolution(evaluate(flag_key, context))

        setattr(provider, "evaluate_for_evidence", evaluate_for_evidence)  # noqa: B010

    def uninstall(self) -> None:
        """Put the provider's own resolvers back."""
        for name in (*_RESOLVERS, "evaluate_for_evidence"):
            self.provider.__dict__.pop(name, None)

    def _resolver(self, original: Callable[..., Any], name: str) -> Callable[..., Any]:
        as_float = name == "resolve_float_details"

        def resolve(
            flag_key: str, default_value: Any, evaluation_context: Any = None
        ) -> FlagResolutionDetails[Any]:
            details: FlagResolutionDetails[Any] = original(
                flag_key, default_value, evaluation_context
            )
            unit = details.flag_metadata.get("unitId")
            variation = self.forced.get((flag_key, str(unit)))
            if variation is None or details.error_code in ("TYPE_MISMATCH", "FLAG_NOT_FOUND"):
                return details
            from openfeature.flag_evaluation import FlagResolutionDetails, Reason

            value = self.provider.variation_value(flag_key, variation)
            if as_float and type(value) is int:
                value = float(value)
            metadata = {**details.flag_metadata, "rule": "default"}
            return FlagResolutionDetails(value, None, None, Reason.STATIC, variation, metadata)

        return resolve

    def _resolution(self, resolution: Resolution | None) -> Resolution | None:
        if resolution is None:
            return None
        variation = self.forced.get((resolution.flag_key, str(resolution.unit_id)))
        if variation is None or resolution.unit_id is None:
            return resolution
        from modelflags.engine.resolution import Reason, Resolution

        value = self.provider.variation_value(resolution.flag_key, variation)
        return Resolution(
            resolution.flag_key, value, variation, Reason.STATIC, "default",
            resolution.unit_id, dict(resolution.metadata),
        )  # fmt: skip
