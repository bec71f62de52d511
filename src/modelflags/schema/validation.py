"""Parsed YAML data → a :class:`FlagFile`, or every issue with its document path.

pydantic's errors are turned into modelflags issues: ``loc`` becomes a document path (union
branch labels dropped), error types become stable codes, and a misspelt key gets a
did-you-mean hint from the model's own field names.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from modelflags.errors import Issue, Path, did_you_mean
from modelflags.schema.models import FlagFile
from modelflags.schema.semantics import semantic_issues

__all__ = ["validate"]

_CODES = {
    "extra_forbidden": "unknown-key",
    "missing": "missing-key",
    "literal_error": "invalid-value",
    "string_pattern_mismatch": "invalid-name",
}


def validate(data: object, *, check_references: bool = True) -> tuple[FlagFile | None, list[Issue]]:
    """Validate parsed data; the model is returned only when there are no issues.

    ``check_references=False`` checks shape only: one file of a directory may use segments
    defined in another, so references are checked after the files are merged.
    """
    if not isinstance(data, dict):
        return None, [Issue("not-a-mapping", "a flag file must be a YAML mapping", "", ())]
    try:
        config = FlagFile.model_validate(data)
    except ValidationError as error:
        return None, _from_pydantic(error, data)
    issues = semantic_issues(config) if check_references else []
    return (None if issues else config), issues


def _from_pydantic(error: ValidationError, data: object) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[tuple[Path, str]] = set()
    for detail in error.errors(include_url=False):
        path = _document_path(data, detail["loc"])
        kind = detail["type"]
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
