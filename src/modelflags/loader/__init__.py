"""Flag sources (file, directory, URL) → validated config, with file:line:col errors.

The names below are imported on first use (PEP 562), so that importing one module of the
loader (a source, say) does not import the YAML parser, the schema and ``httpx`` with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelflags._exports import lazy_exports

if TYPE_CHECKING:
    from modelflags.loader.config import LoadedConfig, load, load_snapshot
    from modelflags.loader.directory import DirectorySource
    from modelflags.loader.source import Snapshot, Source, SourceSpec
    from modelflags.loader.sources import FileSource, InlineSource, open_source, read_source
    from modelflags.loader.url_source import UrlSource
    from modelflags.loader.yaml_document import MAX_FILE_BYTES, MAX_NODES, Document, parse_yaml

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "DirectorySource",
    "Document",
    "FileSource",
    "InlineSource",
    "LoadedConfig",
    "Snapshot",
    "Source",
    "SourceSpec",
    "UrlSource",
    "load",
    "load_snapshot",
    "open_source",
    "parse_yaml",
    "read_source",
]

_HOMES = {
    "LoadedConfig": ".config",
    "load": ".config",
    "load_snapshot": ".config",
    "DirectorySource": ".directory",
    "Snapshot": ".source",
    "Source": ".source",
    "SourceSpec": ".source",
    "FileSource": ".sources",
    "InlineSource": ".sources",
    "open_source": ".sources",
    "read_source": ".sources",
    "UrlSource": ".url_source",
    "MAX_FILE_BYTES": ".yaml_document",
    "MAX_NODES": ".yaml_document",
    "Document": ".yaml_document",
    "parse_yaml": ".yaml_document",
}
"""Each public name → the module of this package that defines it."""


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
