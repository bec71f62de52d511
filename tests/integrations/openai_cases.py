"""The OpenAI integration tests' shared parts: a fake OpenAI-compatible server on 127.0.0.1,
the real ``openai`` clients pointed at it, a route flag served by the real provider, an Evidence
recording to memory, a price table, and helpers. Test modules import the fixtures they use
(this directory is shared with other integrations' tests, so nothing here is a conftest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAI
from openfeature import api
from openfeature.client import OpenFeatureClient

from modelflags import Evidence, MemoryTracker, ModelFlagsProvider, load_flags
from modelflags.integrations.openai import AsyncModelRouter, ModelRouter
from modelflags.loader.prices import parse_prices
from modelflags.schema.prices import PriceTable

FLAG = "answer_route"
FLAGS = """\
version: 1
segments:
  blocked: {accountId: {$in: [acct_blocked]}}
flags:
  answer_route:
    owner: tests
    default: control
    variations:
      control:   {modelRoute: model_a, promptVersion: v3, temperature: 0.2}
      candidate: {modelRoute: model_b, promptVersion: v4, temperature: 0.7}
      fallback:  {modelRoute: model_small, promptVersion: v3}
      broken:    {promptVersion: v9}
    assignment: {unit: conversation, key: conversationId, salt: answer_route}
    exclusions: {segments: [blocked], serve: fallback}
    rules:
      - name: broken_route
        when: {channel: broken}
        serve: broken
    split: {control: 50, candidate: 50}
    experiment: {key: route-test, control: control}
"""
PRICES = """\
version: 1
currency: USD
prices:
  model_a: {input_per_million: 0.5, output_per_million: 1.5}
  model_b: {input_per_million: 0.15, output_per_million: 0.6}
  model_small: {input_per_million: 0.05, output_per_million: 0.2}
"""
DEFAULT_ROUTE = {"modelRoute": "model_a", "promptVersion": "v3"}
MESSAGES = [{"role": "user", "content": "where is my refund"}]

RouterFactory = Callable[..., ModelRouter]
Recorded = Callable[[], list[dict[str, Any]]]
AsyncRouterFactory = Callable[..., AsyncModelRouter]


@pytest.fixture(name="flag_file")
def flag_file_fixture(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS)
    return path


@pytest.fixture(name="units")
def units_fixture(flag_file: Path) -> dict[str, str]:
    """A conversation id the split puts in each arm, found by evaluating the flag file."""
    flags = load_flags(flag_file)
    found: dict[str, str] = {}
    for i in range(200):
        unit = f"conv-{i}"
        found.setdefault(str(flags.evaluate(FLAG, {"conversationId": unit}).variant), unit)
    assert {"control", "candidate"} <= set(found)
    return found


@pytest.fixture(name="server")
def server_fixture() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(slow_seconds=0.3, hang_seconds=3.0, chunk_seconds=0.05) as fake:
        yield fake


@pytest.fixture(name="client")
def client_fixture(server: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=server.base_url, api_key="test", max_retries=0, timeout=0.5
    ) as bare:
        yield bare


@pytest.fixture(name="async_client")
def async_client_fixture(server: FakeOpenAI) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0, timeout=0.5)


@pytest.fixture(name="memory")
def memory_fixture() -> MemoryTracker:
    return MemoryTracker()


@pytest.fixture(name="evidence")
def evidence_fixture(memory: MemoryTracker) -> Iterator[Evidence]:
    recorder = Evidence(memory, flush_interval=0.01)
    yield recorder
    recorder.close()


@pytest.fixture(name="spy")
def spy_fixture(client: openai.OpenAI) -> Spy:
    """The test client's ``create``, spied on (routers made after it call through it)."""
    return Spy(client)


@pytest.fixture(name="recorded")
def recorded_fixture(evidence: Evidence, memory: MemoryTracker) -> Recorded:
    """Every exposure recorded so far, delivered: ``recorded()``."""
    return lambda: exposures(evidence, memory)


@pytest.fixture(name="flags")
def flags_fixture(flag_file: Path) -> OpenFeatureClient:
    api.set_provider_and_wait(ModelFlagsProvider(flag_file, poll_interval=0))
    return api.get_client()


@pytest.fixture(name="prices")
def prices_fixture() -> PriceTable:
    table, issues = parse_prices(PRICES, "prices.yaml")
    assert table is not None, issues
    return table


def _settings(
    evidence: Evidence, flags: OpenFeatureClient, prices: PriceTable, options: dict[str, Any]
) -> dict[str, Any]:
    return {
        "flag_key": FLAG, "evidence": evidence, "default_route": DEFAULT_ROUTE,
        "flags": flags, "prices": prices, "fallback": "fallback", **options,
    }  # fmt: skip


@pytest.fixture(name="make_router")
def make_router_fixture(
    client: openai.OpenAI, evidence: Evidence, flags: OpenFeatureClient, prices: PriceTable
) -> RouterFactory:
    """A ModelRouter on the test flag (fallback ``fallback``, priced), options overridden."""

    def make(**options: Any) -> ModelRouter:
        return ModelRouter(client, **_settings(evidence, flags, prices, options))

    return make


@pytest.fixture(name="make_async_router")
def make_async_router_fixture(
    async_client: openai.AsyncOpenAI,
    evidence: Evidence,
    flags: OpenFeatureClient,
    prices: PriceTable,
) -> AsyncRouterFactory:
    def make(**options: Any) -> AsyncModelRouter:
        return AsyncModelRouter(async_client, **_settings(evidence, flags, prices, options))

    return make


def exposures(evidence: Evidence, memory: MemoryTracker) -> list[dict[str, Any]]:
    """Every exposure recorded so far, delivered."""
    assert evidence.flush()
    return memory.of("exposure")


def only_exposure(recorded: Recorded) -> dict[str, Any]:
    """The one event recorded."""
    (event,) = recorded()
    return event


def context(unit: str, **attributes: Any) -> dict[str, Any]:
    return {"conversationId": unit, **attributes}


class Spy:
    """Wraps the client's real ``create``: keeps what it returned and what it raised, so a
    test can check the router hands back the very same objects."""

    def __init__(self, client: Any) -> None:
        completions = client.chat.completions
        self._create = completions.create
        self.returned: list[Any] = []
        self.raised: list[BaseException] = []
        completions.create = self

    def __call__(self, **kwargs: Any) -> Any:
        try:
            result = self._create(**kwargs)
        except BaseException as error:
            self.raised.append(error)
            raise
        self.returned.append(result)
        return result


class AsyncSpy:
    """:class:`Spy` for ``AsyncOpenAI``: the awaited results and raised errors."""

    def __init__(self, client: Any) -> None:
        completions = client.chat.completions
        self._create = completions.create
        self.returned: list[Any] = []
        self.raised: list[BaseException] = []
        completions.create = self

    async def __call__(self, **kwargs: Any) -> Any:
        try:
            result = await self._create(**kwargs)
        except BaseException as error:
            self.raised.append(error)
            raise
        self.returned.append(result)
        return result
