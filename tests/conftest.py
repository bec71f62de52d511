"""Shared fixtures: the repository's paths, a clean OpenFeature API per test, and the
hypothesis profile."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from openfeature import api

ROOT = Path(__file__).resolve().parent.parent

# The machine is shared and noisy: no per-example deadlines. CI runs derandomized, so a
# statistical property that rejects at p=0.001 cannot flake a build.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(autouse=True)
def _clean_openfeature() -> Iterator[None]:
    """OpenFeature's API is global: every test ends without providers."""
    yield
    api.shutdown()


@pytest.fixture
def repo_flags() -> Path:
    """The example flag files in flags/."""
    return ROOT / "flags"
