"""Promoting a winner: the edit (default set; split, coverage, schedule, experiment and the
unserved losers removed; every other byte kept), a result that validates without warnings,
what the engine then serves, and shared YAML refused."""

from __future__ import annotations

import difflib
import shutil
import time
from pathlib import Path

import pytest

from modelflags.engine import compile_flags, decide
from modelflags.errors import FlagFileError
from modelflags.loader import InlineSource, load
from modelflags.review.editing.comparison import edit_report
from modelflags.review.promote.edit import promote_text
from modelflags.review.validate.source_report import check_source

ROOT = Path(__file__).resolve().parents[3]
SUPPORT = "support_answer_model_route"


def promote(text: str, variation: str, key: str = "f") -> str:
    return promote_text(text, "f.yaml", key, variation).text


def refusal(text: str, variation: str, key: str = "f") -> str:
    with pytest.raises(FlagFileError) as error:
        promote(text, variation, key)
    return str(error.value.issues[0])


def removed_and_added(old: str, new: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(old.splitlines(keepends=True), new.splitlines(keepends=True)))
    return (
        [line[2:] for line in diff if line.startswith("- ")],
        [line[2:] for line in diff if line.startswith("+ ")],
    )


BLOCK = """\
# Summaries: small against large
version: 1
flags:
  f:
    owner: team        # who to page
    default: small
    variations:
      small: summarizer_small_v2   # today
      large: summarizer_large_v1   # the candidate
      tiny: summarizer_tiny_v0     # modelflags: ignore[unserved-variation]
    rules:
      - name: vip
        when: {plan: enterprise}
        serve: small
    # the experiment
    coverage: 50
    schedule: {start: 2026-11-01T00:00:00Z}
    split:
      small: 50
      large: 50
    experiment:
      key: summaries-2026-11
      control: small
      # guardrails come later
    metadata: {ticket: AI-7}

  g:
    default: x
    variations: {x: 1, y: 2}   # modelflags: ignore[unserved-variation]
"""


def test_block_style_removes_the_experiment_lines_and_keeps_every_other_byte() -> None:
    new = promote(BLOCK, "large")
    assert removed_and_added(BLOCK, new) == (
        [
            "    default: small\n",
            "    coverage: 50\n",
            "    schedule: {start: 2026-11-01T00:00:00Z}\n",
            "    split:\n", "      small: 50\n", "      large: 50\n",
            "    experiment:\n", "      key: summaries-2026-11\n", "      control: small\n",
            "      # guardrails come later\n",
        ],
        ["    default: large\n"],
    )  # fmt: skip
    assert "    # the experiment\n    metadata: {ticket: AI-7}\n" in new


def test_a_loser_that_a_rule_still_serves_is_kept() -> None:
    flags = load(InlineSource(promote(BLOCK, "large"))).config.flags
    assert set(flags["f"].variations) == {"small", "large", "tiny"}  # the vip rule serves small
    without_rule = BLOCK.replace("        serve: small\n", "        serve: large\n")
    new = promote(without_rule, "large")
    assert "      small: summarizer_small_v2   # today\n" not in new
    assert set(load(InlineSource(new)).config.flags["f"].variations) == {"large", "tiny"}


FLOW = (
    "version: 1\nflags:\n"
    """  f: {state: 'on', default: "a", variations: {a: 1, b: 2}, """
    "split: {a: 50, b: 50}, coverage: 20}  # keep\n"
)


def test_flow_style_removes_pairs_and_their_commas() -> None:
    assert promote(FLOW, "b") == FLOW.replace(
        """default: "a", variations: {a: 1, b: 2}, split: {a: 50, b: 50}, coverage: 20}""",
        """default: "b", variations: {b: 2}}""",
    )
    middle = FLOW.replace(
        "split: {a: 50, b: 50}, coverage: 20", "coverage: 20, split: {a: 50, b: 50}"
    )
    assert promote(middle.replace("{state: 'on', ", "{"), "a") == FLOW.replace(
        "{state: 'on', ", "{"
    ).replace(
        "variations: {a: 1, b: 2}, split: {a: 50, b: 50}, coverage: 20}", "variations: {a: 1}}"
    )


