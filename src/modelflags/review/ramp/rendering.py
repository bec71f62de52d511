"""What ``modelflags ramp`` prints: the diff, the blast radius as ``modelflags diff`` renders
it, and the step in words (the weights, the rounding, where each arm's units go)."""

from __future__ import annotations

from modelflags.review.diff.rendering import report_text
from modelflags.review.diff.report import DiffReport
from modelflags.review.editing.file_edit import EditOutcome
from modelflags.review.ramp.edit import RampEdit
from modelflags.review.ramp.plan import RampPlan

__all__ = ["edit_text", "no_change_message", "percent_text"]


def edit_text(outcome: EditOutcome[RampEdit]) -> str:
    """The unified diff, the diff report and the summary (standard output)."""
    edit, report = outcome.edit, outcome.report
    text = edit.diff + "\n" + (report_text(report) if report is not None else "")
    return text + "".join(f"{line}\n" for line in _summary(edit, report))


def no_change_message(edit: RampEdit) -> str:
    """Why a ramp changed nothing (standard error)."""
    plan = edit.plan
    return f"'{plan.variation}' already has {percent_text(plan)}% of the split; no change"


def percent_text(plan: RampPlan) -> str:
    """The step's percent as written without trailing zeros: ``12.5``, ``25``."""
    return f"{plan.percent.normalize():f}"


def _summary(edit: RampEdit, report: DiffReport | None) -> list[str]:
    """What the step did to the weights, and to each arm's units."""
    plan = edit.plan
    weights = ", ".join(
        f"{arm} {plan.before.get(arm, 0)} → {weight}" for arm, weight in plan.after.items()
    )
    lines = [f"Ramped '{plan.variation}' to {percent_text(plan)}% of the split: {weights}."]
    if not plan.exact_ratio:
        lines.append(
            f"Rounding: at a total of {plan.total:,} the other arms cannot keep their exact "
            "ratio; the blast radius shows the units that move between them."
        )
    flags = report.flags if report is not None else ()
    radius = next((f.blast_radius for f in flags if f.key == edit.flag_key), None)
    if radius is not None:
        old_shares = radius.old_shares
        for (a, b), share in sorted(radius.matrix.items()):
            if a != b and share > 0 and old_shares.get(a, 0) > 0:
                of_a = share / old_shares[a]
                lines.append(f"{of_a:.1%} of the units in '{a}' move to '{b}'.")
    if plan.after[plan.variation] == plan.total:
        lines.append(
            f"Every unit in the split now gets '{plan.variation}': end the experiment with "
            f"'modelflags promote {edit.flag_key} {plan.variation}'."
        )
    return lines
