"""Run the peer comparison: every SDK in its own environment and process, one table.

Usage (from the project root)::

    .venv/bin/python benchmarks/peers/run_peers.py                    # every SDK
    .venv/bin/python benchmarks/peers/run_peers.py floors modelflags flagd
    .venv/bin/python benchmarks/peers/run_peers.py --here --smoke floors modelflags

For each SDK named (default: floors modelflags flagd growthbook launchdarkly unleash), the
runner builds ``.venvs/<sdk>`` from ``requirements/<sdk>.txt`` if it is missing or out of
date, then runs ``bench_<sdk>.py`` with that environment's interpreter, one process per SDK.
The modelflags process gets this repository's ``src`` first on ``PYTHONPATH``, so it measures
the working tree. ``--here`` skips the environments and runs the scripts with the current
interpreter (only sensible for floors and modelflags, which need nothing beyond modelflags'
own dependencies); ``--smoke`` shrinks the sizes (the numbers then mean nothing);
``--rounds N`` starts every process N times in rotation and combines the rounds (rounds.py),
so that a slow stretch of a shared machine does not fall on one SDK alone.

Each run writes ``results/<UTC time>/`` (or ``--results DIR``): ``results.jsonl`` (one
row per measurement and round, every batch time, the full check and the connection counts),
``table.md``, ``table.txt``, ``run.json`` (machine, interpreter, load average before each
process and at the end, commit, sizes), one log per process and ``pip freeze`` of each
environment.

Sizes come from the environment: BENCH_EVALS (100000), BENCH_REPEATS (7), BENCH_WARMUP
(20000), BENCH_CONTEXTS (10000); ``--smoke`` sets 2000 / 1 / 200 for those not set.
Exit status 0 when every row passed its check, 1 otherwise, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import rounds  # noqa: E402
import table  # noqa: E402
import venvs  # noqa: E402
from harness import failed_row  # noqa: E402
from measure import Settings, SettingsError  # noqa: E402

# sdk -> (its script, the table order of its failed row, its label)
SDKS: dict[str, tuple[str, int, str]] = {
    "floors": ("bench_floors.py", 10, "floors"),
    "modelflags": ("bench_modelflags.py", 20, "modelflags (this repository)"),
    "flagd": ("bench_flagd.py", 30, "flagd in-process"),
    "growthbook": ("bench_growthbook.py", 40, "GrowthBook"),
    "launchdarkly": ("bench_launchdarkly.py", 50, "LaunchDarkly"),
    "unleash": ("bench_unleash.py", 60, "Unleash"),
}
SMOKE = {"BENCH_EVALS": "2000", "BENCH_REPEATS": "1", "BENCH_WARMUP": "200"}
TIMEOUT = 1800  # seconds for one benchmark process


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def commit() -> str:
    """The repository's commit, with ``+changes`` when the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def child_env(sdk: str, sizes: dict[str, str], here: bool) -> dict[str, str]:
    """The environment of one benchmark process."""
    env = {**os.environ, **sizes, "PYTHONDONTWRITEBYTECODE": "1"}
    inherited = env.pop("PYTHONPATH", "") if not here else env.get("PYTHONPATH", "")
    if sdk == "modelflags":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), inherited]))
    elif here and inherited:
        env["PYTHONPATH"] = inherited
    return env


