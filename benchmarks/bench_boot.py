"""The boot probe's own overhead: probe wall time minus the app's import and startup time that
the probe measures inside its subprocess, on the healthy SQLite fixture backend
(tests/fixtures/boot/healthy, copied to a scratch folder). Baseline, measured in the same run:
a bare `python -c "import app.main"` in a subprocess from the same folder.

    PYTHONPATH=/path/to/worktree /path/to/.venv/bin/python benchmarks/bench_boot.py --repeat 5
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

from flake8_stability.boot import probe
from flake8_stability.config import load_config
from flake8_stability.context import ProjectContext

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "boot" / "healthy"
GOAL = 0.5  # seconds of overhead


def _bare_import(root: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import app.main"], cwd=root, env=env, check=True)
    return time.perf_counter() - started


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="sba-bench-boot-") as scratch:
        root = Path(scratch) / "healthy"
        shutil.copytree(FIXTURE, root)
        walls, apps, overheads, bare = [], [], [], []
        for _ in range(args.repeat):
            result = probe(ProjectContext(root, load_config(root)), timeout=60, get_path="/health")
            if result.outcome != "booted":
                print(f"the fixture did not boot: {result.describe()}", file=sys.stderr)
                return 1
            walls.append(result.wall_time)
            apps.append(result.app_time)
            overheads.append(result.overhead)
            bare.append(_bare_import(root))
    median = statistics.median
    print(f"runs: {args.repeat} (medians)")
    print(f"probe wall time          {median(walls):.3f} s")
    print(f"app import + startup     {median(apps):.3f} s  (measured inside the probe)")
    print(f"probe overhead           {median(overheads):.3f} s  (goal < {GOAL} s; best "
          f"{min(overheads):.3f} s)")
    print(f"bare `import app.main`   {median(bare):.3f} s  (subprocess, same folder)")
    print(f"probe / bare import      {median(walls) / median(bare):.2f}x")
    return 0 if median(overheads) < GOAL else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
