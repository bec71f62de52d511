"""Reloading through the real OpenFeature client: real files edited on disk while the
provider serves, and the provider events a running service sees.

Nothing here sleeps for correctness: every wait is a polling loop with a deadline, and the
only timing assertion is a functional one (an edit visible within 1 s).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus

from live_edits import ProviderEvents, wait_until, write_atomically
from modelflags import FlagFileError, ModelFlagsProvider
from modelflags.loader.directory import DirectorySource
from modelflags.loader.sources import FileSource, Snapshot

WAIT = 5.0  # deadline of every wait: generous, only reached when the test fails

# Three flags; `banner` uses the segment `beta_users`, the others use no segment.
BASE = """\
version: 1

segments:
  beta_users:
    plan: {$in: [beta]}

flags:
  route:
    state: on
    default: b
    variations: {a: route_a, b: route_b}
    split: {a: 100, b: 0}

  banner:
    default: hidden
    variations: {shown: true, hidden: false}
    rules:
      - name: beta
        when: {$segment: beta_users}
        serve: shown

  limit:
    default: low
    variations: {low: 10, high: 20}
"""
ROUTE_VALUES = {"route_a", "route_b"}
FLIPPED = BASE.replace("split: {a: 100, b: 0}", "split: {a: 0, b: 100}")  # same size
SWITCHED_OFF = BASE.replace("state: on", "state: off")  # `route` then serves its default b


# -- helpers -------------------------------------------------------------------------------


def write_in_place(path: Path, text: str) -> None:
    """Truncate and rewrite ``path`` (what many editors do): briefly empty on disk."""
    with open(path, "w") as f:
        f.write(text)


class WatchedFileSource(FileSource):
    """The real file source, counting how often the poller has looked at the file."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fetches = 0

    def fetch(self) -> Snapshot | None:
        try:
            return super().fetch()
        finally:
            self.fetches += 1


def user(i: int | str, **attributes: object) -> EvaluationContext:
    return EvaluationContext(targeting_key=f"user-{i}", attributes=attributes)  # type: ignore[arg-type]


def route_of(client: OpenFeatureClient, i: int | str) -> str:
    return client.get_string_value("route", "caller_default", user(i))


@dataclass
class Served:
    provider: ModelFlagsProvider
    client: OpenFeatureClient
    events: ProviderEvents


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    def start(source: object, **options: object) -> Served:
        provider = ModelFlagsProvider(source, **options)  # type: ignore[arg-type]
        api.set_provider_and_wait(provider)
        client = api.get_client()
        return Served(provider, client, ProviderEvents(client))

    yield start
    api.shutdown()


@pytest.fixture
def flag_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(BASE)
    return path


