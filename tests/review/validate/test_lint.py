"""Lint warnings: every case file in tests/data/lint/ gives exactly the warnings in its
``# expect:`` header lines (``line:col: warning: [code] message``), and the behaviours the
files cannot show (hints, merged directories, silencing, the report of a whole source)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelflags.engine.compiled import compile_segments
from modelflags.engine.conditions import compile_condition
from modelflags.errors import Issue
from modelflags.loader import Snapshot, load, load_snapshot
from modelflags.review.validate.lint import WARNING_CODES, lint
from modelflags.review.validate.reachability import matches_everyone
from modelflags.review.validate.source_report import check_snapshot, check_source

CASES = sorted((Path(__file__).parents[2] / "data" / "lint").glob("*.yaml"))
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc).timestamp()


def expected_lines(path: Path) -> list[str]:
    prefix = "# expect: "
    lines = path.read_text().splitlines()
    return [f"{path}:{line[len(prefix) :]}" for line in lines if line.startswith(prefix)]


def without_hint(issue: Issue) -> str:
    return f"{issue.location}: warning: [{issue.code}] {issue.message}"


def snapshot(*files: tuple[str, str]) -> Snapshot:
    return Snapshot(tuple((name, text.encode()) for name, text in files))


def warnings_in(text: str, *, now: float = NOW) -> list[Issue]:
    return lint(load_snapshot(snapshot(("f.yaml", text))), now=now)


@pytest.mark.parametrize("path", CASES, ids=[case.stem for case in CASES])
def test_case_file_gives_exactly_its_expected_warnings(path: Path) -> None:
    assert [without_hint(issue) for issue in lint(load(path), now=NOW)] == expected_lines(path)


def test_the_clean_case_file_really_has_no_expectations() -> None:
    clean = next(case for case in CASES if case.stem == "clean")
    assert expected_lines(clean) == []
    assert lint(load(clean), now=NOW) == []


def test_every_warning_is_a_warning_with_a_known_code_and_a_hint() -> None:
    issues = [issue for case in CASES for issue in lint(load(case), now=NOW)]
    assert {issue.code for issue in issues} == set(WARNING_CODES) - {"possible-secret"}
    assert all(issue.severity == "warning" and issue.hint for issue in issues)


def test_a_warning_renders_with_its_severity_and_an_error_without() -> None:
    issue = Issue("unused-segment", "segment 'x' is not used", "remove it", ("segments", "x"))
    assert (
        str(issue.at("f.yaml", 3, 5))
        == "f.yaml:3:5: [unused-segment] segment 'x' is not used; remove it"
    )
    warning = Issue("unused-segment", "segment 'x' is not used", "", severity="warning")
    assert (
        str(warning.at("f.yaml", 3, 5))
        == "f.yaml:3:5: warning: [unused-segment] segment 'x' is not used"
    )


ROUTE = """\
version: 1
flags:
  route:
    owner: ai_platform
    default: control
    variations:
      control: {modelRoute: support_model_a}
      candidate: {modelRoute: support_model_b}
      fallback: {modelRoute: support_model_a, retrievalProfile: safe_fallback}PRAGMA
    split: {control: 90, candidate: 10}
"""


def route(pragma: str = "") -> str:
    """ROUTE with ``pragma`` at the end of the (unserved) fallback variation's line."""
    return ROUTE.replace("PRAGMA", pragma)


def test_unserved_variation_hint_says_how_to_keep_an_application_fallback() -> None:
    (issue,) = warnings_in(route())
    assert (issue.code, issue.line, issue.col) == ("unserved-variation", 9, 7)
    assert "exposure.fallback('fallback')" in issue.hint
    assert "# modelflags: ignore[unserved-variation]" in issue.hint


@pytest.mark.parametrize(
    "pragma",
    [
        "  # modelflags: ignore[unserved-variation]",
        "  #modelflags: ignore",
        "  # modelflags: ignore[missing-owner, unserved-variation]",
    ],
)
def test_an_ignore_comment_on_the_line_silences_the_warning(pragma: str) -> None:
    text = route(pragma)
    report = check_snapshot(snapshot(("f.yaml", text)), "f.yaml", now=NOW)
    assert report.warnings == ()
    assert len(warnings_in(text)) == 1  # lint itself still finds it


def test_an_ignore_comment_for_another_code_does_not_silence() -> None:
    text = route("  # modelflags: ignore[possible-secret]")
    report = check_snapshot(snapshot(("f.yaml", text)), "f.yaml", now=NOW)
    assert [issue.code for issue in report.warnings] == ["unserved-variation"]


def test_an_ignore_comment_on_another_line_does_not_silence() -> None:
    text = route().replace("    split:", "    # modelflags: ignore\n    split:")
    report = check_snapshot(snapshot(("f.yaml", text)), "f.yaml", now=NOW)
    assert [issue.code for issue in report.warnings] == ["unserved-variation"]


