"""What the full static audit costs, against the floor of reading and parsing the same files.

Generates the FastAPI + SQLModel backend of the other benchmarks (padded with service
functions to the requested size) under benchmarks/generated-audit/, then runs, each in a fresh
interpreter, best of N:

* the floor: read and `ast.parse` every `.py` file of the project, keeping the trees;
* the audit: `stability-audit --format json` in-process (every rule, the report with its
  dependency manifest and import graph, written to a file), the project's interpreter probed
  before the clock starts (it is one subprocess whatever the project's size);

and prints both times, their ratio (goal: <= 2x) and each run's peak memory (ru_maxrss).
With `--per-rule`, one more audit run with every rule and shared analysis timed
(`rule_costs.py`) prints the costliest of them as a Markdown table. With `--compare DIR`,
the floor, the audit with the package found in DIR (e.g. `git archive main | tar -x -C DIR`)
and the audit with this one run interleaved `--repeat` times, and their best CPU times are
compared (steadier than wall time on a shared machine).

    python benchmarks/bench_audit.py [--modules 2000] [--lines 200000] [--repeat 3] [--per-rule]
                                     [--compare DIR]
"""
from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Dict, List

from generate import padded_backend
from measure import PARSE_FLOOR, best, run_json
from rule_costs import PER_RULE, table

HERE = Path(__file__).resolve().parent

AUDIT = textwrap.dedent('''
    import json, resource, sys, tempfile, time
    from pathlib import Path
    from flake8_stability.audit.cli import main
    from flake8_stability.config import load_config
    from flake8_stability.environment import load_environment
    root = Path(sys.argv[1])
    load_environment(load_config(root).interpreter(root))
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        start, cpu = time.perf_counter(), time.process_time()
        status = main(["--format", "json", "--output", str(report), str(root)])
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        projects = json.loads(report.read_text())["projects"]
    print(json.dumps({"seconds": seconds, "cpu": cpu, "status": status,
                      "findings": sum(len(p["findings"]) for p in projects),
                      "errors": sum(len(p["errors"]) for p in projects),
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
''')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-rule", action="store_true",
                        help="also time each rule and shared analysis (one more audit run)")
    parser.add_argument("--top", type=int, default=25, help="rows of the --per-rule table")
    parser.add_argument("--compare", metavar="DIR",
                        help="also time the package in DIR (another version), interleaved")
    args, files, lines = padded_backend(parser.description, HERE / "generated-audit", parser)
    root = [str(args.output)]
    floor = best(PARSE_FLOOR, root, args.python, args.repeat)
    audit = best(AUDIT, root, args.python, args.repeat)
    if audit["errors"]:
        raise SystemExit(f"the audit reported {audit['errors']:.0f} internal errors")
    print(f"{files} files, {lines} lines under {args.output} (best of {args.repeat})")
    print(f"  ast.parse floor                {floor['seconds']:7.2f}s  "
          f"peak {floor['peak_mib']:6.0f} MiB")
    print(f"  stability-audit --format json  {audit['seconds']:7.2f}s  "
          f"peak {audit['peak_mib']:6.0f} MiB  ({audit['findings']:.0f} findings)")
    print(f"  audit / floor:                 {audit['seconds'] / floor['seconds']:.2f}x time, "
          f"{audit['peak_mib'] / floor['peak_mib']:.2f}x peak memory (goal: <= 2x time)")
    if args.per_rule:
        print(table(run_json(PER_RULE, root, args.python), args.top))
    if args.compare:
        compare(root, args.python, args.repeat, args.compare)


def compare(root: List[str], python: str, repeat: int, other: str) -> None:
    """CPU seconds of the floor and of the audit with the package in `other` and with this
    one, interleaved round by round, best of `repeat`."""
    runs: Dict[str, List[float]] = {"floor": [], "other": [], "this": []}
    for _ in range(repeat):
        runs["floor"].append(run_json(PARSE_FLOOR, root, python)["cpu"])
        runs["other"].append(run_json(AUDIT, root, python, other)["cpu"])
        runs["this"].append(run_json(AUDIT, root, python)["cpu"])
    floor, before, after = (min(runs[key]) for key in ("floor", "other", "this"))
    print(f"CPU, best of {repeat} interleaved rounds: floor {floor:.2f}s")
    print(f"  audit with {other}: {before:.2f}s ({before / floor:.2f}x floor)")
    print(f"  audit with this package: {after:.2f}s ({after / floor:.2f}x floor), "
          f"{after / before:.2f}x the other")


if __name__ == "__main__":
    main()
