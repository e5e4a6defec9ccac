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
(`rule_costs.py`) prints the costliest of them as a Markdown table.

    python benchmarks/bench_audit.py [--modules 2000] [--lines 200000] [--repeat 3] [--per-rule]
"""
from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

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
        start = time.perf_counter()
        status = main(["--format", "json", "--output", str(report), str(root)])
        seconds = time.perf_counter() - start
        projects = json.loads(report.read_text())["projects"]
    print(json.dumps({"seconds": seconds, "status": status,
                      "findings": sum(len(p["findings"]) for p in projects),
                      "errors": sum(len(p["errors"]) for p in projects),
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
''')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-rule", action="store_true",
                        help="also time each rule and shared analysis (one more audit run)")
    parser.add_argument("--top", type=int, default=25, help="rows of the --per-rule table")
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


if __name__ == "__main__":
    main()
