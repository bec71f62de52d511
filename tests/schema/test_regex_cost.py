"""What a $regex pattern can cost, read from the pattern: exponential shapes are refused,
backtracking ones get a shorter input limit, the rest the full one; the check itself is
bounded and never raises."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelflags.schema.condition_syntax import condition_issues
from modelflags.schema.conditions import regex_operands
from modelflags.schema.regex_cost import INPUT_LIMITS, MAX_REGEX_INPUT, regex_cost

EXPONENTIAL = [
    r"^(a+)+$",
    r"(a*)*b",
    r"(\w+\s?)*$",
    r"(.*,)+x",
    r"(a|aa)+$",
    r"(\w\d|\d\w)+!",
    r"(x+y|z)+!",
    r"(a+a)+b",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"(?:ab*|a)*c",
    r"(?:x?.)+!",
    r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+$",
]

FULL_LIMIT = [
    r"@example\.com$",
    r"^gpt-4",
    r"(?i)claude",
    r"^(pro|enterprise)$",
    r"^[\w.+-]+@[\w-]+\.[\w.-]+$",
    r"^v?\d+\.\d+(\.\d+)?$",
    r"^(?:[a-z0-9-]+\.)*example\.com$",
    r"\b(urgent|refund|cancel)\b",
    r"^(en|de|fr)(-[A-Z]{2})?$",
    r"^acct_[0-9]+$",
    r"(?:foo|bar)+",
    r"^\s*\S+\s*$",
]

LIMITED = [
    (r"a.*b", 2),
    (r"\d+$", 2),
    (r"\w+@example\.com$", 2),
    (r"(a|b)*c", 2),
    (r"(\d+\.)+x", 2),
    (r".*a.*b", 3),
    (r"Mozilla.*Chrome.*Mobile", 3),
]


@pytest.mark.parametrize("pattern", EXPONENTIAL)
def test_exponential_patterns_are_refused_with_a_reason(pattern: str) -> None:
    cost = regex_cost(pattern)
    assert cost.refused
    assert cost.input_limit == 0
    assert "exponentially" in cost.reason


@pytest.mark.parametrize("pattern", FULL_LIMIT)
def test_patterns_that_do_not_backtrack_see_the_full_limit(pattern: str) -> None:
    cost = regex_cost(pattern)
    assert cost.input_limit == MAX_REGEX_INPUT
    assert not cost.limited


@pytest.mark.parametrize(("pattern", "degree"), LIMITED)
def test_backtracking_patterns_get_a_shorter_limit_by_their_degree(
    pattern: str, degree: int
) -> None:
    cost = regex_cost(pattern)
    assert cost.degree == degree
    assert cost.limited
    assert cost.input_limit in INPUT_LIMITS


def test_more_nested_scans_mean_a_lower_limit() -> None:
    limits = [regex_cost(p).input_limit for p in ("a.*b", "a.*b.*c", "a.*b.*c.*d")]
    assert limits == sorted(limits, reverse=True)
    assert limits[0] > limits[-1]


def test_too_many_optional_parts_in_a_row_are_refused_as_too_slow() -> None:
    cost = regex_cost("a?" * 30 + "b")
    assert cost.refused
    assert "power" in cost.reason


def test_anchoring_a_pattern_removes_the_search_over_start_positions() -> None:
    assert regex_cost(r"\d+$").degree == regex_cost(r"^\d+$").degree + 1


def test_a_condition_with_an_exponential_regex_is_an_unsafe_regex_error() -> None:
    issues = condition_issues({"email": {"$regex": "^(a+)+$"}})
    assert [(issue.code, issue.path) for issue in issues] == [("unsafe-regex", ("email", "$regex"))]


def test_a_pattern_safe_case_sensitive_can_be_exponential_ignoring_case() -> None:
    """`(ab|AB)+$` has two ways to match "ab" only when case is ignored."""
    assert condition_issues({"ua": {"$regex": "(ab|AB)+$"}}) == []
    issues = condition_issues({"ua": {"$regexi": "(ab|AB)+$"}})
    assert [(issue.code, issue.path) for issue in issues] == [("unsafe-regex", ("ua", "$regexi"))]


def test_every_regex_operator_is_checked_for_cost() -> None:
    for op in ("$regex", "$regexi", "$notRegex", "$notRegexi"):
        (issue,) = condition_issues({"email": {op: "^(a+)+$"}})
        assert (issue.code, issue.path) == ("unsafe-regex", ("email", op))


def test_regex_operands_gives_case_insensitive_patterns_as_re_reads_them() -> None:
    condition = {
        "a": {"$regexi": "^x", "$notRegex": "y$"},
        "tags": {"$alli": [{"$notRegexi": "z"}], "$elemMatch": {"b": {"$regex": "w"}}},
    }
    assert regex_operands(condition) == [
        ("(?i)^x", ("a", "$regexi")),
        ("y$", ("a", "$notRegex")),
        ("(?i)z", ("tags", "$alli", 0, "$notRegexi")),
        ("w", ("tags", "$elemMatch", "b", "$regex")),
    ]


def test_a_backtracking_regex_loads_without_error() -> None:
    assert condition_issues({"ua": {"$regex": "Mozilla.*Chrome.*Mobile"}}) == []


def test_checking_a_huge_pattern_is_quick() -> None:
    pattern = "(?:" + "|".join(f"bot{i:04d}[a-z]*x" for i in range(2000)) + ")"
    started = time.perf_counter()
    regex_cost.__wrapped__(pattern)
    assert time.perf_counter() - started < 10  # a guard against a hang, not a benchmark


def test_deeply_nested_groups_are_refused_not_crashed() -> None:
    pattern = "(" * 90 + "a" + ")" * 90
    re.compile(pattern)
    cost = regex_cost(pattern)
    assert cost.input_limit in (0, *INPUT_LIMITS)


PIECES = st.sampled_from(
    ["a", "b", ".", r"\d", r"\w", r"\s", "[ab]", "[^a]", r"\b", "^", "$", "(?=a)", "(?!b)", "x"]
)


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 4 if depth < 2 else 0))
        if kind == 0:
            part = draw(PIECES)
        elif kind <= 2:
            part = "(?:" + draw(patterns(depth + 1)) + ")"
        else:
            part = "(" + draw(patterns(depth + 1)) + "|" + draw(patterns(depth + 1)) + ")"
        if (
            part not in ("^", "$", r"\b")
            and not part.startswith("(?=")
            and not part.startswith("(?!")
        ):
            part += draw(st.sampled_from(["", "", "*", "+", "?", "{2,5}", "*?", "{3}"]))
        parts.append(part)
    return "".join(parts)


@given(patterns())
def test_the_check_returns_a_known_limit_for_any_pattern(pattern: str) -> None:
    re.compile(pattern)
    cost = regex_cost(pattern)
    assert cost.input_limit in (0, *INPUT_LIMITS)
    assert cost.refused == (cost.input_limit == 0)
    assert bool(cost.reason) == cost.refused
