"""The report's renderings: terminal table, JSON, Markdown and HTML, read back as text.

The inputs are hand-written report dicts in ``tests/data/report/``: a promote, a rollback
with a breached guardrail and bad input lines, an experiment with no units (nulls
everywhere) and a three-arm experiment with a sample ratio mismatch and segments. Expected
values are derived from those files wherever the rendering shows a value as given.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelflags.analysis.rendering import FORMATS, render

DATA = Path(__file__).resolve().parent.parent / "data" / "report"
SAMPLES = sorted(path.stem for path in DATA.glob("sample_*.json"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return loaded


def renamed(report: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The report with variation ``old`` called ``new`` everywhere it is a name or a key."""
    text = json.dumps(report).replace(json.dumps(old), json.dumps(new))
    result: dict[str, Any] = json.loads(text)
    return result


def section(text: str, title: str) -> str:
    """The lines of a terminal-table section, from its title to the next blank line."""
    lines = text.splitlines()
    start = lines.index(title)
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end])


def test_the_samples_cover_every_kind_of_report() -> None:
    assert SAMPLES == ["sample_empty", "sample_promote", "sample_rollback", "sample_three_arms"]


# -- every format ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
@pytest.mark.parametrize("name", SAMPLES)
def test_every_rendering_shows_the_verdict_and_every_arm(name: str, fmt: str) -> None:
    report = sample(name)
    out = render(report, fmt)
    assert report["decision"]["action"].replace("_", " ").upper() in out
    for arm in report["arms"]:
        assert arm["variation"] in out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "report",
    [
        {},
        {"arms": "x", "comparisons": [None, 3], "test": [], "srm": {"pValue": math.nan}},
        {
            "decision": {"action": 7, "reasons": "not a list", "command": ["rm"]},
            "arms": [{"variation": None, "weight": "ten", "latencyMs": {"p95": math.inf}}],
            "guardrails": [{"bound": "max_ratio", "ci95": [1], "status": None}],
            "health": {"arms": {"a": {"lastExposure": "yesterday-ish"}}},
            "sampleSize": {"requiredPerArm": 0, "observedPerArm": {"a": 5}},
            "input": {"malformedLines": 12},
            "segments": [{"arms": None}],
        },
        {"test": {"primaryMetric": []}, "arms": [{"metrics": {"m": {}}}], "guardrails": [{}]},
    ],
    ids=["empty-dict", "wrong-types", "nonsense-values", "unhashable-metric"],
)
def test_a_report_of_the_wrong_shape_renders_without_nan_or_none(
    report: dict[str, Any], fmt: str
) -> None:
    out = render(report, fmt)
    assert out.endswith("\n")
    assert not re.search(r"\b(nan|NaN|inf|Infinity|None)\b", out)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: mapping keys and list indexes from the root."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
THREE_ARMS = sample("sample_three_arms")
PLACES = [place for place in paths(THREE_ARMS) if place]


