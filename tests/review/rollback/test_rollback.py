"""Rollback through the shared span editor: YAML shared between flags through anchors,
aliases and merge keys is refused where the edit would change another flag, and edited
where it would not. (Byte preservation on the repository's files: tests/cli.)"""

from __future__ import annotations

import pytest

from modelflags.errors import FlagFileError
from modelflags.loader import InlineSource, load
from modelflags.review.rollback.edit import rollback_text

MERGED = """\
version: 1
flags:
  base: &base
    default: a
    variations: {a: 1, b: 2, fallback: 3}
    split: {a: 50, b: 50}
  copy:
    <<: *base
    owner: team
"""


def refusal(text: str, key: str) -> str:
    with pytest.raises(FlagFileError) as error:
        rollback_text(text, "f.yaml", key)
    return str(error.value.issues[0])


def test_rolling_back_a_mapping_that_another_flag_merges_is_refused_at_the_merge_key() -> None:
    message = refusal(MERGED, "base")
    assert message.startswith("f.yaml:8:5: [shared-yaml] rollback of flag 'base' would also")
    assert "'flags.copy.default', 'flags.copy.state' (merged with '<<'" in message


def test_rolling_back_the_merging_flag_writes_its_own_keys_and_leaves_the_base() -> None:
    edit = rollback_text(MERGED, "f.yaml", "copy")
    assert edit.text == MERGED.replace(
        "  copy:\n", "  copy:\n    state: off\n    default: fallback\n"
    )
    flags = load(InlineSource(edit.text)).config.flags
    assert (flags["copy"].state, flags["copy"].default) == ("off", "fallback")
    assert (flags["base"].state, flags["base"].default) == ("on", "a")


def test_a_merging_flag_that_overrides_both_values_lets_the_base_roll_back() -> None:
    text = MERGED + "    state: on\n    default: b\n"
    edit = rollback_text(text, "f.yaml", "base")
    assert edit.text == text.replace("  base: &base\n", "  base: &base\n    state: off\n").replace(
        "    default: a\n", "    default: fallback\n"
    )


ALIASED = """\
version: 1
flags:
  base: &base
    state: on
    default: a
    variations: {a: 1, fallback: 3}
  twin: *base
"""


def test_a_flag_that_is_an_alias_of_another_is_refused_from_either_side() -> None:
    assert refusal(ALIASED, "twin").startswith(
        "f.yaml:7:3: [shared-yaml] flag 'twin' is an alias of the mapping at line 3"
    )
    message = refusal(ALIASED, "base")
    assert message.startswith("f.yaml:7:3: [shared-yaml] rollback of flag 'base' would also")
    assert "(an alias of flag 'base')" in message


SHARED_DEFAULT = """\
version: 1
flags:
  one:
    default: &d a
    variations: {a: 1, fallback: 3}
  two:
    default: *d
    variations: {a: 1, fallback: 3}
"""


def test_a_default_shared_through_an_anchor_is_refused_from_either_side() -> None:
    message = refusal(SHARED_DEFAULT, "one")
    assert message.startswith("f.yaml:7:5: [shared-yaml] rollback of flag 'one' would also")
    assert "'flags.two.default'" in message
    assert refusal(SHARED_DEFAULT, "two").startswith(
        "f.yaml:7:5: [shared-yaml] 'default' of flag 'two' is an alias"
    )


def test_an_anchored_value_used_nowhere_else_keeps_its_anchor() -> None:
    text = SHARED_DEFAULT.replace("default: *d", "default: a")
    edit = rollback_text(text, "f.yaml", "one")
    assert "    state: off\n    default: &d fallback\n" in edit.text
    assert edit.text.replace("    state: off\n", "", 1) == text.replace("&d a", "&d fallback")