class Readers:
    """Threads evaluating `route` through the client as fast as they can."""

    def __init__(self, client: OpenFeatureClient, threads: int = 4) -> None:
        self.client = client
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.counts = [0] * threads
        self.first_new: list[float | None] = [None] * threads
        self.flip_backs = 0
        self.new_value = ""
        self.threads = [
            threading.Thread(target=self._run, args=(n,), name=f"reader-{n}")
            for n in range(threads)
        ]

    def _run(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            details = self.client.get_string_details("route", "caller_default", user(i % 500))
            if details.error_code is not None or details.value not in ROUTE_VALUES:
                self.failures.append(f"{details.value!r} {details.error_code} {details.reason}")
            elif details.value == self.new_value:
                if self.first_new[n] is None:
                    self.first_new[n] = time.monotonic()
            elif self.first_new[n] is not None:
                self.flip_backs += 1
            self.counts[n] += 1

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        wait_until(lambda: min(self.counts) >= 100, "every reader to be evaluating")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def wait_for(self, value: str, written_at_or_before: float) -> list[float]:
        """Seconds from the write until each reader first saw ``value``."""
        self.new_value = value
        wait_until(lambda: all(t is not None for t in self.first_new), f"{value!r} everywhere")
        return [t - written_at_or_before for t in self.first_new if t is not None]


# -- an edit under load ----------------------------------------------------------------------


def test_atomic_edit_under_load_is_visible_within_1s_with_no_failed_evaluation(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file)  # default polling
    assert route_of(served.client, 1) == "route_a"
    with Readers(served.client) as readers:
        readers.new_value = "route_b"  # set before the write: the readers watch for it
        started = time.monotonic()
        write_atomically(flag_file, FLIPPED)
        latencies = readers.wait_for("route_b", started)
    assert readers.failures == []
    assert max(latencies) < 1.0, latencies
    assert readers.flip_backs == 0  # once a reader saw the edit it never saw the old flags


def test_in_place_edit_under_load_is_visible_within_1s_with_no_failed_evaluation(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file)
    assert route_of(served.client, 1) == "route_a"
    with Readers(served.client) as readers:
        readers.new_value = "route_b"
        started = time.monotonic()
        write_in_place(flag_file, SWITCHED_OFF)
        latencies = readers.wait_for("route_b", started)
    assert readers.failures == []
    assert max(latencies) < 1.0, latencies
    assert readers.flip_backs == 0
    details = served.client.get_string_details("route", "caller_default", user(1))
    assert (details.value, details.reason) == ("route_b", Reason.DISABLED)


def test_file_caught_empty_mid_write_keeps_serving_the_last_good_flags_then_recovers(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    before = [route_of(served.client, i) for i in range(50)]
    with Readers(served.client) as readers, open(flag_file, "w") as f:
        # The file is now truncated and stays empty until the block writes it: the poller
        # must see the empty file, call the source stale and keep the old flags serving.
        served.events.wait_for(ProviderEvent.PROVIDER_STALE)
        assert served.client.get_provider_status() == ProviderStatus.STALE
        assert [route_of(served.client, i) for i in range(50)] == before
        served.events.reset()
        f.write(FLIPPED)
    # the file is written and closed first, then the readers stop
    assert readers.failures == []
    served.events.wait_for(ProviderEvent.PROVIDER_READY)
    wait_until(lambda: route_of(served.client, 1) == "route_b", "the written flags")
    assert served.client.get_provider_status() == ProviderStatus.READY


# -- which flags changed ---------------------------------------------------------------------


def changed_by(served: Served, path: Path, text: str) -> list[str]:
    write_atomically(path, text)
    return list(
        served.events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED).flags_changed or []
    )


def test_configuration_changed_names_only_the_edited_flag(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    assert changed_by(
        served, flag_file, BASE.replace("{low: 10, high: 20}", "{low: 10, high: 30}")
    ) == ["limit"]


def test_configuration_changed_names_the_flag_using_an_edited_segment(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    edited = BASE.replace("$in: [beta]", "$in: [beta, alpha]")
    assert changed_by(served, flag_file, edited) == ["banner"]
    assert served.client.get_boolean_value("banner", False, user(1, plan="alpha")) is True


def test_configuration_changed_names_an_added_flag(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    added = BASE + "\n  greeting:\n    default: hi\n    variations: {hi: hello}\n"
    assert changed_by(served, flag_file, added) == ["greeting"]
    assert served.client.get_string_value("greeting", "caller_default", user(1)) == "hello"


def test_configuration_changed_names_a_removed_flag(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    removed = BASE[: BASE.index("  limit:")]
    assert changed_by(served, flag_file, removed) == ["limit"]
    assert served.client.get_integer_details("limit", -1, user(1)).error_code == "FLAG_NOT_FOUND"


# -- invalid edits ---------------------------------------------------------------------------

# `route` defaults to a variation it does not declare: a schema error at the value `c`.
INVALID = BASE.replace("default: b", "default: c")
INVALID_AT = (INVALID.splitlines().index("    default: c") + 1, len("    default: ") + 1)


def test_invalid_edit_goes_stale_naming_the_error_location(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    write_atomically(flag_file, INVALID)
    stale = served.events.wait_for(ProviderEvent.PROVIDER_STALE)
    line, col = INVALID_AT
    assert f"{flag_file}:{line}:{col}: [unknown-variation]" in (stale.message or "")
    assert served.client.get_provider_status() == ProviderStatus.STALE


def test_invalid_edit_keeps_the_last_good_flags_serving(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    contexts = [user(i, plan=("beta" if i % 2 else "free")) for i in range(100)]

    def snapshot() -> list[tuple[object, ...]]:
        out = []
        for ctx in contexts:
            route = served.client.get_string_details("route", "x", ctx)
            banner = served.client.get_boolean_details("banner", False, ctx)
            out.append((route.value, route.variant, route.reason, banner.value, banner.variant))
        return out

    before = snapshot()
    write_atomically(flag_file, INVALID.replace("{low: 10, high: 20}", "{low: 11, high: 20}"))
    served.events.wait_for(ProviderEvent.PROVIDER_STALE)
    assert snapshot() == before
    assert served.client.get_integer_value("limit", -1, user(1)) == 10


def test_an_unchanged_invalid_file_stays_stale_across_polls(flag_file: Path) -> None:
    source = WatchedFileSource(flag_file)
    provider = ModelFlagsProvider(source, poll_interval=0.02)
    api.set_provider_and_wait(provider)
    events = ProviderEvents(api.get_client())
    write_atomically(flag_file, INVALID)
    events.wait_for(ProviderEvent.PROVIDER_STALE)
    looked = source.fetches
    wait_until(lambda: source.fetches >= looked + 3, "three polls of the invalid file")
    assert api.get_client().get_provider_status() == ProviderStatus.STALE
    assert events.since_mark(ProviderEvent.PROVIDER_READY) == []


def test_valid_edit_after_an_invalid_one_restores_ready_and_serves_the_new_flags(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    write_atomically(flag_file, INVALID)
    served.events.wait_for(ProviderEvent.PROVIDER_STALE)
    served.events.reset()
    write_atomically(flag_file, FLIPPED)
    served.events.wait_for(ProviderEvent.PROVIDER_READY)
    assert served.client.get_provider_status() == ProviderStatus.READY
    assert [route_of(served.client, i) for i in range(20)] == ["route_b"] * 20


def test_reverting_an_invalid_edit_to_the_served_contents_restores_ready(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0.05)
    write_atomically(flag_file, INVALID)
    served.events.wait_for(ProviderEvent.PROVIDER_STALE)
    served.events.reset()
    write_atomically(flag_file, BASE)  # no flag changes compared with what is served
    served.events.wait_for(ProviderEvent.PROVIDER_READY)
    assert served.client.get_provider_status() == ProviderStatus.READY


# -- saves that change nothing ---------------------------------------------------------------


def test_saving_identical_contents_emits_no_event(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    source = WatchedFileSource(flag_file)
    served = serve(source, poll_interval=0.02)
    before = os.stat(flag_file)
    write_atomically(flag_file, BASE)  # a new inode and mtime, the same bytes
    after = os.stat(flag_file)
    assert (after.st_ino, after.st_mtime_ns) != (before.st_ino, before.st_mtime_ns)
    looked = source.fetches
    wait_until(lambda: source.fetches >= looked + 2, "two polls after the save")
    # A real edit afterwards, as a barrier: its events arrive after any the save caused.
    write_atomically(flag_file, FLIPPED)
    served.events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    kinds = [event for event, _ in served.events.all_since_mark()]
    assert kinds == [ProviderEvent.PROVIDER_CONFIGURATION_CHANGED]
    assert served.events.since_mark()[0].flags_changed == ["route"]


# -- directory sources -----------------------------------------------------------------------

SEGMENTS_FILE = """\
version: 1
segments:
  beta_users:
    plan: {$in: [beta]}
"""
FLAGS_FILE = """\
version: 1
flags:
  banner:
    default: hidden
    variations: {shown: true, hidden: false}
    eligible: beta_users
    split: {shown: 1}
"""


@pytest.fixture
def flag_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "flags"
    directory.mkdir()
    (directory / "segments.yaml").write_text(SEGMENTS_FILE)
    (directory / "flags.yml").write_text(FLAGS_FILE)
    return directory


def test_directory_flag_uses_a_segment_defined_in_another_file(
    serve: Callable[..., Served], flag_dir: Path
) -> None:
    served = serve(flag_dir, poll_interval=0)
    assert served.client.get_boolean_value("banner", False, user(1, plan="beta")) is True
    details = served.client.get_boolean_details("banner", True, user(1, plan="free"))
    assert (details.value, details.reason) == (False, Reason.DEFAULT)


def test_directory_flag_defined_in_two_files_is_an_error_naming_both_places(
    flag_dir: Path,
) -> None:
    (flag_dir / "more.yaml").write_text(
        "version: 1\nflags:\n  other:\n    default: x\n    variations: {x: 1}\n"
        "  banner:\n    default: on\n    variations: {on: true}\n"
    )
    with pytest.raises(FlagFileError) as caught:
        api.set_provider_and_wait(ModelFlagsProvider(flag_dir, poll_interval=0))
    # Files merge in path order: flags.yml (line 3) first, then more.yaml (line 6).
    message = str(caught.value)
    assert "[duplicate-key]" in message
    assert f"{flag_dir / 'flags.yml'}:3:3" in message
    assert f"{flag_dir / 'more.yaml'}:6:3" in message
    assert api.get_client().get_provider_status() == ProviderStatus.ERROR


def test_directory_picks_up_a_new_file(serve: Callable[..., Served], flag_dir: Path) -> None:
    served = serve(flag_dir, poll_interval=0.05)
    write_atomically(
        flag_dir / "greeting.yaml",
        "version: 1\nflags:\n  greeting:\n    default: hi\n    variations: {hi: hello}\n",
    )
    changed = served.events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    assert changed.flags_changed == ["greeting"]
    assert served.client.get_string_value("greeting", "caller_default", user(1)) == "hello"
    assert served.client.get_boolean_value("banner", False, user(1, plan="beta")) is True


def test_directory_skips_hidden_files_and_folders(
    serve: Callable[..., Served], flag_dir: Path
) -> None:
    # Each defines `banner` again: read, it would be a duplicate-key error.
    (flag_dir / ".flags.yml.swp.yaml").write_text(FLAGS_FILE)
    (flag_dir / ".git").mkdir()
    (flag_dir / ".git" / "flags.yml").write_text(FLAGS_FILE)
    served = serve(flag_dir, poll_interval=0)
    assert served.client.get_boolean_value("banner", False, user(1, plan="beta")) is True


GREETING = "version: 1\nflags:\n  greeting:\n    default: hi\n    variations: {hi: hello}\n"


def test_a_file_deleted_from_a_directory_keeps_its_flags_until_it_stays_gone(
    serve: Callable[..., Served], flag_dir: Path
) -> None:
    write_atomically(flag_dir / "greeting.yaml", GREETING)
    served = serve(DirectorySource(flag_dir, removal_grace=0.5), poll_interval=0.02)
    (flag_dir / "greeting.yaml").unlink()
    stale = served.events.wait_for(ProviderEvent.PROVIDER_STALE)
    assert f"{flag_dir / 'greeting.yaml'}: missing" in (stale.message or "")
    assert served.client.get_string_value("greeting", "caller_default", user(1)) == "hello"
    changed = served.events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    assert changed.flags_changed == ["greeting"]
    assert served.events.since_mark(ProviderEvent.PROVIDER_READY) != []
    details = served.client.get_string_details("greeting", "caller_default", user(1))
    assert details.error_code == "FLAG_NOT_FOUND"


def test_a_file_back_within_the_grace_restores_ready_and_changes_nothing(
    serve: Callable[..., Served], flag_dir: Path
) -> None:
    served = serve(DirectorySource(flag_dir, removal_grace=30), poll_interval=0.02)
    moved = flag_dir.parent / "segments.yaml.moved"
    os.replace(flag_dir / "segments.yaml", moved)
    served.events.wait_for(ProviderEvent.PROVIDER_STALE)
    assert served.client.get_boolean_value("banner", False, user(1, plan="beta")) is True
    served.events.reset()
    os.replace(moved, flag_dir / "segments.yaml")
    served.events.wait_for(ProviderEvent.PROVIDER_READY)
    assert served.events.since_mark(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED) == []


def test_a_file_source_follows_a_configmap_key_through_a_swap(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    (volume / "..2026_11_29_10_00_00.1").mkdir(parents=True)
    (volume / "..2026_11_29_10_00_00.1" / "flags.yaml").write_text(BASE)
    os.symlink("..2026_11_29_10_00_00.1", volume / "..data")
    os.symlink("..data/flags.yaml", volume / "flags.yaml")
    served = serve(volume / "flags.yaml", poll_interval=0.02)
    assert route_of(served.client, 1) == "route_a"
    (volume / "..2026_11_29_10_00_01.2").mkdir()
    (volume / "..2026_11_29_10_00_01.2" / "flags.yaml").write_text(FLIPPED)
    os.symlink("..2026_11_29_10_00_01.2", volume / "..data_tmp")
    os.rename(volume / "..data_tmp", volume / "..data")
    served.events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    assert route_of(served.client, 1) == "route_b"


# -- lifecycle -------------------------------------------------------------------------------


def pollers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "modelflags-poller" and t.is_alive()]


def test_shutdown_stops_the_poller_thread(flag_file: Path) -> None:
    assert pollers() == []
    api.set_provider_and_wait(ModelFlagsProvider(flag_file))
    assert len(pollers()) == 1
    api.shutdown()
    assert pollers() == []


def test_poll_interval_zero_starts_no_poller(serve: Callable[..., Served], flag_file: Path) -> None:
    serve(flag_file, poll_interval=0)
    assert pollers() == []


def test_manual_reload_serves_an_edit_and_names_the_changed_flag(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0)
    write_atomically(flag_file, FLIPPED)
    assert route_of(served.client, 1) == "route_a"  # nothing watches the file
    result = served.provider.reload()
    assert (result.changed, result.error) == (("route",), None)
    assert route_of(served.client, 1) == "route_b"
    changed = served.events.wait_for(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    assert changed.flags_changed == ["route"]


def test_manual_reload_of_an_unchanged_file_changes_nothing(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0)
    result = served.provider.reload()
    assert (result.changed, result.error) == ((), None)
    assert served.client.get_provider_status() == ProviderStatus.READY


def test_manual_reload_of_an_invalid_edit_goes_stale_then_a_revert_restores_ready(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    served = serve(flag_file, poll_interval=0)
    write_atomically(flag_file, INVALID)
    assert isinstance(served.provider.reload().error, FlagFileError)
    assert served.client.get_provider_status() == ProviderStatus.STALE
    assert route_of(served.client, 1) == "route_a"
    write_atomically(flag_file, BASE)
    assert served.provider.reload().error is None
    assert served.client.get_provider_status() == ProviderStatus.READY


class GatedFileSource(FileSource):
    """The real file source; once armed, the poller's next read of new contents pauses
    (before they are swapped in) until the test releases it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.armed = False
        self.paused = threading.Event()
        self.release = threading.Event()
        self.fetches = 0

    def fetch(self) -> Snapshot | None:
        snapshot = super().fetch()
        self.fetches += 1
        if (
            snapshot is not None
            and self.armed
            and threading.current_thread().name.endswith("poller")
        ):
            self.armed = False
            self.paused.set()
            self.release.wait(WAIT)
        return snapshot


def test_a_manual_reload_racing_the_poller_cannot_leave_an_older_edit_serving(
    serve: Callable[..., Served], flag_file: Path
) -> None:
    source = GatedFileSource(flag_file)
    served = serve(source, poll_interval=0.01)
    source.armed = True
    write_atomically(flag_file, FLIPPED)  # the older edit: limit low = 10
    assert source.paused.wait(WAIT)  # the poller has read it and not yet swapped it in
    write_atomically(flag_file, FLIPPED.replace("low: 10", "low: 11"))  # the newer edit
    manual = threading.Thread(target=served.provider.reload)
    manual.start()
    manual.join(0.3)  # a reload that does not wait for the poller has read the newer edit
    source.release.set()
    manual.join(WAIT)
    looked = source.fetches
    wait_until(lambda: source.fetches >= looked + 3, "three more polls")
    assert served.client.get_integer_value("limit", -1, user(1)) == 11
    assert route_of(served.client, 1) == "route_b"
