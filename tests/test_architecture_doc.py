"""docs/architecture.md cannot go stale: every path it names exists, every ``modelflags.x.y``
name it gives is defined where it says, its links land on a heading, its layers are the
import contract's, and every package of ``src/modelflags`` is on the map.

Names are resolved by reading the source (``ast``), not by importing it, so the optional
extras an integration needs are not needed here, and the check takes milliseconds.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
SRC = ROOT / "src"

FENCE = re.compile(r"^```")
PATH = re.compile(
    r"(?<![\w./-])((?:src|tests|docs|schema|benchmarks|examples|flags|\.ci)/[\w./-]*)"
)
DOTTED = re.compile(r"(?<![\w./-])modelflags(?:\.[A-Za-z_]\w*)+")
LINK = re.compile(r"\]\(([^)\s]+)\)")
LAYERS_MARKER = "<!-- tested-in: tests/test_architecture_doc.py -->"


def prose(text: str) -> str:
    """The text outside fenced blocks."""
    kept, inside = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def paths_named(text: str) -> set[str]:
    """Repository paths in the text, without a sentence's closing punctuation."""
    return {match.rstrip(".,:;") for match in PATH.findall(text)}


def defined_names(body: list[ast.stmt]) -> set[str]:
    """The names a module's or a class's body defines: functions, classes, assignments."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


@cache
def top_level_names(module: Path) -> frozenset[str]:
    """What a module defines or imports at its top level, and what its ``__all__`` lists."""
    body = ast.parse(module.read_text(encoding="utf-8")).body
    names = defined_names(body)
    for node in body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            names.update(ast.literal_eval(node.value))
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return frozenset(names)


def class_members(module: Path, name: str) -> frozenset[str] | None:
    """The names a top-level class of the module defines in its body; None if no such class."""
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return frozenset(defined_names(node.body))
    return None


def resolves(dotted: str, src: Path = SRC) -> bool:
    """Whether ``dotted`` is a module of ``src``, or a name defined in one (a class's member
    one level down)."""
    parts = dotted.split(".")
    folder, module = src, None
    while parts:
        part = parts[0]
        if (folder / part / "__init__.py").is_file():
            folder, module = folder / part, folder / part / "__init__.py"
        elif (folder / f"{part}.py").is_file():
            module = folder / f"{part}.py"
            parts.pop(0)
            break
        else:
            break
        parts.pop(0)
    if module is None:
        return False
    if not parts:
        return True
    if parts[0] not in top_level_names(module):
        return False
    if len(parts) == 1:
        return True
    members = class_members(module, parts[0])
    return members is None or parts[1] in members  # an imported class is not checked deeper


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    return frozenset(
        slug(line.lstrip("#"))
        for line in prose(page.read_text(encoding="utf-8")).splitlines()
        if line.startswith("#")
    )


def layers_block(text: str) -> list[str]:
    """The lines of the fenced block under the layers marker."""
    lines = text.splitlines()
    start = lines.index(LAYERS_MARKER) + 2  # the marker, then the opening fence
    end = next(i for i in range(start, len(lines)) if FENCE.match(lines[i]))
    return lines[start:end]


TEXT = DOC.read_text(encoding="utf-8")
PROSE = prose(TEXT)


@pytest.mark.parametrize("path", sorted(paths_named(TEXT)))
def test_a_path_the_map_names_exists(path: str) -> None:
    assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"


@pytest.mark.parametrize("name", sorted(set(DOTTED.findall(PROSE))))
def test_a_dotted_name_the_map_gives_is_defined_where_it_says(name: str) -> None:
    assert resolves(name), f"docs/architecture.md names {name}, which is not defined"


@pytest.mark.parametrize("link", sorted(set(LINK.findall(PROSE))))
def test_a_link_of_the_map_lands_on_a_page_and_a_heading(link: str) -> None:
    target, _, anchor = link.partition("#")
    page = (DOC.parent / target).resolve() if target else DOC
    assert page.is_file(), f"no page {target}"
    if anchor:
        assert anchor in anchors(page), f"{target} has no heading #{anchor}"


def contract_layers(pyproject: str) -> list[str]:
    """The ``layers`` list of the import-linter contract (Python 3.10 has no TOML reader)."""
    (listed,) = re.findall(r"^layers = \[\n(.*?)^\]", pyproject, flags=re.M | re.S)
    return re.findall(r'^\s*"([^"]+)",?$', listed, flags=re.M)


def test_the_layers_shown_are_the_import_contracts_layers() -> None:
    layers = contract_layers((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "modelflags.errors" in layers  # the list was found
    assert layers_block(TEXT) == layers


def test_every_package_and_top_level_module_is_on_the_map() -> None:
    package = SRC / "modelflags"
    names = sorted(
        path.stem if path.suffix == ".py" else path.name
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem not in {"__init__", "__main__"})
        or (path / "__init__.py").is_file()
    )
    missing = [name for name in names if f"modelflags.{name}" not in PROSE]
    assert missing == [], f"docs/architecture.md does not place: {missing}"


def test_the_checks_refuse_what_does_not_exist() -> None:
    assert resolves("modelflags.engine.evaluation.decide")
    assert resolves("modelflags.engine.compiled.CompiledFlag.outside_schedule")
    assert not resolves("modelflags.engine.evaluation.no_such_function")
    assert not resolves("modelflags.engine.compiled.CompiledFlag.no_such_method")
    assert not resolves("modelflags.no_such_package")
    assert paths_named("see `src/modelflags/store.py`.") == {"src/modelflags/store.py"}
    assert slug("Privacy: hashed unit ids, dropped or hashed attributes") == (
        "privacy-hashed-unit-ids-dropped-or-hashed-attributes"
    )
