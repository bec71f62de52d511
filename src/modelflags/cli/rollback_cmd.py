"""``modelflags rollback FLAG``: the kill switch as an edit (``state: off`` and ``default``)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from modelflags.cli.output import print_error
from modelflags.errors import FlagFileError, Issue, did_you_mean
from modelflags.loader import load_snapshot, open_source, parse_yaml
from modelflags.review.rollback import rollback_text

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="switch a flag off by editing its file (state: off, default), print the diff",
        description="Roll a flag back as an edit: set 'state: off' and 'default' to VARIATION "
        "(default: the flag's fallback, exclusions.serve; else a variation named 'fallback'; "
        "else its current default), changing only those two values and keeping every other "
        "byte of the file. The file is rewritten atomically and the unified diff printed; a "
        "running provider picks the edit up on its next poll.",
    )
    parser.add_argument("flag", metavar="FLAG", help="key of the flag to roll back")
    parser.add_argument("--to", metavar="VARIATION", help="variation to serve while off")
    parser.add_argument("--file", metavar="PATH", help="the YAML file that defines FLAG")
    parser.add_argument(
        "--flags",
        metavar="PATH",
        help="flag file or directory to find FLAG in when --file is not given (default: flags/)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff without writing the file"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    file, others = _locate(args.flag, args.file, args.flags)
    text = Path(file).read_bytes().decode("utf-8")
    edit = rollback_text(text, file, args.flag, args.to, others=others)
    if not edit.changed:
        print_error(f"flag '{args.flag}' is already off serving '{edit.variation}'; no change")
        return 0
    if not args.dry_run:
        try:
            _write_atomically(Path(file), edit.text.encode("utf-8"))
        except OSError as error:
            print_error(f"{file}: cannot write: {error}")
            return 1
    sys.stdout.write(edit.diff)
    return 0


def _locate(
    flag: str, file: str | None, flags: str | None
) -> tuple[str, tuple[tuple[str, bytes], ...]]:
    """The file defining ``flag`` and the other files of its source (for validation)."""
    if file is not None:
        if flags is None:
            return file, ()
        flags_path = Path(flags)
        if flags_path.is_dir() and Path(file).resolve().is_relative_to(flags_path.resolve()):
            snapshot = open_source(flags).fetch()
            assert snapshot is not None
            rel = Path(file).resolve().relative_to(flags_path.resolve())
            name = os.path.join(flags, rel)
            return file, tuple((n, c) for n, c in snapshot.files if n != name)
        return file, ()
    spec = flags if flags is not None else "flags/"
    snapshot = open_source(spec).fetch()
    assert snapshot is not None
    try:
        origin = load_snapshot(snapshot).origins.get(("flags", flag))
    except FlagFileError:  # rolling back a broken directory: find the flag file by file
        origin = None
    known: list[str] = []
    for name, content in snapshot.files:
        document, _ = parse_yaml(content, name)
        data = document.data if isinstance(document.data, dict) else {}
        defined = data.get("flags")
        if not isinstance(defined, dict):
            continue
        known.extend(map(str, defined))
        if origin is None and flag in defined:
            origin = name
    if origin is None:
        issue = Issue("unknown-flag", f"no flag '{flag}' in {spec}", did_you_mean(flag, known))
        raise FlagFileError([issue.at(spec, 0, 0)])
    return origin, tuple((n, c) for n, c in snapshot.files if n != origin)


def _write_atomically(path: Path, content: bytes) -> None:
    """Replace ``path`` by ``content`` in one rename, keeping its permission bits."""
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
