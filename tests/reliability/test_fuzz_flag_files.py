"""Whatever a flag file holds, loading it either succeeds or raises FlagFileError whose every
issue names file:line:col; no other exception escapes, and `modelflags validate` reports
every broken file of a directory without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelflags.engine.flagset import FlagSet
from modelflags.errors import FlagFileError
from modelflags.loader import Snapshot, load_snapshot

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = (ROOT / "flags" / "support.yaml").read_text()
FILE = "fuzz.yaml"
FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)


def load_or_located_error(content: bytes) -> None:
    """Load ``content`` as one flag file; a success must also compile and evaluate."""
    try:
        loaded = load_snapshot(Snapshot(((FILE, content),)))
    except FlagFileError as error:
        assert error.issues
        for issue in error.issues:
            assert issue.file == FILE, issue
            assert issue.line >= 1 and issue.col >= 1, issue
            assert issue.code and issue.message, issue
        return
    flags = FlagSet.from_config(loaded.config, version=loaded.version)
    for key in flags.flags:
        assert flags.evaluate(key, {"targetingKey": "u1", "plan": "pro"}).reason


YAML_PIECES = st.sampled_from(
    [
        "version: 1\n", "flags:\n", "  f:\n", "    default: a\n", "    variations: {a: 1}\n",
        ": ", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "<<: ", "!!binary ", "!!set ", "!x ",
        "? ", "|\n", ">\n", "'", '"', "\\", "\\ud800", "#", "\t", "\n", "  ", "---\n", "...\n",
        "2026-02-30", "10:30", ".nan", "1e999", "0x", "~", "null", "true", "on", "%YAML 1.2\n",
        "\x00", "\x07", "\ufeff", "é", "\U0001f600", "9" * 400,
    ]
)  # fmt: skip


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_load_or_fail_with_located_errors(content: bytes) -> None:
    load_or_located_error(content)


@FUZZ
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_random_yaml_text_loads_or_fails_with_located_errors(text: str) -> None:
    load_or_located_error(text.encode(errors="surrogatepass"))


@FUZZ
@given(st.integers(0, len(SUPPORT) - 1), st.integers(0, 40), st.text(max_size=8))
def test_a_damaged_flag_file_loads_or_fails_with_located_errors(
    at: int, cut: int, inserted: str
) -> None:
    damaged = SUPPORT[:at] + inserted + SUPPORT[at + cut :]
    load_or_located_error(damaged.encode(errors="surrogatepass"))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=8),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.booleans()), inner,
                        max_size=4),
    ),
    max_leaves=20,
)  # fmt: skip


@FUZZ
@given(DOCUMENTS)
def test_random_documents_load_or_fail_with_located_errors(document: Any) -> None:
    text = yaml.dump(document, allow_unicode=True)
    load_or_located_error(text.encode(errors="surrogatepass"))


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["default", "variations", "rules", "split", "coverage", "schedule",
                         "experiment", "metadata", "eligible", "state", "exclusions"]),
        DOCUMENTS,
        max_size=6,
    )
)  # fmt: skip
def test_random_flag_bodies_load_or_fail_with_located_errors(body: dict[str, Any]) -> None:
    text = yaml.dump({"version": 1, "flags": {"f": body}}, allow_unicode=True)
    load_or_located_error(text.encode(errors="surrogatepass"))


BROKEN = {
    "binary.yaml": b"\xff\xfe\x00garbage\x00\n",
    "dates.yaml": b"version: 1\nflags:\n  d:\n    default: a\n    variations: {a: 2026-01-01}\n",
    "regex.yaml": (
        b"version: 1\nflags:\n  r:\n    default: a\n    variations: {a: 1, b: 2}\n"
        b"    rules: [{when: {e: {$regex: '^(a+)+$'}}, serve: b}]\n"
    ),
    "nested.yaml": b"version: 1\nflags: " + b"[" * 200 + b"\n",
    "tags.yaml": b"version: 1\nflags: !!python/object/apply:os.system [echo]\n",
}


def run_validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelflags", "validate", *map(str, paths)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_validate_reports_every_broken_file_of_a_directory(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(SUPPORT)
    for name, content in BROKEN.items():
        (tmp_path / name).write_bytes(content)
    result = run_validate(tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    for name in BROKEN:
        assert f"{tmp_path / name}:" in result.stdout, name


def test_validate_checks_the_other_sources_after_a_broken_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(BROKEN["binary.yaml"])
    good = tmp_path / "good.yaml"
    good.write_text(SUPPORT)
    result = run_validate(broken, good, "--format", "json")
    assert result.returncode == 1
    sources = json.loads(result.stdout)["sources"]
    assert [source["path"] for source in sources] == [str(broken), str(good)]
    assert sources[0]["errors"] and not sources[1]["errors"]
    assert sources[1]["flags"] is not None
