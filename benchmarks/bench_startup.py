"""Start-up benchmark: what a fresh process pays before doing any work.

Every ``modelflags`` command runs on each commit (pre-commit, CI), and a service pays the
package's import once per worker: both are start-up, dominated by imports. Each row is a
command run in a fresh subprocess of this interpreter, timed from start to exit with
``time.perf_counter``. Runs are interleaved (every row of every source tree, then again), so
that load from other processes on a shared machine hits every row alike. Reported: the median
and min of the runs in milliseconds, and the ratio of the median to the floor (bare
``python -c pass``, measured in the same run).

Rows:

* ``python -c pass``: the floor, the interpreter alone;
* ``import modelflags``: what a service pays for the package itself;
* ``from modelflags import ModelFlagsProvider``: the OpenFeature path;
* ``from modelflags import load_flags``: the direct evaluation path;
* ``modelflags --help`` and ``modelflags validate flags/``: the command line, as the console
  script runs it (``from modelflags.cli import main``), in the project root.

``--src PATH`` (repeatable) names the source trees to import, default this repository's
``src/``: give an older checkout's ``src/`` too to measure before and after in one run. With
``--importtime ROW`` it also runs that row once under ``python -X importtime`` (first tree)
and prints the modules that took longest, cumulative (a module and everything it imported).

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_startup.py [--runs 15] [--json results.json]
    .venv/bin/python benchmarks/bench_startup.py --src /tmp/before/src --src src
    .venv/bin/python benchmarks/bench_startup.py --runs 3 --importtime help
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CLI = "import sys; from modelflags.cli import main; sys.exit(main())"
"""What the ``modelflags`` console script runs."""

FLOOR = "bare"
ROWS: dict[str, tuple[str, ...]] = {
    FLOOR: ("-c", "pass"),
    "import": ("-c", "import modelflags"),
    "provider": ("-c", "from modelflags import ModelFlagsProvider"),
    "load_flags": ("-c", "from modelflags import load_flags"),
    "help": ("-c", CLI, "--help"),
    "validate": ("-c", CLI, "validate", "flags/"),
}
"""Row key -> interpreter arguments."""

LABELS = {
    FLOOR: "python -c pass (floor)",
    "import": "import modelflags",
    "provider": "from modelflags import ModelFlagsProvider",
    "load_flags": "from modelflags import load_flags",
    "help": "modelflags --help",
    "validate": "modelflags validate flags/",
}


@dataclass(frozen=True)
class Row:
    """The timings of one row with one source tree, in milliseconds."""

    key: str
    source: str
    runs_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def min_ms(self) -> float:
        return min(self.runs_ms)

    def as_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": LABELS[self.key],
            "src": self.source,
            "median_ms": self.median_ms,
            "min_ms": self.min_ms,
            "runs_ms": self.runs_ms,
        }


def _environment(source: Path) -> dict[str, str]:
    path = os.pathsep.join([str(source), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path}


def run_once(arguments: tuple[str, ...], source: Path) -> float:
    """Milliseconds from start to exit of ``python ARGUMENTS``; exits if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=_environment(source),
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} exited {proc.returncode}: {proc.stderr!r}")
    return elapsed


def measure(keys: list[str], runs: int, sources: list[Path]) -> list[Row]:
    """Each row with each tree ``runs`` times, interleaved, after one untimed run each (so
    bytecode caches are written before timing). The floor is measured once per round."""
    plan = [(key, source) for key in keys for source in sources if key != FLOOR]
    if FLOOR in keys:
        plan.insert(0, (FLOOR, sources[0]))
    for key, source in plan:
        run_once(ROWS[key], source)
    timings: dict[tuple[str, Path], list[float]] = {step: [] for step in plan}
    for _ in range(runs):
        for key, source in plan:
            timings[(key, source)].append(run_once(ROWS[key], source))
    return [Row(key, str(source), tuple(timings[(key, source)])) for key, source in plan]


def import_times(key: str, top: int, source: Path) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) of the ``top`` slowest imports of one row."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *ROWS[key]], cwd=ROOT, env=_environment(source),
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    found = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, cumulative, module = line.removeprefix("import time:").split("|")
        if own.strip().isdigit():
            found.append((module.strip(), int(own), int(cumulative)))
    return sorted(found, key=lambda entry: -entry[2])[:top]


def render(rows: list[Row], sources: list[Path]) -> str:
    """A markdown table: per tree, the median, the min and the median's ratio to the floor."""
    floor = next((row.median_ms for row in rows if row.key == FLOOR), None)
    trees = [str(source) for source in sources]
    header = "| command |" + "".join(f" median ms ({n}) | min ms ({n}) | ratio ({n}) |"
                                     for n in range(1, len(trees) + 1))  # fmt: skip
    lines = [header, "|---|" + "---:|---:|---:|" * len(trees)]
    for key in dict.fromkeys(row.key for row in rows):
        cells = []
        for tree in trees:
            row = next((r for r in rows if r.key == key and (r.source == tree or key == FLOOR)),
                       None)  # fmt: skip
            if row is None:
                cells.append(" n/a | n/a | n/a |")
                continue
            ratio = f"{row.median_ms / floor:.1f}x" if floor else "n/a"
            cells.append(f" {row.median_ms:.0f} | {row.min_ms:.0f} | {ratio} |")
        lines.append(f"| {LABELS[key]} |" + "".join(cells))
    legend = [f"({n}) {tree}" for n, tree in enumerate(trees, 1)]
    return "\n".join([*lines, "", *legend])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "15")))
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated row keys")
    parser.add_argument("--src", type=Path, action="append", help="a source tree (repeatable)")
    parser.add_argument("--importtime", choices=list(ROWS), help="also list this row's imports")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", type=Path, help="write the timings here")
    args = parser.parse_args(argv)
    sources = [path.resolve() for path in args.src or [ROOT / "src"]]
    keys = [key for key in args.rows.split(",") if key]
    unknown = [key for key in keys if key not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown} (known: {', '.join(ROWS)})")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    rows = measure(keys, args.runs, sources)
    print(f"python {sys.version.split()[0]}, {args.runs} runs per row, interleaved")
    print(render(rows, sources))
    result: dict[str, object] = {
        "runs": args.runs,
        "python": sys.version.split()[0],
        "rows": [row.as_json() for row in rows],
    }
    if args.importtime:
        slowest = import_times(args.importtime, args.top, sources[0])
        print(f"\nslowest imports of '{LABELS[args.importtime]}' (cumulative ms, self ms):")
        for module, own, cumulative in slowest:
            print(f"  {cumulative / 1000:7.1f} {own / 1000:7.1f}  {module}")
        result["importtime"] = [
            {"module": module, "self_us": own, "cumulative_us": cumulative}
            for module, own, cumulative in slowest
        ]
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
