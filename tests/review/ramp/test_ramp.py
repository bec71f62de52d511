"""Ramping one arm of a split: the integer weights (exact share, kept ratios, the monotone
guarantee against the rendezvous maths), and the text edit (every other byte kept, shared
YAML refused)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelflags.errors import FlagFileError
from modelflags.loader import InlineSource, load
from modelflags.review.diff.rendezvous import rendezvous_joint
from modelflags.review.ramp.edit import ramp_text
from modelflags.review.ramp.plan import RampError, parse_percent, plan_ramp


def ramp(text: str, variation: str, percent: str, key: str = "f", **kwargs: bool) -> str:
    """The file after ramping ``variation`` of flag ``key`` to ``percent``."""
    return ramp_text(text, "f.yaml", key, variation, Decimal(percent), **kwargs).text


def refusal(text: str, variation: str, percent: str, key: str = "f") -> str:
    """The first located issue of a refused ramp, as printed."""
    with pytest.raises(FlagFileError) as error:
        ramp(text, variation, percent, key)
    return str(error.value.issues[0])


# --- weights ----------------------------------------------------------------------------


def test_ten_to_twenty_five_gives_seventy_five_twenty_five() -> None:
    plan = plan_ramp({"control": 90, "candidate": 10}, "candidate", Decimal(25))
    assert (plan.after, plan.total) == ({"control": 75, "candidate": 25}, 100)
    assert plan.exact_ratio and not plan.moves_out


def test_the_total_is_the_smallest_power_of_ten_that_writes_the_percent() -> None:
    assert plan_ramp({"c": 90, "t": 10}, "t", Decimal("12.5")).after == {"c": 875, "t": 125}
    plan = plan_ramp({"c": 90, "t": 10}, "t", Decimal("12.3456"))
    assert (plan.total, plan.after["t"]) == (1_000_000, 123_456)


def test_three_arms_keep_their_ratio_when_integers_allow() -> None:
    plan = plan_ramp({"a": 60, "b": 30, "c": 10}, "c", Decimal(40))
    assert plan.after == {"a": 40, "b": 20, "c": 40} and plan.exact_ratio


def test_three_arms_rounding_is_reported_and_moves_units_only_between_the_others() -> None:
    plan = plan_ramp({"a": 50, "b": 30, "c": 20}, "c", Decimal(40))
    assert plan.after == {"a": 38, "b": 22, "c": 40}  # 37.5 / 22.5: the first arm rounds up
    assert not plan.exact_ratio and not plan.moves_out
    joint = rendezvous_joint(plan.before, plan.after)
    assert joint[("b", "a")] > 0  # a's weight grew against b's: some of b's units move to a
    assert not any(p > 1e-12 for (old, new), p in joint.items() if old == "c" != new)


def test_a_new_arm_is_added_with_the_percent() -> None:
    plan = plan_ramp({"control": 100}, "candidate", Decimal(10))
    assert list(plan.after.items()) == [("control", 90), ("candidate", 10)]


def test_rounding_that_would_drop_an_arm_uses_the_next_total() -> None:
    plan = plan_ramp({"a": 1, "b": 999}, "v", Decimal(50))
    assert plan.total == 1000 and plan.after == {"a": 1, "b": 499, "v": 500}


def test_lowering_a_share_moves_units_out_of_it() -> None:
    plan = plan_ramp({"c": 75, "t": 25}, "t", Decimal(10))
    assert plan.moves_out and plan.after == {"c": 90, "t": 10}
    assert plan.share_out() == pytest.approx((25 - 10) / 25, abs=1e-12)


def test_the_same_share_is_no_change() -> None:
    plan = plan_ramp({"c": 3, "t": 1}, "t", Decimal(25))
    assert not plan.changed and plan.after == {"c": 3, "t": 1}


def test_the_rest_needs_another_arm_with_weight() -> None:
    with pytest.raises(RampError, match="no other arm"):
        plan_ramp({"t": 100, "c": 0}, "t", Decimal(50))


@pytest.mark.parametrize("text", ["101", "-1", "abc", "1.23456", "nan", "1e1", ""])
def test_bad_percents_are_refused(text: str) -> None:
    with pytest.raises(RampError):
        parse_percent(text)


@pytest.mark.parametrize(("text", "value"), [("25", "25"), ("12.5%", "12.5"), ("0", "0")])
def test_percents_parse_as_decimals(text: str, value: str) -> None:
    assert parse_percent(text) == Decimal(value)


weights = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 1000), min_size=2, max_size=4
).filter(lambda w: sum(w.values()) > 0)


@given(weights, st.integers(0, 3), st.integers(1, 10_000))
def test_raising_a_share_moves_no_unit_out_and_gives_it_exactly_the_percent(
    before: dict[str, int], pick: int, hundredths: int
) -> None:
    variation = sorted(before)[pick % len(before)]
    old_share = Fraction(before[variation], sum(before.values()))
    percent = Decimal(hundredths) / 100
    others = sum(w for arm, w in before.items() if arm != variation)
    if Fraction(percent) / 100 <= old_share or (percent < 100 and not others):
        return  # not a raise, or nothing can take the rest
    plan = plan_ramp(before, variation, percent)
    assert Fraction(plan.after[variation], plan.total) == Fraction(percent) / 100
    assert sum(plan.after.values()) == plan.total
    assert not plan.moves_out
    joint = rendezvous_joint(plan.before, plan.after)
    assert not any(p > 1e-9 for (a, b), p in joint.items() if a == variation != b)
    if percent < 100:  # no arm that had weight loses it
        assert all(plan.after[arm] > 0 for arm, w in before.items() if w > 0)


# --- the text edit ----------------------------------------------------------------------

BLOCK = """\
# ramp plan: 10, 25, 50, 100
version: 1
flags:
  f:
    default: control   # the safe route
    variations: {control: 1, candidate: 2}
    split:
      control: 90      # most units
      # the new route
      candidate: 10
    owner: team
