"""CompiledFlag.forced: one variation for everyone, whatever the flag's steps."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from modelflags.engine import CompiledFlag, Reason, StepName, decide
from modelflags.schema.models import Flag
from modelflags.testing import flags_from_yaml

NOW = datetime(2026, 3, 15, tzinfo=timezone.utc).timestamp()
LATE = datetime(2027, 1, 1, tzinfo=timezone.utc).timestamp()

# Off, with every step that can decide, so that nothing but forcing serves 'c' to everyone.
BUSY = """\
version: 1
segments:
  blocked: {blocked: true}
flags:
  f:
    state: off
    default: a
    variations: {a: {route: x}, b: {route: y}, c: {route: z}}
    assignment: {unit: conversation, key: uid, salt: s1}
    exclusions: {segments: [blocked], serve: b}
    rules:
      - {name: vip, when: {vip: true}, serve: b}
      - {name: staff, when: {staff: true}, split: {a: 1, b: 1}}
    eligible: {plan: pro}
    schedule: {start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z'}
    coverage: 10
    split: {a: 1, b: 1}
    experiment: {key: exp-1, control: a}
    metadata: {team: support}
"""
CONTEXTS = [
    {},
    {"uid": "u1"},
    {"uid": "u2", "blocked": True},
    {"uid": "u3", "vip": True},
    {"uid": "u4", "staff": True},
    {"uid": "u5", "plan": "free"},
    *({"uid": f"u{i}", "plan": "pro"} for i in range(50)),
]


@pytest.fixture(scope="module")
def busy() -> CompiledFlag:
    return flags_from_yaml(BUSY).flags["f"]


@pytest.mark.parametrize("now", [NOW, LATE, None])
def test_a_forced_flag_serves_the_variation_to_every_context(
    busy: CompiledFlag, now: float | None
) -> None:
    forced = busy.forced("c")
    decided = {
        (decision.variant, decision.reason, decision.rule, decision.error)
        for decision, _ in (decide(forced, context, None, now) for context in CONTEXTS)
    }
    assert decided == {("c", Reason.STATIC, StepName.DEFAULT, None)}


def test_a_forced_flag_keeps_what_describes_the_flag(busy: CompiledFlag) -> None:
    forced = busy.forced("c")
    assert forced.metadata == busy.metadata
    assert (forced.kind, forced.values, forced.unit_key, forced.salt) == (
        busy.kind,
        busy.values,
        busy.unit_key,
        busy.salt,
    )
    assert forced.fresh["c"]() == {"route": "z"}


def test_a_forced_flag_still_names_the_unit(busy: CompiledFlag) -> None:
    assert decide(busy.forced("c"), {"uid": 7}, None, NOW)[1] == "7"


def test_a_forced_flag_still_refuses_a_unit_id_of_an_unusable_type(busy: CompiledFlag) -> None:
    decision, _ = decide(busy.forced("c"), {"uid": True}, None, NOW)
    assert (decision.rule, decision.error) == (StepName.NO_UNIT, "INVALID_CONTEXT")


def test_a_forced_flag_keeps_only_the_describing_parts_of_its_source(busy: CompiledFlag) -> None:
    """Every part of the flag file not kept is at its default: a step added to the format
    later (with an inactive default, as every step has) cannot stay active when forcing."""
    kept = {"description", "owner", "default", "variations", "assignment", "experiment",
            "metadata"}  # fmt: skip
    source = busy.forced("c").source
    for name, field in Flag.model_fields.items():
        if name not in kept:
            assert getattr(source, name) == field.get_default(call_default_factory=True), name
    assert source.default == "c"


def test_forcing_a_variation_the_flag_lacks_is_a_value_error(busy: CompiledFlag) -> None:
    with pytest.raises(ValueError, match="has no variation 'd'"):
        busy.forced("d")
