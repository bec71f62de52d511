"""Reload storms on directory sources: every way tools and platforms save a folder of flag
files, repeated while 8 threads evaluate, with zero failed evaluations and the last valid
edit serving at the end.

Each storm makes the poller look at every intermediate state (it waits for the source to be
fetched twice before the next step), so a gap is never skipped by luck: a file moved away, a
file caught empty, a folder missing, a folder half written, a ConfigMap generation swapped.
A thread calling ``provider.reload()`` in a loop races the poller throughout. Bounded: a
fixed number of edits and a deadline on every wait; seconds per storm.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus

from live_edits import wait_until
from modelflags import ModelFlagsProvider
from modelflags.loader.directory import ATOMIC_LINK, DirectorySource
from modelflags.loader.sources import Snapshot

WAIT = 10.0  # deadline of every wait: only reached when a test fails
READERS = 8
EDITS = 12
POLL = 0.005
EDITED = ("alpha", "beta")  # flags whose value is the number of the edit
FLAGS = (*EDITED, "steady")  # steady never changes: it must serve throughout


def flag_file(flag: str, value: int) -> str:
    return f"version: 1\nflags:\n  {flag}:\n    default: v\n    variations: {{v: {value}}}\n"


def generation(value: int) -> dict[str, str]:
    """The folder's files at edit ``value``: alpha and beta serve ``value``."""
    return {
        "alpha.yaml": flag_file("alpha", value),
        "beta.yaml": flag_file("beta", value),
        "steady.yaml": flag_file("steady", 7),
    }


INVALID = "version: 1\nflags:\n  alpha: {default: v\n"  # a YAML syntax error


