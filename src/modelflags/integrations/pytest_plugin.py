"""pytest fixtures for code that evaluates modelflags flags (registered through ``pytest11``).

Installing modelflags makes these available to every test, with nothing to import:

- ``openfeature_isolated``: the test starts with a clean global OpenFeature API (no
  provider, hooks, handlers, evaluation context or transaction context propagator); after it,
  the providers the test set are shut down and whatever was there before is put back.
- ``modelflags_provider``: a factory, ``modelflags_provider(flags, *, domain=None,
  evidence=None, **options)``: a provider over YAML text, a dict or a flag file or
  directory, set on the API and ready (isolated, as above).
- ``force_variation(flag_key, variation, *, unit=None, provider=None)``: serve one
  variation until the test ends, to everyone or to one unit only.
- ``@pytest.mark.modelflags_force(flag_key, variation, unit=None)``: the same for every
  provider the test makes with ``modelflags_provider``.
- ``recorded_events``: an ``Evidence`` over a ``MemoryTracker`` (the providers the test makes
  use it), with ``exposures()`` and ``outcomes()`` to assert on.

The module is imported by every pytest run where modelflags is installed: it imports
nothing but pytest until a fixture is used.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from openfeature.flag_evaluation import FlagResolutionDetails

    from modelflags.engine.resolution import Resolution
    from modelflags.evidence.recorder import Evidence
    from modelflags.evidence.tracker import MemoryTracker
    from modelflags.provider import ModelFlagsProvider

__all__ = [
    "RecordedEvents",
    "force_variation",
    "modelflags_provider",
    "openfeature_isolated",
    "recorded_events",
]

MARKER = "modelflags_force"
_RESOLVERS = (
    "resolve_boolean_details",
    "resolve_string_details",
    "resolve_integer_details",
    "resolve_float_details",
    "resolve_object_details",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(flag_key, variation, unit=None): serve `variation` of `flag_key` (to "
        "one unit only, if given) from every provider made by the modelflags_provider fixture",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker(MARKER) is None:
        return
    if "modelflags_provider" not in getattr(item, "fixturenames", ()):
        pytest.fail(
            f"@pytest.mark.{MARKER} forces flags of the providers the modelflags_provider "
            "fixture makes; this test does not use that fixture",
            pytrace=False,
        )


# -- isolation of the global OpenFeature API ---------------------------------------------------


class _SavedApi:
    """The global OpenFeature API as it was before a test; the SDK keeps most of it in
    module globals without accessors, read here in one place (openfeature-sdk 0.10)."""

    def __init__(self) -> None:
        from openfeature import _event_support, api
        from openfeature import transaction_context as transaction
        from openfeature.provider import ProviderStatus
        from openfeature.provider._registry import provider_registry as registry
        from openfeature.provider.no_op_provider import NoOpProvider
        from openfeature.transaction_context import ContextVarsTransactionContextPropagator

        self._registry = registry
        with registry._lock:
            self.default = registry._default_provider
            self.providers = dict(registry._providers)
            self.status = dict(registry._provider_status)
            fresh = NoOpProvider()
            registry._default_provider = fresh
            registry._providers = {}
            registry._provider_status = {fresh: ProviderStatus.READY}
        with _event_support._global_lock:
            self.handlers = {event: list(h) for event, h in _event_support._global_handlers.items()}
            _event_support._global_handlers.clear()
        with _event_support._client_lock:
            self.client_handlers = dict(_event_support._client_handlers)
            _event_support._client_handlers.clear()
        self.hooks = list(api.get_hooks())
        api.clear_hooks()
        self.context = api.get_evaluation_context()
        api.set_evaluation_context(type(self.context)())
        self.propagator = transaction._evaluation_transaction_context_propagator
        transaction.clear_transaction_context_propagator()
        self._var = ContextVarsTransactionContextPropagator._transaction_context_var
        self._value = self._var.get()
        self._token = self._var.set(None)

    def restore(self) -> None:
        from openfeature import _event_support, api
        from openfeature import transaction_context as transaction

        registry = self._registry
        saved = {id(p) for p in (self.default, *self.providers.values())}
        with registry._lock:
            current = [registry._default_provider, *registry._providers.values()]
        for provider in {id(p): p for p in current if id(p) not in saved}.values():
            registry._shutdown_provider(provider)  # the test's: shut down, synchronously
        with registry._lock:
            registry._default_provider = self.default
            registry._providers = self.providers
            registry._provider_status = self.status
        with _event_support._global_lock:
            _event_support._global_handlers.clear()
            _event_support._global_handlers.update(self.handlers)
        with _event_support._client_lock:
            _event_support._client_handlers.clear()
            _event_support._client_handlers.update(self.client_handlers)
        api.clear_hooks()
        api.add_hooks(self.hooks)
        api.set_evaluation_context(self.context)
        transaction.set_transaction_context_propagator(self.propagator)
        try:
            self._var.reset(self._token)
        except ValueError:  # the test ran in another context (an async plugin's loop)
            self._var.set(self._value)


@pytest.fixture
def openfeature_isolated() -> Iterator[None]:
    """A clean global OpenFeature API for the test; the previous one restored after it."""
    try:
        saved = _SavedApi()
    except AttributeError as error:  # an SDK whose globals moved
        pytest.fail(f"openfeature_isolated does not know this openfeature-sdk: {error}")
    try:
        yield
    finally:
        saved.restore()


# -- providers and forced variations -----------------------------------------------------------


class _Forces:
    """What one test made and forced; undone, in reverse order, when the test ends."""

    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.providers: list[ModelFlagsProvider] = []
        self._per_unit: dict[int, _UnitForcing] = {}

    def target(self, provider: ModelFlagsProvider | None) -> ModelFlagsProvider:
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
            forcing = self._per_unit[id(provider)] = _UnitForcing(provider)
            self.stack.callback(forcing.uninstall)
        forcing.forced[flag_key, str(unit)] = variation

    def close(self) -> None:
        self.stack.close()


def _default_provider() -> Any:
    from openfeature.provider._registry import provider_registry

    return provider_registry.get_default_provider()


class _UnitForcing:
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


@pytest.fixture
def _modelflags_forces() -> Iterator[_Forces]:
    forces = _Forces()
    try:
        yield forces
    finally:
        forces.close()


@pytest.fixture
def modelflags_provider(
    request: pytest.FixtureRequest, openfeature_isolated: None, _modelflags_forces: _Forces
) -> Callable[..., ModelFlagsProvider]:
    """A factory: ``modelflags_provider(flags, *, domain=None, evidence=None, **options)``.

    ``flags`` is YAML text, the equivalent dict, or a flag file or directory (a path, or a
    one-line string naming one that exists). The provider is set on the OpenFeature API
    (for ``domain``, if given) and ready; ``options`` go to :class:`ModelFlagsProvider`.
    Its evidence is ``evidence``, else the ``recorded_events`` fixture's if the test uses
    it, else none: ``MODELFLAGS_EVIDENCE`` is ignored, so tests send no events anywhere.
    The test's ``modelflags_force`` markers are applied to it. Invalid flags raise the
    located error.
    """
    markers = list(reversed(list(request.node.iter_markers(MARKER))))

    def make(
        flags: str | os.PathLike[str] | Mapping[str, Any],
        *,
        domain: str | None = None,
        evidence: Evidence | None = None,
        **options: Any,
    ) -> ModelFlagsProvider:
        from openfeature import api

        if evidence is None and "recorded_events" in request.fixturenames:
            evidence = request.getfixturevalue("recorded_events").evidence
        provider = _provider(flags, evidence, options)
        api.set_provider_and_wait(provider, domain)
        _modelflags_forces.providers.append(provider)
        for marker in markers:
            flag_key, variation, unit = _marker_arguments(marker)
            _modelflags_forces.force(provider, flag_key, variation, unit)
        return provider

    return make


def _provider(
    flags: str | os.PathLike[str] | Mapping[str, Any],
    evidence: Evidence | None,
    options: dict[str, Any],
) -> ModelFlagsProvider:
    from modelflags.evidence.recorder import ENV_VAR
    from modelflags.provider import ModelFlagsProvider
    from modelflags.testing import provider_from_yaml

    with pytest.MonkeyPatch.context() as patch:
        if evidence is None:
            patch.delenv(ENV_VAR, raising=False)
        if isinstance(flags, os.PathLike) or (
            isinstance(flags, str) and "\n" not in flags and os.path.exists(flags)
        ):
            options.setdefault("poll_interval", 0)
            return ModelFlagsProvider(flags, evidence=evidence, **options)
        if not isinstance(flags, str | Mapping):
            raise TypeError(
                f"modelflags_provider takes YAML text, a dict or a path, not {type(flags)!r}"
            )
        return provider_from_yaml(flags, evidence=evidence, **options)


def _marker_arguments(marker: pytest.Mark) -> tuple[str, str, str | None]:
    try:
        return _force_arguments(*marker.args, **marker.kwargs)
    except TypeError as error:
        pytest.fail(
            f"@pytest.mark.{MARKER}(flag_key, variation, unit=None): {error}", pytrace=False
        )


def _force_arguments(
    flag_key: str, variation: str, unit: str | None = None
) -> tuple[str, str, str | None]:
    if not isinstance(flag_key, str) or not isinstance(variation, str):
        raise TypeError("the flag key and the variation are strings")
    return flag_key, variation, None if unit is None else str(unit)


@pytest.fixture
def force_variation(_modelflags_forces: _Forces) -> Callable[..., None]:
    """``force_variation(flag_key, variation, *, unit=None, provider=None)``: serve
    ``variation`` until the test ends, to everyone or to ``unit`` only (the unit id the
    flag's assignment reads). ``provider`` defaults to the last one ``modelflags_provider``
    made, else the API's default provider. Evaluations report reason ``STATIC``."""

    def force_variation(
        flag_key: str,
        variation: str,
        *,
        unit: str | None = None,
        provider: ModelFlagsProvider | None = None,
    ) -> None:
        flag_key, variation, unit = _force_arguments(flag_key, variation, unit)
        _modelflags_forces.force(_modelflags_forces.target(provider), flag_key, variation, unit)

    return force_variation


# -- recorded events ---------------------------------------------------------------------------


class RecordedEvents:
    """The events of the test's :class:`~modelflags.Evidence`, delivered to memory.

    Every read flushes first, so what the code under test recorded is there.
    """

    def __init__(self, evidence: Evidence, tracker: MemoryTracker) -> None:
        self.evidence = evidence
        self.tracker = tracker

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far, exposures and outcomes, in the order they were recorded."""
        self.evidence.flush()
        return list(self.tracker.events)

    def exposures(self, flag_key: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Exposures (of ``flag_key``, if given) whose ``fields`` have the given values,
        e.g. ``exposures("route", variation="candidate", unitId="conv-1")``."""
        return [
            event
            for event in self.events
            if event.get("event") == "exposure"
            and (flag_key is None or event.get("flagKey") == flag_key)
            and _has(event, fields)
        ]

    def outcomes(self, name: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """Outcome events (named ``name``, if given) whose ``fields`` have the given values."""
        return [
            event
            for event in self.events
            if event.get("event") != "exposure"
            and (name is None or event.get("event") == name)
            and _has(event, fields)
        ]

    def clear(self) -> None:
        """Forget the events so far (after flushing them)."""
        self.evidence.flush()
        self.tracker.events.clear()


def _has(event: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    return all(event.get(key) == value for key, value in fields.items())


@pytest.fixture
def recorded_events() -> Iterator[RecordedEvents]:
    """An :class:`~modelflags.Evidence` over a :class:`~modelflags.MemoryTracker`; providers
    made by ``modelflags_provider`` in the same test record to it. Closed after the test."""
    from modelflags.evidence.recorder import Evidence
    from modelflags.evidence.tracker import MemoryTracker

    tracker = MemoryTracker()
    evidence = Evidence(tracker)
    try:
        yield RecordedEvents(evidence, tracker)
    finally:
        evidence.close()