def test_ignored_codes_are_not_reported() -> None:
    text = route().replace("    owner: ai_platform\n", "")
    report = check_snapshot(snapshot(("f.yaml", text)), "f.yaml", now=NOW, ignore={"missing-owner"})
    assert [issue.code for issue in report.warnings] == ["unserved-variation"]


SEGMENTS_FILE = """\
version: 1
segments:
  paid: {plan: pro}
  forgotten: {plan: trial}
"""
FLAGS_FILE = """\
version: 1
flags:
  route:
    default: a
    variations: {a: 1, b: 2}
    eligible: paid
    split: {a: 1, b: 1}
"""


def test_in_a_directory_segments_used_from_another_file_are_used() -> None:
    loaded = load_snapshot(
        snapshot(("d/segments.yaml", SEGMENTS_FILE), ("d/flags.yaml", FLAGS_FILE))
    )
    assert [without_hint(issue) for issue in lint(loaded, now=NOW)] == [
        "d/flags.yaml:3:3: warning: [missing-owner] flag 'route' has no owner",
        "d/segments.yaml:4:3: warning: [unused-segment] segment 'forgotten' is not used by any "
        "flag",
    ]


def test_a_schedule_ending_after_now_is_fine_and_at_now_is_over() -> None:
    text = (
        "version: 1\nflags:\n  f:\n    owner: o\n    default: a\n    variations: {a: 1, b: 2}\n"
        "    schedule: {end: 2026-06-01T00:00:00Z}\n    split: {a: 1, b: 1}\n"
    )
    assert warnings_in(text, now=NOW - 1) == []
    (issue,) = warnings_in(text, now=NOW)
    assert issue.code == "schedule-over"
    assert "2026-06-01T00:00:00Z (less than a day ago)" in issue.message
    (later,) = warnings_in(text, now=NOW + 86400 * 2.5)
    assert "(2 days ago)" in later.message


def test_a_source_with_errors_reports_its_errors_and_no_warnings() -> None:
    text = route().replace("default: control", "default: contrl")
    report = check_snapshot(snapshot(("f.yaml", text)), "f.yaml", now=NOW)
    assert [issue.code for issue in report.errors] == ["unknown-variation"]
    assert "did you mean 'control'?" in str(report.errors[0])
    assert (report.flags, report.segments, report.warnings) == (None, None, ())
    assert not report.ok()


def test_a_valid_source_reports_its_size_and_is_ok_unless_strict() -> None:
    report = check_snapshot(snapshot(("f.yaml", route())), "f.yaml", now=NOW)
    assert (report.flags, report.segments, report.errors) == (1, 0, ())
    assert report.ok()
    assert not report.ok(strict=True)


def test_a_missing_path_is_one_unreadable_source_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    report = check_source(missing, now=NOW)
    (error,) = report.errors
    assert str(error) == (
        f"{missing}: [unreadable-source] no such file or directory; "
        "give a flag file, a directory of them or an http(s):// URL"
    )


def test_an_empty_directory_names_itself_in_its_error(tmp_path: Path) -> None:
    report = check_source(tmp_path, now=NOW)
    assert [str(issue) for issue in report.errors] == [
        f"{tmp_path}: [no-flag-files] no *.yaml or *.yml files found"
    ]


# matches_everyone must agree with the engine: a condition it calls catch-all matches any
# context, and the near misses below each fail for some context.
SEGMENTS = {"everyone": {}, "pro": {"plan": "pro"}}
CATCH_ALL = [
    {},
    {"plan": {}},
    {"plan": {}, "user.id": {}},
    {"$and": []},
    {"$or": []},
    {"$and": [{}, {"x": {}}]},
    {"$or": [{"plan": "pro"}, {}]},
    {"$segment": "everyone"},
]
NOT_CATCH_ALL = [
    {"plan": "pro"},
    {"plan": {"$exists": True}},
    {"$nor": []},
    {"$not": {}},
    {"$or": [{"plan": "pro"}]},
    {"$and": [{}, {"plan": "pro"}]},
    {"$segment": "pro"},
    {"$notSegment": "everyone"},
]
CONTEXTS = st.dictionaries(
    st.sampled_from(["plan", "user", "x"]),
    st.none() | st.integers() | st.text(max_size=3) | st.lists(st.integers(), max_size=2),
)


@given(CONTEXTS)
def test_conditions_called_catch_all_match_every_context_in_the_engine(
    context: dict[str, object],
) -> None:
    segments = compile_segments(SEGMENTS)
    for condition in CATCH_ALL:
        assert matches_everyone(condition, SEGMENTS)
        assert compile_condition(condition, segments)(context)


@pytest.mark.parametrize("condition", NOT_CATCH_ALL, ids=str)
def test_near_misses_are_not_catch_all_and_the_engine_agrees(condition: dict[str, object]) -> None:
    predicate = compile_condition(condition, compile_segments(SEGMENTS))
    assert not matches_everyone(condition, SEGMENTS)
    assert not all(predicate(context) for context in ({}, {"plan": "pro"}, {"plan": "free"}))