"""


def test_block_style_keeps_comments_and_spacing() -> None:
    assert ramp(BLOCK, "candidate", "25") == BLOCK.replace(
        "control: 90      #", "control: 75      #"
    ).replace("candidate: 10", "candidate: 25")


FLOW = (
    "version: 1\nflags:\n  f: {default: 'control', variations: {control: 1, candidate: 2}, "
    "split: {control: 90, candidate: 10}}  # keep\n"
)


def test_flow_style_keeps_quotes_and_the_comment() -> None:
    assert ramp(FLOW, "candidate", "12.5") == FLOW.replace(
        "{control: 90, candidate: 10}", "{control: 875, candidate: 125}"
    )


def test_a_new_arm_is_appended_in_block_and_flow_style() -> None:
    block = BLOCK.replace("      # the new route\n      candidate: 10\n", "")
    block = block.replace("control: 90 ", "control: 100")
    assert ramp(block, "candidate", "10") == block.replace(
        "control: 100     # most units\n", "control: 90     # most units\n      candidate: 10\n"
    )
    flow = FLOW.replace("{control: 90, candidate: 10}", "{control: 100}")
    assert ramp(flow, "candidate", "10") == FLOW


def test_crlf_line_endings_are_kept() -> None:
    text = "version: 1\r\nflags:\r\n  f:\r\n    default: a\r\n    variations: {a: 1, b: 2}\r\n"
    text += "    split:\r\n      a: 100\r\n"
    assert (
        ramp(text, "b", "5").encode()
        == text.replace("a: 100\r\n", "a: 95\r\n      b: 5\r\n").encode()
    )


def test_three_arm_ramp_edits_all_three_weights() -> None:
    text = BLOCK.replace("{control: 1, candidate: 2}", "{control: 1, candidate: 2, other: 3}")
    text = text.replace("candidate: 10\n", "candidate: 20\n      other: 30\n")
    text = text.replace("control: 90 ", "control: 50 ")
    new = ramp(text, "candidate", "40")
    assert "control: 38      # most units" in new and "candidate: 40\n      other: 22\n" in new
    assert load(InlineSource(new)).config.flags["f"].split == {
        "control": 38, "candidate": 40, "other": 22
    }  # fmt: skip


def test_lowering_is_refused_unless_forced() -> None:
    text = BLOCK.replace("control: 90 ", "control: 75 ").replace("candidate: 10", "candidate: 25")
    message = refusal(text, "candidate", "10")
    assert message.startswith("f.yaml:10:7: [ramp-down]")
    assert "moves 60.0% of its units out of it" in message and "--force" in message
    assert ramp(text, "candidate", "10", force=True) == BLOCK


def test_a_flag_without_a_split_is_a_located_error() -> None:
    text = BLOCK[: BLOCK.index("    split:")] + "    owner: team\n"
    assert refusal(text, "candidate", "10").startswith("f.yaml:4:3: [no-split]")


def test_an_unknown_variation_or_flag_has_a_did_you_mean() -> None:
    assert "did you mean 'candidate'?" in refusal(BLOCK, "candidat", "10")
    assert refusal(BLOCK, "candidate", "10", key="g").startswith("f.yaml:3:1: [unknown-flag]")


def test_no_other_weight_is_a_located_error() -> None:
    text = BLOCK.replace("control: 90 ", "control: 0  ")
    assert "[ramp-impossible] no other arm" in refusal(text, "candidate", "50")


SHARED_SPLIT = """\
version: 1
flags:
  a:
    default: x
    variations: {x: 1, y: 2}
    split: &ab {x: 90, y: 10}
  b:
    default: x
    variations: {x: 1, y: 2}
    split: *ab
