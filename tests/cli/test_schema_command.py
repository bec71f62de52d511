"""``modelflags schema``: the JSON Schema, generated, committed, and true to the format."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from modelflags.loader import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schema" / "flag-file.schema.json"
Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_schema_prints_json_schema_and_exits_0(cli: Cli) -> None:
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["properties"]) == {"version", "segments", "flags"}


def test_committed_schema_matches_the_models(cli: Cli) -> None:
    # Regenerate with: .venv/bin/modelflags schema > schema/flag-file.schema.json
    assert json.loads(COMMITTED.read_text()) == json.loads(cli("schema").stdout)


@pytest.mark.parametrize("path", sorted((ROOT / "flags").glob("*.yaml")), ids=lambda p: p.name)
def test_the_repository_flag_files_satisfy_the_schema(path: Path) -> None:
    document, issues = parse_yaml(path.read_text(), str(path))  # YAML 1.2: on/off are text
    assert issues == []
    jsonschema.validate(document.data, json.loads(COMMITTED.read_text()))


def test_the_schema_rejects_a_misspelt_key() -> None:
    bad = {"version": 1, "flags": {"f": {"default": "a", "variations": {"a": 1}, "splt": {}}}}
    with pytest.raises(jsonschema.ValidationError, match="splt"):
        jsonschema.validate(bad, json.loads(COMMITTED.read_text()))


def test_schema_help_exits_0(cli: Cli) -> None:
    result = cli("schema", "--help")
    assert result.returncode == 0
    assert "yaml-language-server" in result.stdout
