"""The public surface is deliberate: what `import modelflags` offers is listed and sorted, and
importing it is cheap (each name is imported on first use)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import modelflags
from modelflags import evidence, loader

ROOT = Path(__file__).resolve().parent.parent


def test_public_names_are_exactly_these() -> None:
    assert modelflags.__all__ == [
        "BatchRejected",
        "ErrorCode",
        "Evidence",
        "FlagFileError",
        "FlagSet",
        "HttpTracker",
        "Issue",
        "JsonlProcessTracker",
        "JsonlTracker",
        "MemoryTracker",
        "ModelFlagsError",
        "ModelFlagsProvider",
        "Reason",
        "Resolution",
        "SourceError",
        "StdoutTracker",
        "StructlogTracker",
        "Tracker",
        "TrackerUnavailable",
        "load_flags",
        "otel_attributes",
        "read_events",
        "tracker_from_url",
    ]


def test_every_public_name_is_importable_and_documented() -> None:
    for name in modelflags.__all__:
        member = getattr(modelflags, name)
        assert member.__doc__, name


def test_all_is_sorted() -> None:
    assert modelflags.__all__ == sorted(modelflags.__all__)


# -- a cheap import: names are imported on first use ------------------------------------------

HEAVY = ("openfeature", "httpx", "yaml", "pydantic", "structlog", "opentelemetry")
"""Dependencies a process should import only when it uses what needs them."""


def imported_after(code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; the heavy dependencies and modelflags modules it
    imported, by top-level name."""
    report = (
        "import json, sys\n"
        f"{code}\n"
        "top = {name.partition('.')[0] for name in sys.modules}\n"
        f"heavy = sorted(top & set({HEAVY!r}))\n"
        "own = sorted(name for name in sys.modules if name.startswith('modelflags.'))\n"
        "print(json.dumps({'heavy': heavy, 'own': own}))\n"
    )
    src = os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    proc = subprocess.run(
        [sys.executable, "-c", report], cwd=ROOT, env={**os.environ, "PYTHONPATH": src},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_import_modelflags_imports_no_dependency_and_only_its_lazy_exports() -> None:
    assert imported_after("import modelflags") == {"heavy": [], "own": ["modelflags._exports"]}


def test_every_public_name_resolves_in_a_fresh_process() -> None:
    code = (
        "import modelflags\nfrom modelflags import *\nassert set(modelflags.__all__) <= set(dir())"
    )
    assert "modelflags.provider" in imported_after(code)["own"]


def test_the_direct_path_imports_neither_openfeature_nor_httpx() -> None:
    found = imported_after("from modelflags import load_flags\nload_flags('flags/')")
    assert not {"openfeature", "httpx"} & set(found["heavy"])


def test_import_modelflags_evidence_imports_none_of_its_trackers() -> None:
    assert imported_after("import modelflags.evidence")["heavy"] == []


def test_a_file_source_imports_no_http_client() -> None:
    found = imported_after(
        "from modelflags.loader.sources import read_source\nread_source('flags/')"
    )
    assert "httpx" not in found["heavy"]


def test_dir_lists_every_public_name() -> None:
    assert set(modelflags.__all__) <= set(dir(modelflags))


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="'modelflags' has no attribute 'load_flag'"):
        modelflags.load_flag  # noqa: B018


def test_every_name_of_the_evidence_and_loader_packages_resolves() -> None:
    for package in (evidence, loader):
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)
