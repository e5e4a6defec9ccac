"""What `flake8 --select SBA` costs on a large FastAPI + SQLModel backend.

Generates a realistic project (routers, SQLModel models, schemas, services on async sessions,
repositories, settings) under benchmarks/generated/, then times flake8 on it, best of N runs,
every run with the same --jobs:

* `--select SBA` against `--select F`, the ratio the project tracks;
* `--select SBA,F` against `--select F`, what users pay on top of pyflakes;
* `--select F` with and without this plugin installed: flake8 runs every installed plugin
  whatever `--select` says (selection only filters what is reported), so this is the cost
  the plugin adds to every flake8 run.

    python benchmarks/bench_flake8.py [--modules 1500] [--jobs auto] [--repeat 3]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict, List, Tuple

from generate import generate
from measure import children_cpu

HERE = Path(__file__).resolve().parent

# flake8 itself, optionally without this plugin (flake8 has no option to skip a plugin).
DRIVER = textwrap.dedent('''
    import sys
    from flake8.plugins import finder

    if sys.argv[1] == "without":
        find = finder.find_plugins
        finder.find_plugins = lambda cfg, opts: [
            p for p in find(cfg, opts) if p.package != "flake8-stability"]
    from flake8.main.cli import main
    main(sys.argv[2:])
''')


# -- timing ------------------------------------------------------------------------------------

def flake8(root: Path, python: str, select: str, jobs: str,
           plugin: bool = True) -> Tuple[float, float, str]:
    """Wall time, CPU time (flake8 and its workers) and output of one run."""
    command = [python, "-c", DRIVER, "with" if plugin else "without", "--isolated",
               "--select", select, "--jobs", jobs, "app"]
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode not in (0, 1) or "internal error" in done.stderr:
        raise SystemExit(f"flake8 failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, cpu, done.stdout


RUNS: List[Tuple[str, str, bool]] = [
    ("SBA", "SBA", True), ("F", "F", True), ("SBA,F", "SBA,F", True),
    ("F, plugin not installed", "F", False),
]


def ratio(timings: Dict[str, Tuple[float, float]], label: str, base: str) -> str:
    wall, cpu = (timings[label][i] / timings[base][i] for i in (0, 1))
    return f"{wall:.2f}x wall, {cpu:.2f}x CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=1500, help="modules to generate (~1500)")
    parser.add_argument("--jobs", default="auto", help="flake8 --jobs for every run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--python", default=sys.executable, help="interpreter running flake8")
    parser.add_argument("--output", type=Path, default=HERE / "generated")
    args = parser.parse_args()

    files, lines = generate(args.output, args.modules)
    print(f"{files} files, {lines} lines under {args.output} (flake8 --jobs {args.jobs}, "
          f"best of {args.repeat})")
    timings: Dict[str, Tuple[float, float]] = {}
    outputs: Dict[str, str] = {}
    for _ in range(args.repeat):  # round robin: load from other processes hits every run alike
        for label, select, plugin in RUNS:
            wall, cpu, outputs[label] = flake8(args.output, args.python, select, args.jobs, plugin)
            best = timings.get(label, (wall, cpu))
            timings[label] = (min(best[0], wall), min(best[1], cpu))
    print(f"  {'':<36} {'wall':>8} {'CPU':>8} {'results':>8}")
    for label, _, _ in RUNS:
        wall, cpu = timings[label]
        results = len(outputs[label].splitlines())
        print(f"  --select {label:<27} {wall:7.2f}s {cpu:7.2f}s {results:8d}")
    print(f"\n  --select SBA / --select F:              {ratio(timings, 'SBA', 'F')}")
    print(f"  --select SBA,F / --select F:            {ratio(timings, 'SBA,F', 'F')}")
    print(f"  --select F, with / without the plugin:  "
          f"{ratio(timings, 'F', 'F, plugin not installed')}")


if __name__ == "__main__":
    main()
