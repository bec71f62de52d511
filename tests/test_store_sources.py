"""The store and its source: the store owns the source it loads (``stop`` closes it, a later
``load`` reads it again, a forked child stops sharing it), and first loads, one-shot loads and
reloads validate contents the same way."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import httpx

from modelflags.errors import FlagFileError
from modelflags.loader import DirectorySource, InlineSource, Snapshot, Source
from modelflags.loader.url_source import UrlSource
from modelflags.store import FlagStore, load_flags

FLAGS = "version: 1\nflags:\n  model:\n    default: a\n    variations: {a: 1, b: 2}\n"
URL = "http://flags.test/flags.yaml"
WAIT = 15.0


class ClosingTransport(httpx.MockTransport):
    """Serves :data:`FLAGS`, counting requests and how often it was closed."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self.requests = 0
        self.closed = 0

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, content=FLAGS.encode())

    def close(self) -> None:
        self.closed += 1


class ForkCountingSource(Source):
    """Inline flags that count the forks they were told of."""

    def __init__(self) -> None:
        self.name = "fork-counting"
        self.forks = 0
        self._inline = InlineSource(FLAGS)

    def read(self) -> Snapshot:
        return self._inline.read()

    def fetch(self) -> Snapshot | None:
        return self._inline.fetch()

    def after_fork(self) -> None:
        self.forks += 1


def test_stopping_a_store_closes_its_url_source() -> None:
    transport = ClosingTransport()
    store = FlagStore(UrlSource(URL, transport=transport), poll_interval=0)
    store.load()
    assert transport.closed == 0
    store.stop()
    assert transport.closed == 1


def test_a_store_loaded_again_after_stop_reads_its_url_source_again() -> None:
    transport = ClosingTransport()
    store = FlagStore(UrlSource(URL, transport=transport), poll_interval=0)
    store.load()
    store.stop()
    assert set(store.load().flags) == {"model"}
    assert transport.requests == 2
    store.stop()


def test_load_flags_leaves_a_source_it_was_given_open() -> None:
    transport = ClosingTransport()
    with UrlSource(URL, transport=transport) as source:
        assert set(load_flags(source).flags) == {"model"}
        assert transport.closed == 0
    assert transport.closed == 1


def test_a_reload_that_finds_an_emptied_directory_places_the_error_at_it(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(FLAGS)
    store = FlagStore(DirectorySource(tmp_path, removal_grace=0), poll_interval=0)
    store.load()
    (tmp_path / "a.yaml").unlink()
    error = store.reload().error
    assert isinstance(error, FlagFileError)
    assert [(issue.code, issue.file) for issue in error.issues] == [
        ("no-flag-files", str(tmp_path))
    ]


def _report_forks(source: ForkCountingSource, results: Any) -> None:
    results.put(source.forks)


def test_a_forked_child_tells_the_store_source_of_the_fork() -> None:
    source = ForkCountingSource()
    store = FlagStore(source, poll_interval=0)
    store.load()
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    child = fork.Process(target=_report_forks, args=(source, results))
    child.start()
    try:
        assert results.get(timeout=WAIT) == 1
        assert source.forks == 0  # the parent keeps what it holds
    finally:
        child.join(WAIT)
        if child.is_alive():
            child.kill()
        store.stop()
