"""The JSON Schema of flag files, generated from the models (never written by hand).

The committed copy, ``schema/flag-file.schema.json`` at the repository root, is what editors
use; a test fails when it drifts from this function's output.
"""

from __future__ import annotations

from typing import Any

from modelflags.schema.models import FlagFile

__all__ = ["flag_file_schema"]


def flag_file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one flag file."""
    schema = FlagFile.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "modelflags flag file",
    }
