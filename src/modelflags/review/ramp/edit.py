"""A ramp step as an edit of the flag file: only the split's weights change.

The weights come from :func:`~.plan.plan_ramp`; an arm new to the split is appended to it, and
every other byte of the file is kept. A step that would move units out of the ramped arm is
refused unless forced (``ramp-down``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from modelflags.review.editing.comparison import Comparison
from modelflags.review.editing.edited_source import load_with, validate_edit
from modelflags.review.editing.file_edit import EditOutcome, carry_out
from modelflags.review.editing.flag_files import locate_flag
from modelflags.review.editing.flag_text import FlagText
from modelflags.review.editing.text_edit import Span, unified_diff
from modelflags.review.ramp.plan import RampError, RampPlan, plan_ramp

__all__ = ["RampEdit", "ramp_flag", "ramp_text"]


@dataclass(frozen=True)
class RampEdit:
    """The result of a ramp: the plan, the new file text and a unified diff against the old."""

    file: str
    flag_key: str
    plan: RampPlan
    text: str
    diff: str

    @property
    def changed(self) -> bool:
        return bool(self.diff)


def ramp_text(
    text: str,
    file: str,
    flag_key: str,
    variation: str,
    percent: Decimal,
    *,
    force: bool = False,
    others: Sequence[tuple[str, bytes]] = (),
) -> RampEdit:
    """Ramp ``variation`` of ``flag_key`` to ``percent``% of its split in the file ``text``.

    ``others`` are the other files of the source, validated with the result. Raises
    :class:`FlagFileError`, located, when the file or the edited file does not validate, the
    flag, the variation or the split does not exist, the split is shared through an anchor or
    merge key with another flag, or the step would move units out of ``variation`` and
    ``force`` is false (``ramp-down``).
    """
    load_with(file, text, others)  # the file as it is must be valid
    flag = FlagText.parse(text, file, flag_key, "ramp")
    flag.require_variation(variation)
    split = flag.data.get("split")
    if not isinstance(split, dict):
        message = f"flag '{flag_key}' has no split to ramp"
        hint = f"add one first, e.g. 'split: {{{flag.data['default']}: 100}}'"
        raise flag.refusal("no-split", message, hint)
    flag.require_own(("split",))
    try:
        plan = plan_ramp(split, variation, percent)
    except RampError as error:
        raise flag.refusal("ramp-impossible", str(error), "", ("split",)) from error
    if plan.moves_out and not force:
        old = Fraction(split.get(variation, 0), sum(split.values()))
        message = (
            f"ramping '{variation}' from {float(old) * 100:.4g}% to {percent}% of the split "
            f"moves {plan.share_out():.1%} of its units out of it"
        )
        hint = "pass --force to ramp down anyway, or roll back instead"
        raise flag.refusal("ramp-down", message, hint, ("split", variation))
    spans: list[Span | None] = [
        flag.replace(("split", arm), w) if arm in split else flag.append(("split",), arm, w)
        for arm, w in plan.after.items()
    ]
    new_text = flag.apply(spans)
    flag.check(new_text, {**flag.data, "split": plan.after})
    validate_edit(file, new_text, others, command="ramp", where=flag.where)
    return RampEdit(file, flag_key, plan, new_text, unified_diff(text, new_text, file))


def ramp_flag(
    flag_key: str,
    variation: str,
    percent: Decimal,
    *,
    now: float,
    force: bool = False,
    file: str | None = None,
    flags: str | None = None,
    dry_run: bool = False,
) -> EditOutcome[RampEdit]:
    """``modelflags ramp``: find the file that defines ``flag_key`` (``file``, else in the
    source ``flags``, default ``flags/``), ramp the flag (:func:`ramp_text`), compare the
    source before and after at ``now`` and rewrite the file atomically unless ``dry_run`` or
    nothing changes."""
    location = locate_flag(flag_key, file, flags)

    def edit(text: str) -> RampEdit:
        return ramp_text(
            text, location.file, flag_key, variation, percent,
            force=force, others=location.others,
        )  # fmt: skip

    return carry_out(location, edit, dry_run=dry_run, compare=Comparison(now))
