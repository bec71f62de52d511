"""The step names have one owner, StepName: the modules that decide, trace, force or sample
evaluations spell no step name themselves."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

from modelflags.schema.steps import StepName

SRC = Path(__file__).parents[2] / "src" / "modelflags"
USERS = [
    "engine/compiled.py",
    "engine/decision.py",
    "engine/evaluation.py",
    "engine/flagset.py",
    "provider.py",
    "testing.py",
    "review/diff/blast_radius.py",
    "review/explain/explanation.py",
    "review/explain/steps.py",
    "review/explain/rendering.py",
    "review/explain/probe.py",
]


def _string_literals(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    found = []
    for token in tokens:
        if token.type == tokenize.STRING:
            try:
                value = ast.literal_eval(token.string)
            except ValueError:  # an f-string
                continue
            found.append((token.start[0], value))
    return found


@pytest.mark.parametrize("module", USERS)
def test_no_step_name_is_spelt_outside_its_owner(module: str) -> None:
    spelt = [(line, text) for line, text in _string_literals(SRC / module)
             if text in StepName.RESERVED]  # fmt: skip
    assert spelt == []


def test_the_check_sees_a_step_name_where_one_is_spelt(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('RULE = "holdout"\nOTHER = f"{RULE}"\n', encoding="utf-8")
    assert _string_literals(module) == [(1, "holdout")]
