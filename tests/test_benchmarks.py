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


def test_cache_benchmark_compares_warm_with_cold_runs(tmp_path: Path) -> None:
    out = _run("bench_cache.py", ["--modules", "12", "--repeat", "1", "--flake8",
                                  "--output", str(tmp_path / "backend")])
    assert "reports identical: True" in out and "output identical: True" in out
    assert "warm / cold:" in out


def test_benchmarks_time_cold_runs(tmp_path: Path) -> None:
    """The generated project turns the on-disk cache off: a best of N must not keep a warm run."""
    backend = tmp_path / "backend"
    _run("bench_audit.py", ["--modules", "12", "--lines", "600", "--repeat", "2",
                            "--output", str(backend)])
    assert not (backend / ".stability_cache").exists()


def test_per_rule_table_adds_up_to_the_timed_audit(tmp_path: Path) -> None:
    out = _run("bench_audit.py", ["--modules", "12", "--lines", "600", "--repeat", "1",
                                  "--per-rule", "--top", "500", "--output", str(tmp_path / "b")])
    total = float(re.search(r"timed audit: ([0-9.]+)s", out).group(1))
    rows = re.findall(r"^\|[^|]*\| ([^|]+) \|[^|]*\|[^|]*\| ([0-9.]+) \| [0-9.]+% \|$", out,
                      re.MULTILINE)
    labels = {label for label, _ in rows}
    assert {"scopes", "model: read + parse", "SBA103", "SBA601", "other"} <= labels
    assert "more:" not in out  # every row shown
    assert abs(sum(float(seconds) for _, seconds in rows) - total) <= 0.01 * len(rows) + 0.01


def test_compare_times_another_version_of_the_package(tmp_path: Path) -> None:
    package = Path(__file__).resolve().parent.parent
    out = _run("bench_audit.py", ["--modules", "12", "--lines", "600", "--repeat", "1",
                                  "--compare", str(package), "--output", str(tmp_path / "b")])
    assert re.search(r"CPU, best of 1 interleaved rounds: floor [0-9.]+s", out)
    assert re.search(rf"audit with {re.escape(str(package))}: [0-9.]+s \([0-9.]+x floor\)", out)
    assert re.search(r"audit with this package: [0-9.]+s \([0-9.]+x floor\), [0-9.]+x the other",
                     out)


def test_run_json_loads_the_package_from_the_given_folder(tmp_path: Path) -> None:
    """Even from a checkout (the working folder comes first on `python -c`'s path)."""
    other = tmp_path / "other"
    (other / "flake8_stability").mkdir(parents=True)
    (other / "flake8_stability" / "__init__.py").write_text("WHERE = 'other'\n")
    script = ("import json, flake8_stability\n"
              "print(json.dumps({'other': getattr(flake8_stability, 'WHERE', '') == 'other'}))")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from measure import run_json
    finally:
        sys.path.remove(str(BENCHMARKS))
    assert run_json(script, [], sys.executable, str(other)) == {"other": True}
