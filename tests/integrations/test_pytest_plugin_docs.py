"""docs/pytest-plugin.md is executable: its Python blocks are one test module, which a real
pytest session (pytester, in a folder with the repository's flag files) runs, every test
passing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from page_blocks import python_blocks

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "pytest-plugin.md"


def test_the_pytest_plugin_page_is_a_test_module_whose_tests_pass(
    pytester: pytest.Pytester,
) -> None:
    blocks = python_blocks(PAGE)
    module = "\n\n".join(blocks)
    tests = len(re.findall(r"^def test_", module, flags=re.M))
    assert tests >= 7
    shutil.copytree(ROOT / "flags", pytester.path / "flags")
    pytester.makepyfile(test_page=module)
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers", "-p", "no:randomly")
    result.assert_outcomes(passed=tests)