def run_one(
    sdk: str, *, python: Path, work: Path, sizes: dict[str, str], here: bool, round_: int
) -> list[dict[str, Any]]:
    """Run one SDK's script once; its rows, or a ``failed`` row if it wrote none."""
    script, order, label = SDKS[sdk]
    name = f"{sdk}-round{round_}"
    log_path, out = work / f"{name}.log", work / f"{name}.jsonl"
    with log_path.open("w", encoding="utf-8") as log:
        try:
            code = subprocess.run(
                [str(python), script, "--out", str(out)],
                cwd=HERE, env=child_env(sdk, sizes, here), stdout=log, stderr=log,
                timeout=TIMEOUT, check=False,
            ).returncode  # fmt: skip
        except subprocess.TimeoutExpired:
            code = None
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not rows:
        reason = f"timed out after {TIMEOUT} s" if code is None else f"exited {code}"
        rows = [failed_row(sdk, label, order, f"{script} {reason}, see logs/{log_path.name}")]
    return [{**row, "round": round_} for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Peer comparison of feature-flag SDKs.")
    parser.add_argument("sdks", nargs="*", metavar="SDK", help=f"any of: {' '.join(SDKS)}")
    parser.add_argument("--here", action="store_true", help="use this interpreter, no venvs")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (numbers mean nothing)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the environments")
    parser.add_argument("--results", type=Path, help="folder for this run's files")
    parser.add_argument("--rounds", type=int, default=1,
                        help="start every process this many times, in rotation")  # fmt: skip
    parser.add_argument("--python", type=Path, default=Path(sys.executable),
                        help="base interpreter for the environments")  # fmt: skip
    args = parser.parse_args(argv)
    unknown = [s for s in args.sdks if s not in SDKS]
    if unknown:
        parser.error(f"unknown SDK {', '.join(unknown)} (known: {', '.join(SDKS)})")
    chosen = args.sdks or list(SDKS)
    if args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: must be at least 1")

    sizes = {k: v for k, v in SMOKE.items() if k not in os.environ} if args.smoke else {}
    try:
        settings = Settings.from_env({**os.environ, **sizes})
    except SettingsError as error:
        parser.error(str(error))

    started = dt.datetime.now(dt.timezone.utc)
    folder = args.results or HERE / "results" / started.strftime("%Y%m%dT%H%M%SZ")
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out = folder / "results.jsonl"
    run: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(["run_peers.py", *(argv if argv is not None else sys.argv[1:])]),
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": commit(),
        "settings": settings.as_json(),
        "rounds": args.rounds,
        "load_average": [],
    }
    print(
        f"peer run {run['started']}: {run['cpus']} cpus ({run['cpu']}), python {run['python']}, "
        f"commit {run['commit']}, sizes {run['settings']}",
        file=sys.stderr,
    )

    pythons: dict[str, Path] = {}
    rows: list[dict[str, Any]] = []
    for sdk in chosen:
        try:
            if args.here:
                pythons[sdk] = Path(sys.executable)
            else:
                pythons[sdk] = venvs.ensure(
                    sdk, root=HERE / ".venvs", requirements=HERE / "requirements" / f"{sdk}.txt",
                    base=args.python, rebuild=args.rebuild,
                )  # fmt: skip
                freeze = venvs.freeze(pythons[sdk])
                (folder / f"freeze-{sdk}.txt").write_text(freeze, encoding="utf-8")
        except venvs.VenvError as error:
            _, order, label = SDKS[sdk]
            rows.append(failed_row(sdk, label, order, str(error)))
            print(f"{sdk}: {error}", file=sys.stderr)

    for round_ in range(1, args.rounds + 1):
        for sdk, python in pythons.items():
            run["load_average"].append({"before": f"{sdk} round {round_}", "load": load_average()})
            print(f"{sdk}, round {round_}: {SDKS[sdk][0]} ({python}) ...", file=sys.stderr)
            t0 = time.monotonic()
            new = run_one(sdk, python=python, work=logs, sizes=sizes, here=args.here, round_=round_)
            rows.extend(new)
            states = ", ".join(f"{r['key']} {r['status']}" for r in new)
            print(f"{sdk}: {states} after {time.monotonic() - t0:.0f} s", file=sys.stderr)
    run["load_average"].append({"before": "end", "load": load_average()})

    out.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    rows = rounds.combine(rows)
    markdown = table.render(rows)
    lines = table.notes(rows)
    (folder / "table.md").write_text(
        markdown + "\n" + "".join(f"\n- {n}" for n in lines) + "\n", encoding="utf-8"
    )
    (folder / "table.txt").write_text(
        table.render(rows, markdown=False) + "\n" + "".join(f"\n{n}" for n in lines) + "\n",
        encoding="utf-8",
    )
    (folder / "run.json").write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")

    loads = [entry["load"][0] for entry in run["load_average"] if entry["load"]]
    load_text = f"{min(loads):.2f}-{max(loads):.2f}" if loads else "unknown"
    print(f"results: {folder}")
    print(
        f"python {run['python']}, {run['cpus']} cpus, commit {run['commit']}, "
        f"warm-up {settings.warmup}, {settings.repeats} x {settings.evals} evaluations per row, "
        f"{settings.contexts} contexts, {args.rounds} round(s); load average (1 min) {load_text}"
    )
    print()
    print(markdown)
    for note in lines:
        print(f"- {note}")
    return 0 if rows and all(row.get("status") == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
