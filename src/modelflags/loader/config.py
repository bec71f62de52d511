"""A snapshot of flag files → one validated :class:`FlagFile`, or every located error.

:func:`load` is the one loading path: the command line, :func:`~modelflags.store.load_flags`
and a store's first load all read a source through it, and a store's reloads validate what
they fetch with :func:`load_snapshot`, as it does.

Files of a directory are validated one by one (so each error names its own file), then
merged: a flag or segment defined in two files is an error naming both places. Checks that
span files (a flag using a segment from another file) run on the merged config and are
located in the file that holds the flag or segment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from modelflags.errors import FlagFileError, Issue
from modelflags.loader.source import Snapshot, Source, SourceSpec
from modelflags.loader.sources import read_source
from modelflags.loader.yaml_document import Document, parse_yaml
from modelflags.schema.models import FlagFile
from modelflags.schema.semantics import semantic_issues
from modelflags.schema.validation import json_issues, validate

__all__ = ["LoadedConfig", "load", "load_snapshot"]


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config, its content hash, and where each flag and segment was defined."""

    config: FlagFile
    version: str
    documents: dict[str, Document] = field(repr=False)
    origins: dict[tuple[str, str], str] = field(repr=False)

    def locate(self, issue: Issue) -> Issue:
        """Place an issue whose path starts ``("flags", key)`` or ``("segments", name)``."""
        origin = ""
        if len(issue.path) >= 2:
            origin = self.origins.get((str(issue.path[0]), str(issue.path[1])), "")
        document = self.documents.get(origin) or next(iter(self.documents.values()))
        return document.locate(issue)

    def definition(self, section: str, name: str) -> str:
        """``file:line:col`` of the key that defines a flag or segment (``section`` is
        ``flags`` or ``segments``)."""
        origin = self.origins[(section, name)]
        line, col = self.documents[origin].keys.get((section, name), (0, 0))
        return f"{origin}:{line}:{col}" if line else origin


def load(source: SourceSpec) -> LoadedConfig:
    """Read a flag source once and validate it; raises :class:`FlagFileError` with every
    located issue, or :class:`~modelflags.errors.SourceError` when it cannot be read.

    A path or URL is opened and closed here (:func:`read_source`); a :class:`Source` given is
    read and left open for its owner.
    """
    name = source.name if isinstance(source, Source) else os.fspath(source)
    return load_snapshot(read_source(source), name)


def load_snapshot(snapshot: Snapshot, name: str = "") -> LoadedConfig:
    """Validate every file of a snapshot and merge them; raises :class:`FlagFileError`.

    ``name`` is the source's name, where a problem of the whole source (no files) is placed.
    """
    issues: list[Issue] = []
    documents: dict[str, Document] = {}
    configs: list[tuple[str, FlagFile]] = []
    for file, content in snapshot.files:
        document, found = parse_yaml(content, file)
        documents[file] = document
        issues.extend(found)
        if found and document.data is not None:  # report the file's other non-JSON values too
            issues.extend(document.locate(issue) for issue in json_issues(document.data))
        if found or document.data is None:
            continue
        config, problems = validate(document.data, check_references=len(snapshot.files) == 1)
        issues.extend(document.locate(problem) for problem in problems)
        if config is not None:
            configs.append((file, config))
    if not snapshot.files:
        issues.append(Issue("no-flag-files", "no *.yaml or *.yml files found", "").at(name, 0, 0))
    if issues:
        raise FlagFileError(sorted(issues, key=_place))
    merged, origins, clashes = _merge(configs, documents)
    loaded = LoadedConfig(merged, snapshot.digest, documents, origins)
    if len(configs) > 1:
        clashes.extend(loaded.locate(issue) for issue in semantic_issues(merged))
    if clashes:
        raise FlagFileError(sorted(clashes, key=_place))
    return loaded


def _place(issue: Issue) -> tuple[str, int, int]:
    return issue.file, issue.line, issue.col


def _merge(
    configs: list[tuple[str, FlagFile]], documents: dict[str, Document]
) -> tuple[FlagFile, dict[tuple[str, str], str], list[Issue]]:
    origins: dict[tuple[str, str], str] = {}
    issues: list[Issue] = []
    segments: dict[str, Any] = {}
    flags: dict[str, Any] = {}
    for name, config in configs:
        for section, items, merged in (
            ("segments", config.segments, segments),
            ("flags", config.flags, flags),
        ):
            for key, value in items.items():
                first = origins.get((section, key))
                if first is not None:
                    where = documents[first].locate(Issue("duplicate-key", "", "", (section, key)))
                    issues.append(
                        documents[name].locate(
                            Issue(
                                "duplicate-key",
                                f"{section[:-1]} '{key}' is also defined at {where.location}",
                                "define each flag and segment in one file only",
                                (section, key),
                            )
                        )
                    )
                    continue
                origins[(section, key)] = name
                merged[key] = value
    config = FlagFile.model_construct(version=1, segments=segments, flags=flags)
    return config, origins, issues