"""

MERGED = """\
version: 1
flags:
  base: &base
    default: x
    variations: {x: 1, y: 2}
    split: {x: 90, y: 10}
  copy:
    <<: *base
    owner: team
"""


def test_a_split_shared_through_an_anchor_is_refused_from_either_flag() -> None:
    message = refusal(SHARED_SPLIT, "y", "25", key="a")
    assert message.startswith("f.yaml:10:5: [shared-yaml] ramp of flag 'a' would also change")
    assert "'flags.b.split.x'" in message
    assert refusal(SHARED_SPLIT, "y", "25", key="b").startswith(
        "f.yaml:10:5: [shared-yaml] 'split' of flag 'b' is an alias"
    )


def test_a_split_shared_through_a_merge_key_is_refused_from_either_flag() -> None:
    message = refusal(MERGED, "y", "25", key="base")
    assert message.startswith("f.yaml:8:5: [shared-yaml]")
    assert "(merged with '<<' from the edited text)" in message
    message = refusal(MERGED, "y", "25", key="copy")
    assert message.startswith("f.yaml:8:5: [shared-yaml] 'split' of flag 'copy' comes from a merge")


def test_a_merged_flag_with_its_own_split_is_edited_alone() -> None:
    text = MERGED + "    split: {x: 50, y: 50}\n"
    assert ramp(text, "y", "25", key="base") == text.replace("{x: 90, y: 10}", "{x: 75, y: 25}")
    assert ramp(text, "y", "75", key="copy") == text.replace("{x: 50, y: 50}", "{x: 25, y: 75}")


def test_an_arm_weight_shared_by_an_alias_is_refused() -> None:
    text = BLOCK.replace("control: 90 ", "control: &w 50").replace("candidate: 10", "candidate: *w")
    assert "[shared-yaml] 'split.candidate' of flag 'f' is an alias" in refusal(
        text, "candidate", "60"
    )


def test_the_result_validates_with_the_same_flags() -> None:
    config = load(InlineSource(ramp(BLOCK, "candidate", "25"))).config
    assert config.flags["f"].split == {"control": 75, "candidate": 25}
