"""Rollback as an edit: set a flag's ``state: off`` and its ``default``, touching nothing else.

The edit is made on the text by the shared flag editor (:mod:`modelflags.review.editing`): the
scalars of ``state`` and ``default`` are replaced in place, so comments, key order, quoting,
spacing and flow/block style survive byte for byte. A missing ``state`` (or one that comes
from a merge key) is inserted in the flag itself: its own line in a block mapping,
``state: off, `` inside the braces of a flow mapping. An edit that would also change another
flag through a shared anchor or merge key is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelflags.review.editing.edited_source import validate_edit
from modelflags.review.editing.file_edit import carry_out
from modelflags.review.editing.flag_files import locate_flag
from modelflags.review.editing.flag_text import FlagText
from modelflags.review.editing.text_edit import Span, unified_diff

__all__ = ["RollbackEdit", "rollback_flag", "rollback_text", "target_variation"]


@dataclass(frozen=True)
class RollbackEdit:
    """The result of a rollback: the new file text and a unified diff against the old."""

    file: str
    flag_key: str
    variation: str
    text: str
    diff: str

    @property
    def changed(self) -> bool:
        """Whether the edit changes the file (false when the flag was already rolled back)."""
        return bool(self.diff)


def target_variation(flag: dict[str, Any], to: str | None) -> str:
    """The variation a rollback serves, before checking that it exists.

    ``to`` when given; else the flag's fallback (``exclusions.serve``, what excluded units
    get); else a variation literally named ``fallback``; else the flag's current ``default``
    (the rollback then only switches the flag off).
    """
    if to is not None:
        return to
    exclusions = flag.get("exclusions")
    if isinstance(exclusions, dict) and isinstance(exclusions.get("serve"), str):
        return str(exclusions["serve"])
    variations = flag.get("variations")
    if isinstance(variations, dict) and "fallback" in variations:
        return "fallback"
    return str(flag.get("default"))


def rollback_text(
    text: str,
    file: str,
    flag_key: str,
    to: str | None = None,
    *,
    others: Sequence[tuple[str, bytes]] = (),
) -> RollbackEdit:
    """Roll ``flag_key`` back in the flag file ``text`` (named ``file`` in messages).

    Sets ``state: off`` and ``default`` to the target variation (see
    :func:`target_variation`: ``to``, else the flag's fallback ``exclusions.serve``, else a
    variation named ``fallback``, else the current default) and changes nothing else. A
    value that was quoted stays quoted in the same style; a plain value stays plain unless
    the new name would not read back as text (then it is double-quoted).

    ``others`` are the other files of the source (name, bytes); the result is validated
    together with them, so cross-file segment references resolve.

    Raises :class:`FlagFileError` (located at the flag, or at the file) when the file does not
    parse, the flag or the variation does not exist, the edit would change another flag too
    (``shared-yaml``: an anchor/alias or a merge key), or the edited file would not validate.
    """
    flag = FlagText.parse(text, file, flag_key, "rollback")
    variation = target_variation(flag.data, to)
    flag.require_variation(variation)
    spans: list[Span | None] = []
    values = {"state": "off", "default": variation}
    for key, value in values.items():
        current = flag.data.get(key)
        if type(current) is str and current == value:
            continue
        if flag.entry((key,)) is None:  # absent, or from a merge key: the flag's own overrides
            spans.append(flag.insert(key, value))
        else:
            spans.append(flag.replace((key,), value))
    new_text = flag.apply(spans)
    flag.check(new_text, {**flag.data, **values})
    validate_edit(file, new_text, others, command="rollback", where=flag.where)
    return RollbackEdit(file, flag_key, variation, new_text, unified_diff(text, new_text, file))


def rollback_flag(
    flag_key: str,
    to: str | None = None,
    *,
    file: str | None = None,
    flags: str | None = None,
    dry_run: bool = False,
) -> RollbackEdit:
    """``modelflags rollback``: find the file that defines ``flag_key`` (``file``, else in the
    source ``flags``, default ``flags/``), roll the flag back (:func:`rollback_text`) and
    rewrite the file atomically unless ``dry_run`` or nothing changes."""
    location = locate_flag(flag_key, file, flags)

    def edit(text: str) -> RollbackEdit:
        return rollback_text(text, location.file, flag_key, to, others=location.others)

    return carry_out(location, edit, dry_run=dry_run).edit