@settings(max_examples=150)
@given(st.lists(st.tuples(st.sampled_from(PLACES), JSON_VALUES), min_size=1, max_size=4))
def test_any_value_anywhere_renders_in_every_format(
    swaps: list[tuple[tuple[Any, ...], Any]],
) -> None:
    report = json.loads(json.dumps(THREE_ARMS))
    for place, value in swaps:
        parent = report
        try:
            for step in place[:-1]:
                parent = parent[step]
            parent[place[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier swap replaced this place's parent
    for fmt in FORMATS:
        assert render(report, fmt).endswith("\n")


def test_an_unknown_format_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="table, json, markdown, html"):
        render(sample("sample_promote"), "pdf")


# -- terminal table ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_the_table_opens_with_the_action_in_capitals(name: str) -> None:
    report = sample(name)
    first = render(report, "table").splitlines()[0]
    assert first.startswith(report["decision"]["action"].replace("_", " ").upper() + "  ")
    assert report["flagKey"] in first


@pytest.mark.parametrize("name", ["sample_promote", "sample_rollback"])
def test_the_table_gives_the_exact_command_to_run(name: str) -> None:
    report = sample(name)
    assert f"  run: {report['decision']['command']}\n" in render(report, "table")


def test_the_table_says_when_there_is_no_command() -> None:
    assert "  no command to run\n" in render(sample("sample_empty"), "table")


@pytest.mark.parametrize("name", SAMPLES)
def test_the_table_lists_every_reason(name: str) -> None:
    report = sample(name)
    flat = " ".join(render(report, "table").split())
    for reason in report["decision"]["reasons"]:
        assert f"• {reason}" in flat


@pytest.mark.parametrize("name", SAMPLES)
def test_the_table_has_no_colour_codes_unless_asked(name: str) -> None:
    assert "\x1b" not in render(sample(name), "table")


@pytest.mark.parametrize("name", SAMPLES)
def test_colour_changes_nothing_but_the_escape_codes(name: str) -> None:
    report = sample(name)
    coloured = render(report, "table", color=True)
    assert "\x1b[" in coloured
    assert ANSI.sub("", coloured) == render(report, "table")


def test_a_breached_guardrail_and_a_rollback_are_red() -> None:
    coloured = render(sample("sample_rollback"), "table", color=True)
    assert "\x1b[1m\x1b[31mROLLBACK\x1b[0m" in coloured
    assert "\x1b[31m✗ breached" in coloured


def test_holds_and_promote_are_green_and_inconclusive_is_yellow() -> None:
    coloured = render(sample("sample_promote"), "table", color=True)
    assert "\x1b[1m\x1b[32mPROMOTE\x1b[0m" in coloured
    assert "\x1b[32m✓ holds" in coloured
    assert "\x1b[33m? inconclusive" in render(sample("sample_rollback"), "table", color=True)


def test_an_investigation_is_yellow() -> None:
    coloured = render(sample("sample_three_arms"), "table", color=True)
    assert "\x1b[1m\x1b[33mINVESTIGATE\x1b[0m" in coloured


def test_the_test_line_names_the_kind_of_test_and_its_margin() -> None:
    table = render(sample("sample_rollback"), "table")
    assert "Non-inferiority on resolvedWithoutEscalation, margin 1.0 pp" in table
    assert "Superiority on resolvedWithoutEscalation · \u03b1 0.05" in render(
        sample("sample_promote"), "table"
    )


def test_an_arm_row_reads_units_rates_latency_and_cost_for_people() -> None:
    arms = section(render(sample("sample_rollback"), "table"), "Arms")
    candidate = next(line.split() for line in arms.splitlines() if "candidate" in line)
    assert candidate == [
        "candidate", "10%", "1,000", "1,012", "68.0%", "[65.1,", "70.9]",
        "2.4%", "6.4%", "1,105", "ms", "2,414", "ms", "0.00210",
    ]  # fmt: skip


def test_the_control_arm_is_marked_when_its_name_does_not_say_so() -> None:
    arms = section(render(sample("sample_three_arms"), "table"), "Arms")
    assert "small (control)" in arms
    assert "(control)" not in section(render(sample("sample_promote"), "table"), "Arms")


def test_the_primary_metric_comes_first_among_the_deltas() -> None:
    report = sample("sample_three_arms")
    rows = section(render(report, "table"), "Against small").splitlines()[3:]
    primaries = sum(c["primary"] for c in report["comparisons"])
    assert all("(primary)" in row for row in rows[:primaries])
    assert not any("(primary)" in row for row in rows[primaries:])
    assert len(rows) == len(report["comparisons"])


def test_a_difference_of_rates_reads_in_points_with_its_interval() -> None:
    deltas = section(render(sample("sample_rollback"), "table"), "Against control")
    primary = next(line.split() for line in deltas.splitlines() if "(primary)" in line)
    assert primary[2:9] == ["candidate", "-2.0", "pp", "[-5.1,", "+1.1]", "-2.9%", "0.190"]


def test_tiny_p_values_read_as_less_than_a_thousandth() -> None:
    deltas = section(render(sample("sample_rollback"), "table"), "Against control")
    latency = next(line for line in deltas.splitlines() if "latency" in line)
    assert " <0.001 " in latency
    assert "+361 ms" in latency


def test_a_ratio_guardrail_shows_the_ratio_its_bound_and_status() -> None:
    rails = section(render(sample("sample_rollback"), "table"), "Guardrails")
    latency = next(line.split() for line in rails.splitlines() if "p95 latency" in line)
    times = "\u00d7"
    assert latency[1:] == [
        "p95", "latency", "≤", f"{times}1.30", "control", f"{times}1.42", "[1.31,", "1.55]",
        "✗", "breached",
    ]  # fmt: skip


@pytest.mark.parametrize("name", SAMPLES)
def test_every_guardrail_has_a_row_with_its_status(name: str) -> None:
    report = sample(name)
    rails = section(render(report, "table"), "Guardrails").splitlines()[3:]
    assert [row.split()[-1] for row in rails] == [g["status"] for g in report["guardrails"]]


def test_nulls_render_as_a_dash() -> None:
    table = render(sample("sample_empty"), "table")
    arms = section(table, "Arms").splitlines()[3:]
    assert all(row.split()[4:] == ["—"] * 6 for row in arms)
    assert "Hypothesis  —" in table


def test_a_sample_ratio_mismatch_is_called_out() -> None:
    srm = section(render(sample("sample_three_arms"), "table"), "Sample ratio")
    assert "  p < 0.001: SAMPLE RATIO MISMATCH, the arms did not get the traffic" in srm


def test_a_skipped_sample_ratio_check_says_why() -> None:
    report = sample("sample_empty")
    srm = section(render(report, "table"), "Sample ratio")
    assert f"not checked: {report['srm']['skipped']}" in srm


def test_sample_size_progress_is_units_over_required() -> None:
    report = sample("sample_rollback")
    progress = section(render(report, "table"), "Sample size")
    required = report["sampleSize"]["requiredPerArm"]
    for arm, units in report["sampleSize"]["observedPerArm"].items():
        row = next(line for line in progress.splitlines() if line.split()[0] == arm)
        assert row.endswith(f"{units / required:.0%}")


def test_population_counts_every_reason_and_problem() -> None:
    report = sample("sample_rollback")
    population = section(render(report, "table"), "Population")
    for reason, count in report["population"]["byReason"].items():
        assert re.search(rf"not randomised: {reason}\s+{count:,}\b", population)
    assert re.search(r"more than one arm \(left out\)\s+3\b", population)
    assert re.search(r"outcomes without an exposure\s+17\b", population)


def test_health_shows_how_long_ago_each_arm_was_heard_from() -> None:
    health = section(render(sample("sample_rollback"), "table"), "Health")
    assert "2026-11-29 16:12 UTC (3.8 h ago)" in health


def test_config_versions_each_have_a_row() -> None:
    report = sample("sample_rollback")
    versions = section(render(report, "table"), "Config versions")
    for version in report["configVersions"]:
        assert re.search(rf"{version['configVersion']}\s+{version['units']:,}\s", versions)


def test_input_problems_list_every_malformed_line() -> None:
    report = sample("sample_rollback")
    table = render(report, "table")
    for line in report["input"]["malformedLines"]:
        assert f"  malformed: {line}\n" in table
    assert re.search(r"torn last lines\s+1\n", table)


def test_segments_get_a_section_per_value_with_holm_p_values() -> None:
    report = sample("sample_three_arms")
    table = render(report, "table")
    for segment in report["segments"]:
        title = f"━━ Segment: {segment['attribute']} = {segment['value']} ━━"
        part = table[table.index(title) :]
        for comparison in segment["comparisons"]:
            assert f"{comparison['pValueHolm']:.3f}" in part
    assert "p (Holm)" in table


def test_control_characters_in_a_name_cannot_reach_the_terminal() -> None:
    report = renamed(sample("sample_promote"), "candidate", "cand\x1b[2Jidate")
    table = render(report, "table")
    assert "\x1b" not in table
    assert "cand\\x1b[2Jidate" in table


# -- JSON --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_json_round_trips(name: str) -> None:
    report = sample(name)
    assert json.loads(render(report, "json")) == report


@pytest.mark.parametrize("name", SAMPLES)
def test_json_keeps_the_documented_key_order(name: str) -> None:
    report = sample(name)
    assert list(json.loads(render(report, "json"))) == list(report)


def test_json_is_indented_by_two_with_one_trailing_newline() -> None:
    out = render(sample("sample_promote"), "json")
    assert out.startswith('{\n  "flagKey": ')
    assert out.endswith("}\n") and not out.endswith("\n\n")


def test_json_writes_a_value_that_is_not_a_number_as_null() -> None:
    report = sample("sample_promote")
    report["srm"]["pValue"] = math.nan
    report["arms"][0]["latencyMs"]["p99"] = math.inf
    out = json.loads(render(report, "json"))
    assert out["srm"]["pValue"] is None and out["arms"][0]["latencyMs"]["p99"] is None


# -- Markdown ----------------------------------------------------------------------------------


def test_markdown_opens_with_the_verdict_heading_and_the_command_block() -> None:
    report = sample("sample_rollback")
    md = render(report, "markdown")
    assert md.startswith("## 🔴 ROLLBACK · support_answer_model_route")
    assert f"\n```sh\n{report['decision']['command']}\n```\n" in md


@pytest.mark.parametrize("name", SAMPLES)
def test_markdown_tables_have_as_many_cells_as_columns(name: str) -> None:
    blocks = render(sample(name), "markdown").split("\n\n")
    tables = [block for block in blocks if block.startswith("|")]
    assert len(tables) >= 8
    for table in tables:
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(counts) == 1, table


@pytest.mark.parametrize("name", SAMPLES)
def test_markdown_has_a_table_per_part(name: str) -> None:
    md = render(sample(name), "markdown")
    for title in ("Arms", "Guardrails", "Sample ratio", "Sample size"):
        assert f"\n### {title}\n" in md
    for title in ("Population", "Health", "Config versions", "Input"):
        assert f"\n#### {title}\n" in md


def test_markdown_escapes_names_that_would_be_markup() -> None:
    report = renamed(sample("sample_promote"), "candidate", "a|b <script>x</script> **c**")
    md = render(report, "markdown")
    assert "<script>" not in md
    assert "a\\|b &lt;script>x&lt;/script> \\*\\*c\\*\\*" in md


def test_markdown_numbers_stay_readable_in_the_raw_comment() -> None:
    md = render(sample("sample_promote"), "markdown")
    assert "| +3.1 pp | [+1.8, +4.4] | +4.4% | <0.001 |" in md


def test_markdown_folds_segments_into_details() -> None:
    md = render(sample("sample_three_arms"), "markdown")
    assert "<details><summary>Segment: plan = pro</summary>" in md
    assert md.count("<details>") == md.count("</details>") == 3


# -- HTML (content; the browser test loads it for real) ----------------------------------------


def test_html_shows_a_variation_named_script_as_text() -> None:
    report = renamed(sample("sample_rollback"), "candidate", "<script>alert(1)</script>")
    page = render(report, "html")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("name", SAMPLES)
def test_html_fetches_nothing(name: str) -> None:
    page = render(sample(name), "html")
    for reference in ("http:", "https:", "//", "src=", "href=", "url(", "@import", "<link"):
        assert reference not in page


def test_html_puts_the_verdict_first_then_the_arms_then_the_charts() -> None:
    page = render(sample("sample_promote"), "html")
    order = [page.index(mark) for mark in (
        'id="verdict"', "Hypothesis", 'id="arms"', 'class="latency-chart"',
        'class="primary-chart"', 'id="comparisons"', 'id="guardrails"', 'id="srm"',
        'id="population"', 'id="health"',
    )]  # fmt: skip
    assert order == sorted(order)


def test_html_charts_draw_a_bar_per_quantile_and_a_dot_per_arm() -> None:
    report = sample("sample_three_arms")
    page = render(report, "html")
    latency = page[page.index('class="latency-chart"') : page.index("</svg>")]
    primary = page[page.index('class="primary-chart"') :]
    primary = primary[: primary.index("</svg>")]
    assert latency.count("<rect") == 3 + 3 * len(report["arms"])  # the legend, then the bars
    assert primary.count("<circle") == len(report["arms"])


def test_html_without_data_says_so_instead_of_drawing() -> None:
    page = render(sample("sample_empty"), "html")
    assert "<svg" not in page
    assert "No latency recorded yet." in page


@pytest.mark.parametrize(
    ("means", "p99"),
    [((1e15, 1e15 + 1e-3), 1e300), ((-1e308, 1e308), 5e-324), ((0.5, 0.5), 0.0)],
    ids=["huge-and-close", "widest-and-tiniest", "all-equal"],
)
def test_html_charts_stay_finite_for_extreme_values(means: tuple[float, float], p99: float) -> None:
    report = sample("sample_promote")
    for arm, mean in zip(report["arms"], means, strict=True):
        arm["metrics"]["resolvedWithoutEscalation"] = {"mean": mean, "ci95": [mean, mean]}
        arm["latencyMs"]["p99"] = p99
    page = render(report, "html")
    svg = page[page.index("<svg") : page.rindex("</svg>")]
    assert not re.search(r"nan|inf", svg, re.IGNORECASE)
    assert svg.count("<circle") == 2