class WatchedDirectory(DirectorySource):
    """The real directory source, counting its fetches (so a storm can wait for a look).

    A file gone for ``removal_grace`` seconds is a removal: a storm's saves are all much
    shorter, but a loaded machine may stretch one, so the grace here is the deadline.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, removal_grace=WAIT)
        self.fetches = 0

    def fetch(self) -> Snapshot | None:
        try:
            return super().fetch()
        finally:
            self.fetches += 1

    def looked(self) -> None:
        """Return once a whole fetch has started and ended after this call."""
        seen = self.fetches
        wait_until(lambda: self.fetches >= seen + 2, "the poller to look")


@dataclass
class Readers:
    """Threads evaluating every flag through the client; each remembers what it saw."""

    provider: ModelFlagsProvider
    client: OpenFeatureClient
    consistent: bool = False  # also check alpha == beta within one flag set
    stop: threading.Event = field(default_factory=threading.Event)
    failures: list[str] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)
    mixes: list[tuple[object, object]] = field(default_factory=list)
    evaluations: int = 0
    threads: list[threading.Thread] = field(default_factory=list)

    def _run(self, n: int) -> None:
        context = EvaluationContext(targeting_key=f"reader-{n}")
        last = dict.fromkeys(EDITED, -1)
        count = 0
        while not self.stop.is_set():
            for flag in FLAGS:
                details = self.client.get_integer_details(flag, -1, context)
                if details.error_code is not None or details.reason == Reason.ERROR:
                    self.failures.append(f"{flag}: {details.error_code} {details.error_message}")
                elif flag in last:
                    if details.value < last[flag]:
                        self.regressions.append(f"{flag}: {last[flag]} then {details.value}")
                    last[flag] = details.value
            if self.consistent and (flags := self.provider.flags) is not None:
                alpha = flags.evaluate("alpha", {"targetingKey": "r"}).value
                beta = flags.evaluate("beta", {"targetingKey": "r"}).value
                if alpha != beta:
                    self.mixes.append((alpha, beta))
            count += 1
        self.evaluations += count * len(FLAGS)

    def __enter__(self) -> Readers:
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(READERS)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(WAIT)


class Reloader:
    """A thread calling ``provider.reload()`` in a loop: it races the poller."""

    def __init__(self, provider: ModelFlagsProvider) -> None:
        self.provider = provider
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self.stop.wait(0.003):
            self.provider.reload()

    def __enter__(self) -> Reloader:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(WAIT)


@dataclass
class Storm:
    folder: Path
    source: WatchedDirectory
    provider: ModelFlagsProvider
    client: OpenFeatureClient

    def serves(self, value: int) -> bool:
        context = EvaluationContext(targeting_key="check")
        return all(self.client.get_integer_value(flag, -1, context) == value for flag in EDITED)


Start = Callable[[Callable[[Path], None]], Storm]


@pytest.fixture
def storm(tmp_path: Path) -> Iterator[Start]:
    """``storm(lay_out)``: the folder laid out at edit 0, served with a fast poller."""

    def start(lay_out: Callable[[Path], None]) -> Storm:
        folder = tmp_path / "flags"
        lay_out(folder)
        source = WatchedDirectory(folder)
        provider = ModelFlagsProvider(source, poll_interval=POLL)
        api.set_provider_and_wait(provider)
        made = Storm(folder, source, provider, api.get_client())
        assert made.serves(0)
        return made

    # 8 busy readers hold the GIL in turns of the switch interval (5 ms by default): the
    # poller would wait up to 8 turns for each of its steps. Shorter turns keep a storm short.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        yield start
    finally:
        sys.setswitchinterval(interval)
        api.shutdown()


def plain_folder(folder: Path) -> None:
    folder.mkdir()
    for name, text in generation(0).items():
        (folder / name).write_text(text)


def run_storm(
    made: Storm, save: Callable[[Storm, int, dict[str, str]], None], *, consistent: bool = False
) -> Readers:
    """Save edits 1..EDITS (every fourth preceded by an invalid save), then one invalid save:
    the last valid edit must serve, with every evaluation succeeding."""
    with Readers(made.provider, made.client, consistent) as readers, Reloader(made.provider):
        for value in range(1, EDITS + 1):
            if value % 4 == 0:
                save(made, value, {**generation(value - 1), "alpha.yaml": INVALID})
            save(made, value, generation(value))
        wait_until(lambda: made.serves(EDITS), f"edit {EDITS} to serve")
        save(made, EDITS + 1, {**generation(EDITS + 1), "alpha.yaml": INVALID})
        wait_until(
            lambda: made.client.get_provider_status() == ProviderStatus.STALE,
            "the final invalid save to be seen",
        )
        made.source.looked()
    assert made.serves(EDITS)  # the last valid edit wins
    assert readers.failures == []
    assert readers.regressions == []  # no reader ever went back to an older edit
    assert readers.evaluations > 0
    return readers


# -- the ways a folder is saved ---------------------------------------------------------------


def save_by_rename(made: Storm, value: int, files: dict[str, str]) -> None:
    """Each file written to a hidden temporary name beside it, then renamed over it."""
    for name in ("alpha.yaml", "beta.yaml"):
        temporary = made.folder / f".{name}.tmp"
        temporary.write_text(files[name])
        os.replace(temporary, made.folder / name)
        made.source.looked()


def save_by_move_then_write(made: Storm, value: int, files: dict[str, str]) -> None:
    """Each file moved away (a backup), then written anew: absent, then empty, then full."""
    for name in ("alpha.yaml", "beta.yaml"):
        os.replace(made.folder / name, made.folder / f"{name}.bak")
        made.source.looked()
        with open(made.folder / name, "w") as f:
            made.source.looked()
            f.write(files[name])
        made.source.looked()


def save_by_delete_then_write(made: Storm, value: int, files: dict[str, str]) -> None:
    """Each file deleted, then written anew."""
    for name in ("alpha.yaml", "beta.yaml"):
        (made.folder / name).unlink()
        made.source.looked()
        (made.folder / name).write_text(files[name])
        made.source.looked()


def save_by_replacing_the_folder(made: Storm, value: int, files: dict[str, str]) -> None:
    """A new folder built beside it, the old one renamed away, the new one renamed in."""
    new, old = made.folder.with_name("flags.new"), made.folder.with_name("flags.old")
    new.mkdir()
    for name, text in files.items():
        (new / name).write_text(text)
    os.rename(made.folder, old)
    made.source.looked()
    os.rename(new, made.folder)
    shutil.rmtree(old)
    made.source.looked()


def save_by_rewriting_the_folder(made: Storm, value: int, files: dict[str, str]) -> None:
    """The folder deleted and written again file by file (``rm -rf``, then a copy)."""
    shutil.rmtree(made.folder)
    made.source.looked()
    made.folder.mkdir()
    made.source.looked()
    for name, text in files.items():
        (made.folder / name).write_text(text)
        made.source.looked()


def test_saves_by_rename_serve_every_evaluation_and_the_last_valid_edit(storm: Start) -> None:
    run_storm(storm(plain_folder), save_by_rename)


def test_saves_by_move_then_write_serve_every_evaluation_and_the_last_valid_edit(
    storm: Start,
) -> None:
    run_storm(storm(plain_folder), save_by_move_then_write)


def test_saves_by_delete_then_write_serve_every_evaluation_and_the_last_valid_edit(
    storm: Start,
) -> None:
    run_storm(storm(plain_folder), save_by_delete_then_write)


def test_replacing_the_folder_serves_every_evaluation_and_the_last_valid_edit(storm: Start) -> None:
    readers = run_storm(storm(plain_folder), save_by_replacing_the_folder, consistent=True)
    assert readers.mixes == []


def test_rewriting_the_folder_serves_every_evaluation_and_the_last_valid_edit(storm: Start) -> None:
    run_storm(storm(plain_folder), save_by_rewriting_the_folder)


# -- Kubernetes ConfigMap volumes -------------------------------------------------------------


def kubelet_publish(folder: Path, files: dict[str, str], number: int) -> None:
    """Publish ``files`` the way the kubelet's atomic writer does: a new timestamped folder,
    a ``..data_tmp`` link to it renamed over ``..data``, visible links for new names, stale
    visible links removed, the old timestamped folder removed."""
    folder.mkdir(exist_ok=True)
    stamp = folder / f"..2026_11_29_10_{number // 60:02d}_{number % 60:02d}.{number:09d}"
    stamp.mkdir()
    for name, text in files.items():
        (stamp / name).write_text(text)
    data = folder / ATOMIC_LINK
    old = os.readlink(data) if data.is_symlink() else None
    os.symlink(stamp.name, folder / "..data_tmp")
    os.rename(folder / "..data_tmp", data)
    for name in files:
        if not (folder / name).is_symlink():
            os.symlink(f"{ATOMIC_LINK}/{name}", folder / name)
    for entry in folder.iterdir():
        if not entry.name.startswith(".") and entry.name not in files:
            entry.unlink()
    if old is not None:
        shutil.rmtree(folder / old)


def configmap_folder(folder: Path) -> None:
    kubelet_publish(folder, generation(0), 0)


def save_by_configmap_swap(made: Storm, value: int, files: dict[str, str]) -> None:
    kubelet_publish(made.folder, files, value * 2 + ("alpha: {" in files["alpha.yaml"]))
    made.source.looked()


def test_a_configmap_volume_loads_its_visible_files_only(storm: Start) -> None:
    made = storm(configmap_folder)
    assert sorted(made.provider.flags.flags) == sorted(FLAGS)  # type: ignore[union-attr]
    hidden = [p.name for p in made.folder.iterdir() if p.name.startswith("..")]
    assert len(hidden) == 2  # ..data and one timestamped folder: both skipped


def test_configmap_swaps_serve_every_evaluation_one_generation_and_the_last_valid_edit(
    storm: Start,
) -> None:
    readers = run_storm(storm(configmap_folder), save_by_configmap_swap, consistent=True)
    assert readers.mixes == []  # no flag set held alpha and beta of two generations


def test_a_key_removed_from_a_configmap_is_removed_at_the_swap(storm: Start) -> None:
    made = storm(configmap_folder)
    files = generation(1)
    del files["steady.yaml"]
    kubelet_publish(made.folder, files, 1)
    wait_until(lambda: "steady" not in made.provider.flags, "the swap without steady.yaml")  # type: ignore[operator]
    assert made.serves(1)
    assert made.client.get_provider_status() == ProviderStatus.READY


class SwapDuringRead(DirectorySource):
    """Publishes a new generation right after listing the folder, once: the worst moment."""

    def __init__(self, path: Path, publish: Callable[[], None]) -> None:
        super().__init__(path)
        self.publish: Callable[[], None] | None = publish

    def _scan(self):  # type: ignore[no-untyped-def]
        listing = super()._scan()
        if self.publish is not None:
            publish, self.publish = self.publish, None
            publish()
        return listing


@pytest.mark.parametrize("keep_old", [False, True], ids=["old-removed", "old-kept"])
def test_a_swap_between_listing_and_reading_gives_one_whole_generation(
    tmp_path: Path, keep_old: bool
) -> None:
    folder = tmp_path / "flags"
    kubelet_publish(folder, generation(0), 0)

    def publish() -> None:
        if keep_old:  # the swap done, the old generation not yet removed
            old = os.readlink(folder / ATOMIC_LINK)
            shutil.copytree(folder / old, tmp_path / "kept")
        kubelet_publish(folder, generation(1), 1)
        if keep_old:
            shutil.copytree(tmp_path / "kept", folder / old)

    snapshot = SwapDuringRead(folder, publish).fetch()
    assert snapshot is not None
    contents = {name: content.decode() for name, content in snapshot.files}
    assert contents == {str(folder / name): text for name, text in generation(1).items()}
