"""Fixtures shared by the evidence tests: a small route flag, a memory tracker, an Evidence,
and a provider-bound OpenFeature client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider

FLAGS = """\
version: 1
flags:
  answer_route:
    state: on
    default: control
    variations:
      control:   {modelRoute: model_a, promptVersion: v3, retrievalProfile: baseline}
      candidate: {modelRoute: model_b, promptVersion: v4, retrievalProfile: wide}
      fallback:  {modelRoute: model_small, promptVersion: v3, retrievalProfile: safe}
    assignment: {unit: conversation, key: conversationId, salt: answer_route}
    split: {control: 50, candidate: 50}
    experiment: {key: route-test, control: control, primary_metric: resolved}
"""
"""The flag ``answer_route``: unit ``c0`` is bucketed into ``candidate`` by its salt."""


@pytest.fixture
def flag_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS)
    return path


@pytest.fixture
def memory() -> MemoryTracker:
    return MemoryTracker()


@pytest.fixture
def evidence(memory: MemoryTracker) -> Iterator[Evidence]:
    evidence = Evidence(memory, flush_interval=0.01)
    yield evidence
    evidence.close()


@pytest.fixture
def client(flag_file: Path, evidence: Evidence) -> OpenFeatureClient:
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, evidence=evidence, poll_interval=0))
    return api.get_client()
