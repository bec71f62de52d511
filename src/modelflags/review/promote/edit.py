"""Promotion as an edit: end a flag's experiment with the winning variation as its default.

The edit sets ``default: VARIATION`` and removes what only the experiment needed: ``split``,
``coverage`` and ``schedule`` (which only gate the split), ``experiment`` (so that exposures
stop carrying its key and the finished experiment's data is not mixed with the promoted
traffic), and the losing arms that nothing serves any more. ``state``, ``assignment``,
``exclusions``, ``rules``, ``eligible`` and ``metadata`` stay as they are. The result passes
``modelflags validate --strict``: a one-arm split (``single-arm-split``), an experiment without
a split (``control-not-in-split``) or a loser nobody serves (``unserved-variation``) would each
be a warning.

Every unit that reached the split now gets VARIATION, and so does every unit that got the
default before: units that are not eligible, held out by coverage or outside the schedule.
Exclusions and rules decide as before. The diff's blast radius shows all of it.

The text edit goes through the shared flag editor (:mod:`modelflags.review.editing`): the
``default`` scalar is replaced and the removed entries' lines (block style) or pairs (flow
style) are cut; every other byte is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelflags.review.editing.comparison import Comparison
from modelflags.review.editing.edited_source import load_with, validate_edit
from modelflags.review.editing.file_edit import EditOutcome, carry_out
from modelflags.review.editing.flag_files import locate_flag
from modelflags.review.editing.flag_text import FlagText
from modelflags.review.editing.text_edit import Span, unified_diff
from modelflags.review.validate.reachability import served_variations
from modelflags.schema.models import Flag

__all__ = ["EXPERIMENT_KEYS", "PromoteEdit", "promote_flag", "promote_text"]

EXPERIMENT_KEYS = ("coverage", "schedule", "split", "experiment")
"""The flag's keys a promotion removes (those present)."""


@dataclass(frozen=True)
class PromoteEdit:
    """The result of a promotion: what was removed, the new text and a unified diff."""

    file: str
    flag_key: str
    variation: str
    old_default: str
    removed_keys: tuple[str, ...]
    removed_variations: tuple[str, ...]
    """Losing arms that nothing serves after the promotion."""
    experiment_key: str | None
    """The key of the experiment the promotion ended (events no longer carry it)."""
    text: str
    diff: str

    @property
    def changed(self) -> bool:
        return bool(self.diff)


def promote_text(
    text: str,
    file: str,
    flag_key: str,
    variation: str,
    *,
    others: Sequence[tuple[str, bytes]] = (),
) -> PromoteEdit:
    """Promote ``variation`` of ``flag_key`` in the flag file ``text`` (see the module).

    ``others`` are the other files of the source, validated with the result. A flag without
    a split that already serves ``variation`` by default is left unchanged. Raises
    :class:`FlagFileError`, located, when the file or the edited file does not validate, the
    flag or the variation does not exist, the flag has no split or is off, ``variation`` is
    not an arm of the split, or a part to edit is shared with another flag through an anchor
    or merge key.
    """
    load_with(file, text, others)  # the file as it is must be valid
    flag = FlagText.parse(text, file, flag_key, "promote")
    flag.require_variation(variation)
    data = flag.data
    split = data.get("split")
    if split is None and data["default"] == variation:
        return PromoteEdit(file, flag_key, variation, variation, (), (), None, text, "")
    _require_promotable(flag, variation)
    assert isinstance(split, dict)  # the file validated and has a split
    removed = tuple(key for key in EXPERIMENT_KEYS if key in data)
    promoted = {key: value for key, value in data.items() if key not in removed}
    promoted["default"] = variation
    served = served_variations(Flag.model_validate(promoted))
    losers = tuple(arm for arm, weight in split.items() if weight > 0 and arm not in served)
    promoted["variations"] = {k: v for k, v in data["variations"].items() if k not in losers}
    own = flag.entry(("default",)) is not None  # else from a merge key: the flag's own wins
    spans: list[Span | None] = [
        flag.replace(("default",), variation) if own else flag.insert("default", variation)
    ]
    spans += flag.remove((), removed)
    if losers:
        spans += flag.remove(("variations",), losers)
    new_text = flag.apply(spans)
    flag.check(new_text, promoted)
    validate_edit(file, new_text, others, command="promote", where=flag.where)
    experiment = data.get("experiment")
    key = str(experiment["key"]) if isinstance(experiment, dict) else None
    diff = unified_diff(text, new_text, file)
    return PromoteEdit(
        file, flag_key, variation, str(data["default"]), removed, losers, key, new_text, diff
    )


def _require_promotable(flag: FlagText, variation: str) -> None:
    """Refuse a flag that is off, has no split, or does not split units into ``variation``."""
    data = flag.data
    if data.get("state") == "off":
        message = (
            f"flag '{flag.key}' is off: every unit gets '{data['default']}'; promoting would "
            "change what everyone gets while it is off"
        )
        hint = "switch it on first ('state: on'), or set 'default' by hand"
        raise flag.refusal("promote-off", message, hint, ("state",))
    split = data.get("split")
    if split is None:
        message = f"flag '{flag.key}' has no split: there is no experiment to end"
        hint = f"set 'default: {variation}' by hand to serve it"
        raise flag.refusal("no-split", message, hint)
    if split.get(variation, 0) <= 0:
        arms = ", ".join(f"{arm} {weight}" for arm, weight in split.items())
        message = f"'{variation}' gets no units in the split ({arms}): it was not tested"
        arms_in = [arm for arm, weight in split.items() if weight > 0]
        hint = f"promote one of {', '.join(arms_in)}, or set 'default' by hand"
        raise flag.refusal("not-an-arm", message, hint, ("split",))


def promote_flag(
    flag_key: str,
    variation: str,
    *,
    now: float,
    contexts: Sequence[Mapping[str, Any]] = (),
    samples: int = 100_000,
    file: str | None = None,
    flags: str | None = None,
    dry_run: bool = False,
) -> EditOutcome[PromoteEdit]:
    """``modelflags promote``: find the file that defines ``flag_key`` (``file``, else in the
    source ``flags``, default ``flags/``), promote ``variation`` (:func:`promote_text`),
    compare the source before and after at ``now`` (``contexts`` and ``samples`` as for
    ``modelflags diff``) and rewrite the file atomically unless ``dry_run`` or nothing
    changes."""
    location = locate_flag(flag_key, file, flags)

    def edit(text: str) -> PromoteEdit:
        return promote_text(text, location.file, flag_key, variation, others=location.others)

    compare = Comparison(now, contexts, samples)
    return carry_out(location, edit, dry_run=dry_run, compare=compare)