def test_the_promoted_support_file_validates_strictly_and_serves_the_winner(
    tmp_path: Path,
) -> None:
    path = tmp_path / "support.yaml"
    shutil.copy(ROOT / "flags" / "support.yaml", path)
    edit = promote_text(path.read_text(), str(path), SUPPORT, "candidate")
    assert (edit.removed_keys, edit.removed_variations) == (
        ("coverage", "split", "experiment"), ("control",)
    )  # fmt: skip
    path.write_text(edit.text)
    report = check_source(path, now=time.time())
    assert report.ok(strict=True), [str(issue) for issue in (*report.errors, *report.warnings)]
    flag = compile_flags(load(path).config, "v")[SUPPORT]
    eligible = {"plan": "pro", "channel": "chat", "accountId": "acct_3"}
    served = {
        decide(flag, {**eligible, "conversationId": f"c{i}"}, None, None)[0].variant
        for i in range(200)
    }
    assert served == {"candidate"}
    excluded = {**eligible, "accountId": "acct_42", "conversationId": "c1"}
    assert decide(flag, excluded, None, None)[0].variant == "fallback"  # exclusions stay
    assert "experimentKey" not in flag.metadata


def test_the_blast_radius_of_a_flag_without_conditions_is_exact() -> None:
    new = promote(
        BLOCK.replace(BLOCK[BLOCK.index("    rules:") : BLOCK.index("    # the")], ""), "large"
    )
    old = BLOCK.replace(BLOCK[BLOCK.index("    rules:") : BLOCK.index("    # the")], "")
    now = time.mktime((2026, 12, 1, 0, 0, 0, 0, 0, 0))
    report = edit_report("f.yaml", old, new, (), now=now)
    radius = report.flags[0].blast_radius
    assert radius is not None and radius.method == "exact"
    # coverage 50: half got the default (small) and half the split; all now get large
    assert radius.matrix == pytest.approx({("small", "large"): 0.75, ("large", "large"): 0.25})


def test_an_off_flag_a_flag_without_split_and_an_untested_arm_are_refused() -> None:
    off = BLOCK.replace(
        "    owner: team        # who to page\n", "    owner: team\n    state: off\n"
    )
    assert refusal(off, "large").startswith("f.yaml:6:5: [promote-off]")
    assert refusal(BLOCK, "tiny").startswith("f.yaml:18:5: [not-an-arm] 'tiny' gets no units")
    assert refusal(BLOCK, "y", key="g").startswith("f.yaml:27:3: [no-split]")
    assert not promote_text(BLOCK, "f.yaml", "g", "x").changed  # already the default
    assert "did you mean 'large'?" in refusal(BLOCK, "lrage")


def test_a_promoted_flag_is_not_changed_again() -> None:
    once = promote(BLOCK, "large")
    edit = promote_text(once, "f.yaml", "f", "large")
    assert (edit.changed, edit.text) == (False, once)


MERGED = """\
version: 1
flags:
  base: &base
    default: a
    variations: {a: 1, b: 2}
    split: {a: 50, b: 50}
  copy:
    <<: *base
    owner: team
"""


def test_a_split_that_another_flag_merges_is_refused_from_either_flag() -> None:
    message = refusal(MERGED, "b", key="base")
    assert message.startswith("f.yaml:8:5: [shared-yaml] promote of flag 'base' would also")
    assert refusal(MERGED, "b", key="copy").startswith(
        "f.yaml:8:5: [shared-yaml] 'split' of flag 'copy' comes from a merge key"
    )


def test_removing_an_anchor_that_another_flag_uses_is_refused() -> None:
    text = MERGED.replace("    <<: *base\n", "    default: a\n    variations: {a: 1, b: 2}\n")
    text = text.replace("split: {a: 50, b: 50}", "split: &s {a: 50, b: 50}") + "    split: *s\n"
    message = refusal(text, "b", key="base")
    assert message.startswith("f.yaml:6:5: [shared-yaml] removing 'split' of flag 'base'")
    assert "anchor &s, which line 11, column 12 uses" in message
