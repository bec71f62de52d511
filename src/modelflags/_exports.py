"""Lazy re-exports for a package's ``__init__``: a name is imported on its first use.

``import modelflags`` must stay cheap for services that only need part of it (start-up of every
command and worker), so the packages that re-export a public surface map each name to the
module that defines it and import that module when the name is first looked up (PEP 562).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose ``homes`` map a name to its module.

    A home starting with ``.`` is relative to ``package``. A name is looked up once: the value
    is stored in the package's namespace, so later lookups never reach ``__getattr__``.
    """
    names = frozenset(public)

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__
