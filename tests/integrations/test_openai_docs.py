"""docs/openai.md is executable: its Python blocks run, in order, in a fresh interpreter, in a
folder laid out like the repository, against a local fake OpenAI-compatible server that answers
``support_model_b`` with 429 (the page's overloaded candidate route)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fake_openai import FakeOpenAI, Request
from page_blocks import ROOT, python_blocks, run_python_blocks

PAGE = ROOT / "docs" / "openai.md"


@dataclass(frozen=True)
class PageRun:
    """The page's blocks run once: the interpreter's result, and what the server received."""

    result: subprocess.CompletedProcess[str]
    requests: list[Request]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageRun]:
    folder = tmp_path_factory.mktemp("openai_page")
    (folder / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "prices.yaml", folder / "examples" / "prices.yaml")
    with FakeOpenAI() as server:
        server.set_mode("support_model_b", "rate_limited")
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test"}
        result = run_python_blocks(python_blocks(PAGE), folder, env=env)
        yield PageRun(result, list(server.requests))


def test_every_python_block_of_the_openai_page_runs_in_order(page: PageRun) -> None:
    assert len(python_blocks(PAGE)) >= 8
    assert page.result.returncode == 0, page.result.stderr
    assert "answer from support_model_a" in page.result.stdout
    assert "fallback True rate_limited" in page.result.stdout  # what chat_with_route printed


def test_the_pages_candidate_calls_are_each_tried_and_retried_once(page: PageRun) -> None:
    models = [request.body.get("model") for request in page.requests]
    # three calls on the candidate (chat, chat_with_route, built messages): a try and a retry
    assert models.count("support_model_b") == 6


def test_the_pages_message_builder_sends_each_attempt_its_own_routes_messages(
    page: PageRun,
) -> None:
    built = [
        (request.body["model"], request.body["messages"][0]["content"])
        for request in page.requests
        if request.body["messages"][0]["role"] == "system"
    ]
    assert [model for model, _ in built] == ["support_model_b"] * 2 + ["support_model_a"]
    assert built[0][1].startswith("Refunds reach the card")  # the candidate's: baseline
    assert built[-1][1].startswith("Say that refunds")  # the fallback's: safe_fallback


def test_the_pages_price_table_is_the_example_file() -> None:
    yaml_blocks = re.findall(r"^```yaml\n(.*?)^```", PAGE.read_text(), flags=re.M | re.S)
    example = (ROOT / "examples" / "prices.yaml").read_text()
    body = "".join(line + "\n" for line in example.splitlines() if not line.startswith("#"))
    assert body in yaml_blocks
