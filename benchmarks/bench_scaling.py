"""Whether cost grows linearly with the project: the audit and the flake8 plugin on generated
backends of increasing size.

For each size (default 500, 2,000 and 8,000 modules; the backend of the other benchmarks,
written under benchmarks/generated-scaling/), in fresh interpreters:

* the `ast.parse` floor and `stability-audit --format json` (as in bench_audit.py): seconds
  per module and peak memory (ru_maxrss);
* flake8 `--select F --jobs 1` with and without this plugin (as in bench_flake8.py): the
  plugin's CPU seconds per module (with minus without).

It prints the per-module costs at each size and, for each, the ratio of the largest size's
per-module cost to the smallest's: linear growth keeps it near 1.0, quadratic work in a
project rule shows as a ratio that grows with the sizes.

    python benchmarks/bench_scaling.py [--sizes 500 2000 8000] [--repeat 1]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List

from bench_audit import AUDIT
from bench_flake8 import flake8
from generate import generate
from measure import PARSE_FLOOR, best

HERE = Path(__file__).resolve().parent


def measure_size(root: Path, modules: int, python: str, repeat: int) -> Dict[str, float]:
    """Per-module costs and peak memory on a backend of about `modules` modules."""
    files, _ = generate(root, modules)
    floor = best(PARSE_FLOOR, [str(root)], python, repeat)
    audit = best(AUDIT, [str(root)], python, repeat)
    with_plugin = min(flake8(root, python, "F", "1")[1] for _ in range(repeat))
    without = min(flake8(root, python, "F", "1", plugin=False)[1] for _ in range(repeat))
    return {"files": files, "floor": floor["seconds"] / files, "audit": audit["seconds"] / files,
            "plugin": (with_plugin - without) / files, "audit_peak": audit["peak_mib"],
            "floor_peak": floor["peak_mib"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 8000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (best kept)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--output", type=Path, default=HERE / "generated-scaling")
    args = parser.parse_args()
    rows: List[Dict[str, float]] = []
    print(f"  {'files':>6} {'parse ms/mod':>13} {'audit ms/mod':>13} {'plugin CPU ms/mod':>18}"
          f" {'parse peak':>11} {'audit peak':>11}")
    for size in sorted(args.sizes):
        row = measure_size(args.output, size, args.python, args.repeat)
        rows.append(row)
        print(f"  {row['files']:6.0f} {row['floor'] * 1000:13.2f} {row['audit'] * 1000:13.2f}"
              f" {row['plugin'] * 1000:18.2f} {row['floor_peak']:8.0f} MiB"
              f" {row['audit_peak']:7.0f} MiB", flush=True)
    first, last = rows[0], rows[-1]
    print(f"\n  per-module cost at {last['files']:.0f} / at {first['files']:.0f} files "
          "(linear: ~1.0):")
    for key, label in (("floor", "ast.parse floor"), ("audit", "stability-audit"),
                       ("plugin", "flake8 plugin (CPU)")):
        print(f"    {label:<22} {last[key] / first[key]:.2f}x")


if __name__ == "__main__":
    main()
