"""The public surface is deliberate: what `import modelflags` offers is listed and sorted."""

from __future__ import annotations

import modelflags


def test_public_names_are_exactly_these() -> None:
    assert modelflags.__all__ == [
        "ErrorCode",
        "FlagFileError",
        "FlagSet",
        "Issue",
        "ModelFlagsError",
        "ModelFlagsProvider",
        "Reason",
        "Resolution",
        "SourceError",
        "load_flags",
    ]


def test_every_public_name_is_importable_and_documented() -> None:
    for name in modelflags.__all__:
        member = getattr(modelflags, name)
        assert member.__doc__, name


def test_all_is_sorted() -> None:
    assert modelflags.__all__ == sorted(modelflags.__all__)
