"""The flag file format: frozen pydantic models, condition syntax and whole-file checks.

No I/O here: the loader reads files and places the issues found here in them.
"""

from modelflags.schema.condition_operators import OPERATORS
from modelflags.schema.condition_syntax import condition_issues
from modelflags.schema.conditions import referenced_attributes, referenced_segments
from modelflags.schema.models import (
    Assignment,
    Exclusions,
    Experiment,
    Flag,
    FlagFile,
    Guardrail,
    Rule,
    Schedule,
)
from modelflags.schema.semantics import json_kind, semantic_issues
from modelflags.schema.validation import validate

__all__ = [
    "OPERATORS",
    "Assignment",
    "Exclusions",
    "Experiment",
    "Flag",
    "FlagFile",
    "Guardrail",
    "Rule",
    "Schedule",
    "condition_issues",
    "json_kind",
    "referenced_attributes",
    "referenced_segments",
    "semantic_issues",
    "validate",
]
