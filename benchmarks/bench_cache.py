"""What the on-disk cache (`.stability_cache/`) saves: a cold run (cache folder removed)
against a warm one (same project, nothing changed), best of N, for `stability-audit` on
projects of 500 and 2,000 generated modules (goal: warm < 0.5x cold) and, with `--flake8`,
for the flake8 door, with a run without the plugin as the baseline of what flake8 itself costs.

Each warm report must equal the cold one, byte for byte (the script exits 1 otherwise).

    python benchmarks/bench_cache.py [--modules 500 2000] [--repeat 3] [--flake8] [--jobs 1]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_flake8 import flake8  # noqa: E402
from generate import generate, pad  # noqa: E402
from measure import children_cpu  # noqa: E402

from flake8_stability.cache.fingerprint import RACY_SECONDS  # noqa: E402
from flake8_stability.cache.project import FOLDER  # noqa: E402

LINES_PER_MODULE = 92  # as bench_model.py: 2,000 modules, about 185,000 lines
Timing = Tuple[float, float]  # wall, CPU of the run's processes


def audit(root: Path, python: str) -> Tuple[Timing, bytes]:
    report = root.parent / f"{root.name}-report.json"
    command = [python, "-m", "flake8_stability.audit.cli", str(root), "--format", "json",
               "--output", str(report)]
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode not in (0, 1):
        raise SystemExit(f"stability-audit failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return (elapsed, cpu), report.read_bytes()


def best(runs: List[Timing]) -> Timing:
    return min(run[0] for run in runs), min(run[1] for run in runs)


def line(label: str, timing: Timing) -> str:
    return f"  {label:<40} {timing[0]:7.2f}s {timing[1]:7.2f}s"


def bench_audit(root: Path, python: str, repeat: int) -> bool:
    runs: Dict[str, List[Timing]] = {"cold": [], "warm": []}
    same = True
    for _ in range(repeat):
        shutil.rmtree(root / FOLDER, ignore_errors=True)
        cold, cold_report = audit(root, python)
        warm, warm_report = audit(root, python)
        runs["cold"].append(cold)
        runs["warm"].append(warm)
        same = same and cold_report == warm_report
    cold, warm = best(runs["cold"]), best(runs["warm"])
    print(line("stability-audit, cold", cold))
    print(line("stability-audit, warm", warm))
    print(f"  warm / cold: {warm[0] / cold[0]:.3f}x wall, {warm[1] / cold[1]:.3f}x CPU "
          f"(goal < 0.5x); reports identical: {same}")
    return same


def bench_flake8(root: Path, python: str, repeat: int, jobs: str) -> bool:
    runs: Dict[str, List[Timing]] = {"cold": [], "warm": [], "without": []}
    same = True
    for _ in range(repeat):
        shutil.rmtree(root / FOLDER, ignore_errors=True)
        *cold, cold_out = flake8(root, python, "SBA", jobs)
        *warm, warm_out = flake8(root, python, "SBA", jobs)
        *without, _ = flake8(root, python, "SBA", jobs, plugin=False)
        for label, timing in (("cold", cold), ("warm", warm), ("without", without)):
            runs[label].append((timing[0], timing[1]))
        same = same and cold_out == warm_out
    cold, warm, without = (best(runs[label]) for label in ("cold", "warm", "without"))
    print(line(f"flake8 --select SBA --jobs {jobs}, cold", cold))
    print(line(f"flake8 --select SBA --jobs {jobs}, warm", warm))
    print(line("flake8 without the plugin", without))
    plugin_cold, plugin_warm = cold[1] - without[1], warm[1] - without[1]
    print(f"  warm / cold: {warm[0] / cold[0]:.3f}x wall, {warm[1] / cold[1]:.3f}x CPU; "
          f"the plugin's own CPU: {plugin_cold:.2f}s cold, {plugin_warm:.2f}s warm; "
          f"output identical: {same}")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--flake8", action="store_true", help="also time the flake8 door")
    parser.add_argument("--jobs", default="1", help="flake8 --jobs (with --flake8)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--output", type=Path, default=HERE / "generated-cache")
    args = parser.parse_args()
    same = True
    for modules in args.modules:
        root = args.output / f"modules-{modules}"
        generate(root, modules, cache=True)
        files, lines = pad(root, modules * LINES_PER_MODULE)
        # Files changed within RACY_SECONDS of a run cannot be trusted by their times: the
        # cold run would store nothing. A real project is not edited during the run either.
        time.sleep(RACY_SECONDS + 0.5)
        print(f"{files} files, {lines} lines under {root} (best of {args.repeat}; "
              f"wall, CPU)")
        same = bench_audit(root, args.python, args.repeat) and same
        if args.flake8:
            same = bench_flake8(root, args.python, args.repeat, args.jobs) and same
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
