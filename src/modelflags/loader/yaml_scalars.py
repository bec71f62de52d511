"""The scalars of flag files: YAML 1.2's core schema, plus timestamps, within JSON's values.

PyYAML resolves plain scalars by YAML 1.1's rules, which read ``on`` as true, ``10:30`` as
the number 630 (sexagesimal), ``0777`` as 511 and ``1_000`` as 1000. Flag files use YAML 1.2's
core schema instead: ``null``/``~``/nothing, ``true``/``false``, decimal, ``0o`` and ``0x``
integers, and decimal floats; everything else is text. So ``10:30``, ``on``, ``1_000`` and
``0b101`` are strings, and ``0777`` is 777.

One YAML 1.1 type stays: timestamps (``2026-11-01``, ``2026-11-01T00:00:00Z``), because
``schedule.start``, ``schedule.end`` and ``experiment.decide_by`` are written that way. The
schema decides where a timestamp may stand; everywhere else it is not a JSON value.

Values JSON has no way to say are refused here, at their line and column: ``.nan``,
``.inf``, numbers beyond a double's range, text that is not valid Unicode (a lone surrogate
written as ``"\\ud800"``), and every tag but the core ones (``!!binary``, ``!!set``,
``!!python/...``).
"""

from __future__ import annotations

import re
import sys
from datetime import date
from typing import Any

import yaml
from yaml.nodes import ScalarNode

__all__ = [
    "MAX_NUMBER_TEXT",
    "NULL_TAG",
    "STR_TAG",
    "TIMESTAMP_TAG",
    "ScalarProblem",
    "core_resolvers",
    "scalar_value",
]

MAX_NUMBER_TEXT = 400
"""Longest number literal read; a double has at most 309 integer digits."""

STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NOT_FINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_TIMESTAMP = yaml.constructor.SafeConstructor.timestamp_regexp
_LARGEST = int(sys.float_info.max)


class ScalarProblem(Exception):
    """A scalar that is not a JSON value (or cannot be read); the loader places it."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def core_resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    """PyYAML's implicit resolvers for YAML 1.2's core schema, timestamps and merge keys.

    The patterns are anchored (``^...$``) the way PyYAML expects; keys are first characters.
    """
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}

    def add(tag: str, pattern: re.Pattern[str], first: str) -> None:
        anchored = re.compile(rf"^(?:{pattern.pattern})$")
        for char in first:
            table.setdefault(char, []).append((tag, anchored))

    add(NULL_TAG, _NULL, "~nN")
    table.setdefault("", []).append((NULL_TAG, re.compile(r"^$")))
    add(_BOOL_TAG, _BOOL, "tTfF")
    add(_INT_TAG, _INT, "-+0123456789")
    add(_FLOAT_TAG, _FLOAT, "-+.0123456789")
    add(_FLOAT_TAG, _NOT_FINITE, "-+.")
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
        for tag, regexp in resolvers:
            if tag in (TIMESTAMP_TAG, _MERGE_TAG):
                table.setdefault(first, []).append((tag, regexp))
    return table


def scalar_value(node: ScalarNode, loader: yaml.constructor.SafeConstructor) -> Any:
    """The value of a scalar node; raises :class:`ScalarProblem` for one that is not JSON."""
    tag, text = node.tag, node.value
    if tag == STR_TAG:
        return _text(text)
    if tag == NULL_TAG and _NULL.fullmatch(text):
        return None
    if tag == _BOOL_TAG and _BOOL.fullmatch(text):
        return text.lower() == "true"
    if tag == _INT_TAG and _INT.fullmatch(text):
        return _integer(text)
    if tag == _FLOAT_TAG:
        return _float(text)
    if tag == TIMESTAMP_TAG and _TIMESTAMP.match(text):
        return _timestamp(node, loader)
    if tag in (NULL_TAG, _BOOL_TAG, _INT_TAG, TIMESTAMP_TAG):
        kind = tag.rsplit(":", 1)[-1]
        raise ScalarProblem("bad-scalar", f"{_quoted(text)} is not a valid {kind}", "")
    raise ScalarProblem("yaml-tag", tag, "")


def _text(text: str) -> str:
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ScalarProblem(
            "not-json",
            "text holds a lone surrogate (an escape such as \\ud800), which is not Unicode",
            "write the character itself, or a pair of escapes for it",
        ) from None
    return text


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_TEXT:
        raise ScalarProblem("not-json", f"a number of {len(text):,} characters is too large", "")
    if text.startswith(("0o", "0x")):
        number = int(text[2:], 8 if text[1] == "o" else 16)
    else:
        number = int(text)
    if abs(number) > _LARGEST:
        raise ScalarProblem("not-json", "the number is too large for JSON (beyond 1.8e308)", "")
    return number


def _float(text: str) -> float:
    if _NOT_FINITE.fullmatch(text):
        raise ScalarProblem(
            "not-json",
            f"{text} is not a JSON number (JSON has no NaN or infinity)",
            "write a finite number, or quote it if it is text",
        )
    if not _FLOAT.fullmatch(text):
        raise ScalarProblem("bad-scalar", f"{_quoted(text)} is not a valid float", "")
    if len(text) > MAX_NUMBER_TEXT:
        raise ScalarProblem("not-json", f"a number of {len(text):,} characters is too long", "")
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ScalarProblem("not-json", "the number is too large for JSON (beyond 1.8e308)", "")
    return number


def _timestamp(node: ScalarNode, loader: yaml.constructor.SafeConstructor) -> date:
    try:
        value: date = loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError, TypeError) as error:
        raise ScalarProblem(
            "bad-scalar",
            f"{_quoted(node.value)} reads as a date but is not one ({error})",
            "fix the date, or quote it if it is text",
        ) from None
    return value


def _quoted(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:37]!r}..."
