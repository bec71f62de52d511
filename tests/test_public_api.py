"""The public surface is deliberate: what `import modelflags` offers is listed and sorted."""

from __future__ import annotations

import modelflags


def test_public_names_are_exactly_these() -> None:
    assert modelflags.__all__ == [
        "BatchRejected",
        "ErrorCode",
        "Evidence",
        "FlagFileError",
        "FlagSet",
        "HttpTracker",
        "Issue",
        "JsonlTracker",
        "MemoryTracker",
        "ModelFlagsError",
        "ModelFlagsProvider",
        "Reason",
        "Resolution",
        "SourceError",
        "StdoutTracker",
        "StructlogTracker",
        "Tracker",
        "TrackerUnavailable",
        "load_flags",
        "otel_attributes",
        "read_events",
        "tracker_from_url",
    ]


def test_every_public_name_is_importable_and_documented() -> None:
    for name in modelflags.__all__:
        member = getattr(modelflags, name)
        assert member.__doc__, name


def test_all_is_sorted() -> None:
    assert modelflags.__all__ == sorted(modelflags.__all__)
