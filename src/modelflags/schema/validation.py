"""Parsed YAML data → a :class:`FlagFile`, or every issue with its document path.

pydantic's errors are turned into modelflags issues: ``loc`` becomes a document path (union
branch labels dropped), error types become stable codes, and a misspelt key gets a
did-you-mean hint from the model's own field names.

Before the models, every value is checked to be a JSON value (``not-json``): variations,
metadata and condition operands are served, logged and compared as JSON, so a date, a
``NaN``, bytes or a key that is not text there would make a flag impossible to serve or to
record. The three time fields (``schedule.start``, ``schedule.end``,
``experiment.decide_by``) are the only places a date or timestamp may stand.
"""

from __future__ import annotations

import math
import sys
import types
import typing
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from modelflags.errors import Issue, Path, did_you_mean
from modelflags.schema.condition_syntax import condition_issues
from modelflags.schema.models import FlagFile
from modelflags.schema.semantics import semantic_issues

__all__ = ["json_issues", "validate"]

_CODES = {
    "extra_forbidden": "unknown-key",
    "missing": "missing-key",
    "literal_error": "invalid-value",
    "string_pattern_mismatch": "invalid-name",
}


def validate(data: object, *, check_references: bool = True) -> tuple[FlagFile | None, list[Issue]]:
    """Validate parsed data; the model is returned only when there are no issues.

    ``check_references=False`` checks shape and condition syntax only: one file of a
    directory may use segments defined in another, so references are checked after the files
    are merged.
    """
    if not isinstance(data, dict):
        return None, [Issue("not-a-mapping", "a flag file must be a YAML mapping", "", ())]
    not_json = list(json_issues(data))
    try:
        config = FlagFile.model_validate(data)
    except ValidationError as error:
        return None, not_json + _from_pydantic(error, data, [i.path for i in not_json])
    if not_json:
        return None, not_json
    issues = semantic_issues(config) if check_references else list(_condition_syntax(config))
    return (None if issues else config), issues


def _condition_syntax(config: FlagFile) -> Iterator[Issue]:
    """Condition errors that need no other file (operators, operands, regexes), so that one
    file of a directory reports them even while another file is broken."""
    for name, condition in config.segments.items():
        yield from (issue.under(("segments", name)) for issue in condition_issues(condition))
    for key, flag in config.flags.items():
        conditions: list[tuple[object, Path]] = [
            (rule.when, ("flags", key, "rules", i, "when")) for i, rule in enumerate(flag.rules)
        ]
        if isinstance(flag.eligible, dict):
            conditions.append((flag.eligible, ("flags", key, "eligible")))
        for when, at in conditions:
            yield from (issue.under(at) for issue in condition_issues(when))


_TIME_FIELDS = (("schedule", "start"), ("schedule", "end"), ("experiment", "decide_by"))
_LARGEST = int(sys.float_info.max)


def json_issues(value: object, path: Path = ()) -> Iterator[Issue]:
    """A ``not-json`` issue for every value in ``value`` that JSON cannot hold.

    Dates and timestamps are allowed only in the time fields of a flag (paths
    ``flags.NAME.schedule.start`` and ``.end``, ``flags.NAME.experiment.decide_by``).
    """
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and not _is_unicode(value):
            yield _not_json(path, "text holds a lone surrogate, which is not Unicode")
    elif isinstance(value, int):
        if abs(value) > _LARGEST:
            yield _not_json(path, "the number is too large for JSON (beyond 1.8e308)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield _not_json(path, f"{value} is not a JSON number (JSON has no NaN or infinity)")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from json_issues(item, (*path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield _not_json((*path, repr(key)), f"mapping key {key!r} is not text")
            else:
                yield from json_issues(item, (*path, key))
    elif isinstance(value, date):
        if not (len(path) == 4 and path[0] == "flags" and path[2:] in _TIME_FIELDS):
            text = value.isoformat()
            kind = "timestamp" if isinstance(value, datetime) else "date"
            yield Issue(
                "not-json",
                f"a {kind} is not a JSON value; only schedule.start, schedule.end and "
                "experiment.decide_by read dates",
                f"quote it to make it text: '{text}'",
                path,
            )
    else:
        yield _not_json(path, f"a {type(value).__name__} is not a JSON value")


def _not_json(path: Path, message: str) -> Issue:
    return Issue("not-json", message, "", path)


def _is_unicode(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _from_pydantic(error: ValidationError, data: object, reported: list[Path]) -> list[Issue]:
    """Issues for pydantic's errors, except at or below the places in ``reported``."""
    issues: list[Issue] = []
    seen: set[tuple[Path, str]] = set()
    for detail in error.errors(include_url=False):
        path = _document_path(data, detail["loc"])
        kind = detail["type"]
        if any(path[: len(place)] == place for place in reported):
            continue
        if (path, kind) in seen:  # one error per place, not one per union branch
            continue
        seen.add((path, kind))
        code = _CODES.get(kind, "invalid-value")
        message = detail["msg"].removeprefix("Value error, ")
        hint = ""
        if kind == "extra_forbidden":
            key = str(path[-1])
            known = _known_keys(path[:-1])
            message = f"unknown key '{key}'"
            hint = did_you_mean(key, known) or f"allowed keys: {', '.join(known)}"
        elif kind == "missing":
            message = f"missing required key '{path[-1]}'"
        issues.append(Issue(code, message, hint, path))
    return issues


def _document_path(data: object, loc: tuple[int | str, ...]) -> Path:
    """The part of pydantic's ``loc`` that names real keys and indexes of ``data``.

    pydantic adds labels for union branches (``str``, ``function-after[...]``) that are not
    in the document; they are skipped. The last element is kept even when absent (a
    missing key), so the path names it.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if _has(node, part):
            node = node[part]  # type: ignore[index]
        elif not (i == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str)):
            continue  # a union branch label, not part of the document
        path.append(part)
    return tuple(path)


def _has(node: object, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _known_keys(path: Path) -> list[str]:
    """The field names allowed at ``path``, found by walking the models' annotations."""
    node: Any = FlagFile
    for part in path:
        node = _step(node, part)
        if node is None:
            return []
    node = _unwrap_model(node)
    return list(node.model_fields) if node is not None else []


def _step(node: Any, part: str | int) -> Any:
    model = _unwrap_model(node)
    if model is not None and isinstance(part, str) and part in model.model_fields:
        return model.model_fields[part].annotation
    for arg in _alternatives(node):
        origin = typing.get_origin(arg)
        if origin is dict and isinstance(part, str):
            return typing.get_args(arg)[1]
        if origin is list and isinstance(part, int):
            return typing.get_args(arg)[0]
    return None


def _unwrap_model(node: Any) -> type[BaseModel] | None:
    for arg in _alternatives(node):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _alternatives(node: Any) -> tuple[Any, ...]:
    if typing.get_origin(node) in (Union, types.UnionType):
        return typing.get_args(node)
    if typing.get_origin(node) is typing.Annotated:
        return _alternatives(typing.get_args(node)[0])
    return (node,)
