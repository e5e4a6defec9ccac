"""The benchmark scripts still run end to end (not timed: tiny projects, one repetition) and
print the ratios docs/performance.md records."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _run(script: str, arguments: List[str]) -> str:
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *arguments],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("script, expected", [
    ("bench_audit.py", "audit / floor:"),
    ("bench_model.py", "model / floor:"),
])
def test_padded_backend_benchmarks(tmp_path: Path, script: str, expected: str) -> None:
    out = _run(script, ["--modules", "12", "--lines", "600", "--repeat", "1",
                        "--output", str(tmp_path / "backend")])
    assert expected in out
    assert "peak" in out


def test_fix_benchmark_touches_every_job_module(tmp_path: Path) -> None:
    out = _run("bench_fix.py", ["--modules", "12", "--jobs", "2", "--repeat", "1",
                                "--output", str(tmp_path / "backend")])
    assert "3 touched" in out  # the two job modules and the script with a postgres:// URL
    assert "fix / floor:" in out


def test_scaling_benchmark_compares_the_largest_size_with_the_smallest(tmp_path: Path) -> None:
    out = _run("bench_scaling.py", ["--sizes", "12", "24", "--output", str(tmp_path / "backend")])
    largest, smallest = re.search(r"per-module cost at (\d+) / at (\d+) files", out).groups()
    assert int(largest) > int(smallest)
    for label in ("ast.parse floor", "stability-audit", "flake8 plugin (CPU)"):
        assert label in out
