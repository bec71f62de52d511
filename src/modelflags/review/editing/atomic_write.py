"""Replacing a flag file in one rename, so that a polling provider never reads half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from modelflags.errors import ModelFlagsError

__all__ = ["write_atomically"]


def write_atomically(path: str | os.PathLike[str], content: bytes) -> None:
    """Replace ``path`` by ``content`` in one rename, keeping its permission bits: a reader
    (a polling provider) sees the old file or the new one, never a part. Raises
    :class:`ModelFlagsError` (``PATH: cannot write: ...``) when it cannot."""
    path = Path(path)
    try:
        _replace(path, content)
    except OSError as error:
        raise ModelFlagsError(f"{path}: cannot write: {error.strerror or error}") from error


def _replace(path: Path, content: bytes) -> None:
    mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
