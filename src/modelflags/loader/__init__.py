"""Flag sources (file, directory, URL) → validated config, with file:line:col errors."""

from modelflags.loader.config import LoadedConfig, load, load_snapshot
from modelflags.loader.sources import (
    DirectorySource,
    FileSource,
    InlineSource,
    Snapshot,
    Source,
    UrlSource,
    open_source,
)
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
    "UrlSource",
    "load",
    "load_snapshot",
    "open_source",
    "parse_yaml",
]
