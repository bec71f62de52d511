"""The README's promises about itself: its flag example is the support flag, its two
quickstart commands are the ones CI runs, and it says how to put ``modelflags`` on PATH.
(Every block of it runs, or says why not: tests/test_docs_blocks.py.)"""

from __future__ import annotations

import re
from pathlib import Path

from modelflags.loader import InlineSource, load

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def quickstart() -> str:
    return README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]


def test_the_flag_file_example_is_a_valid_flag_file() -> None:
    example = blocks("yaml")[0]
    flags = load(InlineSource(example)).config.flags
    assert "support_answer_model_route" in flags


def test_quickstart_is_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = [block.strip() for block in re.findall(r"```sh\n(.*?)```", quickstart(), re.S)]
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert "examples/support_route_demo.py" in commands[0]
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_the_quickstart_says_how_to_put_the_command_on_path() -> None:
    """The venv's scripts are not on a new user's PATH: the quickstart says to activate it,
    or to type the script's path."""
    assert "`. .venv/bin/activate`" in quickstart()
    assert "`.venv/bin/modelflags`" in quickstart()


def test_the_format_reference_example_is_a_valid_flag_file() -> None:
    reference = (ROOT / "docs" / "flag-files.md").read_text()
    example = re.findall(r"^```yaml\n(.*?)^```", reference, flags=re.M | re.S)[0]
    flag = load(InlineSource(example)).config.flags["support_answer_model_route"]
    assert flag.split == {"control": 90, "candidate": 10}
