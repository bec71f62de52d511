"""One virtual environment per SDK, built from its pinned requirements file.

``requirements/<sdk>.txt`` pins every distribution of the environment with ``==`` (the SDK
and everything it pulls in), so a rebuilt environment holds the same code. An environment is
rebuilt when its requirements file or the base interpreter changes (a stamp file records
both), or when asked to. After installing, every pin is checked against what is installed;
a mismatch stops the run rather than measure something else.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PinError", "VenvError", "ensure", "freeze", "read_pins"]

STAMP = ".peer-bench-stamp"


class VenvError(RuntimeError):
    """An environment could not be created or installed."""


class PinError(VenvError):
    """A requirements line that is not ``name==version``, or an installed version that differs."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    line: int


def read_pins(path: Path) -> list[Pin]:
    """The ``name==version`` lines of a requirements file; comments and blank lines skipped."""
    pins: list[Pin] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        name, sep, version = text.partition("==")
        if not sep or not name.strip() or not version.strip() or any(c in version for c in "<>=,;"):
            raise PinError(f"{path}:{number}:1: not an exact pin (name==version): {raw.strip()!r}")
        pins.append(Pin(name.strip(), version.strip(), number))
    return pins


def stamp_text(requirements: Path, python: Path) -> str:
    """What an environment was built from: the requirements' hash and the interpreter."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return json.dumps({"requirements_sha256": digest, "python": version, "base": str(python)})


def venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def run_quietly(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise VenvError(f"{what} failed (exit {done.returncode}):\n{tail}")


def check_pins(python: Path, requirements: Path) -> None:
    """Raise :class:`PinError` naming every pin the environment does not satisfy."""
    pins = read_pins(requirements)
    probe = (
        "import json, sys\n"
        "from importlib.metadata import PackageNotFoundError, version\n"
        "out = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        out[name] = version(name)\n"
        "    except PackageNotFoundError:\n"
        "        out[name] = None\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [str(python), "-c", probe, json.dumps([p.name for p in pins])],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise VenvError(f"could not read the versions installed in {python}: {done.stderr}")
    installed = json.loads(done.stdout)
    wrong = [
        f"{requirements}:{p.line}:1: {p.name}=={p.version} pinned, {installed[p.name]} installed"
        for p in pins
        if installed[p.name] != p.version
    ]
    if wrong:
        raise PinError("\n".join(wrong))


def ensure(name: str, *, root: Path, requirements: Path, base: Path, rebuild: bool) -> Path:
    """The interpreter of environment ``name`` under ``root``, built or rebuilt as needed."""
    read_pins(requirements)  # a malformed file stops here, before anything is built
    folder = root / name
    python = venv_python(folder)
    stamp = stamp_text(requirements, base)
    stamp_file = folder / STAMP
    current = stamp_file.read_text(encoding="utf-8") if stamp_file.exists() else None
    if rebuild or not python.exists() or current != stamp:
        print(f"building {folder} from {requirements.name} ...", file=sys.stderr, flush=True)
        if folder.exists():
            run_quietly([str(base), "-m", "venv", "--clear", str(folder)], f"venv {name}")
        else:
            run_quietly([str(base), "-m", "venv", str(folder)], f"venv {name}")
        run_quietly(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "--requirement",
                str(requirements),
            ],
            f"pip install into {name}",
        )
        stamp_file.write_text(stamp, encoding="utf-8")
    check_pins(python, requirements)
    return python


def freeze(python: Path) -> str:
    """``pip freeze`` of an environment, for the run's record."""
    done = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else f"pip freeze failed: {done.stderr}"
