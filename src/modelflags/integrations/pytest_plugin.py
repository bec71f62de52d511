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

import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from modelflags.evidence.recorder import Evidence
    from modelflags.integrations.pytest_events import RecordedEvents
    from modelflags.integrations.pytest_forcing import Forces
    from modelflags.provider import ModelFlagsProvider

__all__ = [
    "force_variation",
    "modelflags_provider",
    "openfeature_isolated",
    "recorded_events",
]

MARKER = "modelflags_force"


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


@pytest.fixture
def openfeature_isolated() -> Iterator[None]:
    """A clean global OpenFeature API for the test; the previous one restored after it."""
    from modelflags.integrations.pytest_isolation import SavedApi

    try:
        saved = SavedApi()
    except AttributeError as error:  # an SDK whose globals moved
        pytest.fail(f"openfeature_isolated does not know this openfeature-sdk: {error}")
    try:
        yield
    finally:
        saved.restore()


# -- providers and forced variations -----------------------------------------------------------


@pytest.fixture
def _modelflags_forces() -> Iterator[Forces]:
    from modelflags.integrations.pytest_forcing import Forces

    forces = Forces()
    try:
        yield forces
    finally:
        forces.close()


@pytest.fixture
def modelflags_provider(
    request: pytest.FixtureRequest, openfeature_isolated: None, _modelflags_forces: Forces
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
def force_variation(_modelflags_forces: Forces) -> Callable[..., None]:
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


@pytest.fixture
def recorded_events() -> Iterator[RecordedEvents]:
    """An :class:`~modelflags.Evidence` over a :class:`~modelflags.MemoryTracker`; providers
    made by ``modelflags_provider`` in the same test record to it. Closed after the test."""
    from modelflags.evidence.recorder import Evidence
    from modelflags.evidence.tracker import MemoryTracker
    from modelflags.integrations.pytest_events import RecordedEvents

    tracker = MemoryTracker()
    evidence = Evidence(tracker)
    try:
        yield RecordedEvents(evidence, tracker)
    finally:
        evidence.close()
