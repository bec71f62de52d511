"""``Privacy``: what of an event is kept, hashed or dropped before it leaves the process.

Unit ids and free-form attributes may be personal data (a user id, an e-mail, a plan tied to
a customer). With ``hash_unit_ids``, ``unitId`` becomes a keyed hash: HMAC-SHA-256 of the id
with a secret key, as 32 hex characters. The same id always gives the same hash, so the
exposures and outcomes of one unit still join and the report counts the same units; without
the key nobody can recompute it (a plain hash of a guessable id could be reversed by trying
ids). ``attributes`` says what becomes of every event's ``attributes`` (the keywords given to
``record()``, an outcome's extra values, and the copied context attributes): ``"keep"``,
``"drop"`` (an empty object) or ``"hash"`` (each value replaced by the keyed hash of its JSON
text; names kept, so segments still group).

The key comes from an environment variable, read once, when the Evidence is made; it is
never stored in an event, a log or a repr. A variable that is unset or empty is an error
then, not a silent stream of unhashed ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from modelflags.evidence.tracker import Event

__all__ = ["HASH_LENGTH", "UNIT_KEY_ENV", "Attributes", "Privacy", "keyed_hash"]

Attributes = Literal["keep", "drop", "hash"]

UNIT_KEY_ENV = "MODELFLAGS_UNIT_KEY"
"""The environment variable holding the hashing key, unless another is named."""

HASH_LENGTH = 32
"""Hex characters kept of a keyed hash (128 bits)."""

MIN_KEY_BYTES = 16
"""A shorter key is refused: a guessable key makes the hashes reversible."""


def keyed_hash(key: bytes, text: str) -> str:
    """HMAC-SHA-256 of ``text`` (UTF-8) with ``key``, as ``HASH_LENGTH`` hex characters."""
    data = text.encode("utf-8", "surrogatepass")
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:HASH_LENGTH]


@dataclass(frozen=True)
class Privacy:
    """How events are changed before they leave the process (see the module docstring)."""

    hash_unit_ids: bool = False
    attributes: Attributes = "keep"
    key_env: str | None = None
    """The environment variable the key was read from (its name, never its value)."""
    _key: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def from_options(cls, *, hash_unit_ids: bool, attributes: str, key_env: str | None) -> Privacy:
        """The privacy options of an Evidence, checked; the key is read now if one is needed.

        Raises ValueError for an unknown ``attributes`` mode and for a key variable that is
        unset, empty or too short (naming the variable, never its value).
        """
        if attributes not in ("keep", "drop", "hash"):
            raise ValueError(f"attributes must be 'keep', 'drop' or 'hash', not {attributes!r}")
        if not hash_unit_ids and attributes != "hash":
            return cls(attributes=attributes)  # type: ignore[arg-type]  # checked above
        env = key_env or UNIT_KEY_ENV
        key = os.environ.get(env, "").encode("utf-8", "surrogatepass")
        needs = "hash_unit_ids=True" if hash_unit_ids else "attributes='hash'"
        if not key:
            raise ValueError(
                f"{needs} needs a secret key in the environment variable {env}, which is "
                "unset or empty; set it (the same value in every process whose events are "
                "joined), or name another with unit_id_key_env="
            )
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(
                f"the key in {env} is shorter than {MIN_KEY_BYTES} bytes: too easy to guess"
            )
        return cls(hash_unit_ids, attributes, env, key)  # type: ignore[arg-type]

    @property
    def changes_events(self) -> bool:
        """Whether :meth:`apply` changes anything (so the hot path can skip it)."""
        return self.hash_unit_ids or self.attributes != "keep"

    def apply(self, event: Event) -> Event:
        """Hash the unit id and drop or hash the attributes of ``event``, in place."""
        if self.hash_unit_ids and event.get("unitId") is not None:
            event["unitId"] = self.unit_id(event["unitId"])
        if self.attributes == "drop" or (self.attributes == "hash" and event.get("attributes")):
            event["attributes"] = self.attributes_of(event.get("attributes"))
        return event

    def unit_id(self, unit: Any) -> Any:
        """The unit id as written: its keyed hash if ids are hashed (None stays None)."""
        if self.hash_unit_ids and unit is not None:
            return keyed_hash(self._key, str(unit))
        return unit

    def attributes_of(self, attributes: Any) -> Any:
        """An event's attributes as written: kept, dropped (empty) or each value hashed."""
        if self.attributes == "drop":
            return {}
        if self.attributes == "hash" and attributes:
            return {
                name: keyed_hash(self._key, _json_text(value)) for name, value in attributes.items()
            }
        return attributes


def _json_text(value: Any) -> str:
    """The JSON text of a value (keys sorted), so equal values hash alike; what JSON cannot
    hold (a cycle, a key that is not a string) is hashed by its ``repr``."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        return repr(value)
