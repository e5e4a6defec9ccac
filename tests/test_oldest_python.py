"""The tool runs on the oldest Python it supports (`requires-python >= 3.9`) and finds exactly
what it finds on the test suite's Python: every rule's examples through the flake8 door, and the
example backend and fixture backends through stability-audit's JSON report.

The tool's own dependencies are installed for Python 3.9 into a venv built once per machine
(`stack_venvs`, wheels for 3.9); the tool itself is loaded from this checkout (flake8's
`local-plugins`, `PYTHONPATH` for the audit). Both runs judge the same project interpreter
(`--stability-python` / `--python`: the test suite's), so any difference comes from the Python
running the tool: an `ast` node or stdlib API the older Python lacks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest

import example_projects
import stack_venvs
from flake8_stability.rules import all_rules

REPO = Path(__file__).resolve().parent.parent
# The tool's dependencies as pip resolves them for CPython 3.9 (pyproject.toml's ranges).
TOOL_ON_39 = (
    "python==3.9", "flake8==7.3.0", "pyflakes==3.4.0", "pycodestyle==2.14.0", "mccabe==0.7.0",
    "libcst==1.9.0", "pyyaml==6.0.3", "typing-extensions==4.16.0", "importlab==0.8.1",
    "networkx==3.2.1", "packaging==26.3", "python-dotenv==1.2.1", "tomli==2.5.0")
BACKENDS = [REPO / "examples" / "async-shop", REPO / "tests" / "fixtures" / "door",
            REPO / "tests" / "fixtures" / "golden" / "shop" / "before",
            *sorted((REPO / "tests" / "fixtures" / "boot").iterdir())]


@pytest.fixture(scope="module")
def tool_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the package (a symlink to this checkout's) and its entry point."""
    folder = tmp_path_factory.mktemp("tool")
    (folder / "flake8_stability").symlink_to(REPO / "flake8_stability")
    record = folder / "flake8_stability-0.dist-info"
    record.mkdir()
    (record / "METADATA").write_text("Metadata-Version: 2.1\nName: flake8-stability\n"
                                     "Version: 0\n")
    (record / "entry_points.txt").write_text(
        "[flake8.extension]\nSBA = flake8_stability.plugin:StabilityChecker\n")
    return folder


@pytest.fixture(scope="module")
def python39() -> str:
    try:
        return str(stack_venvs.build(TOOL_ON_39))
    except FileNotFoundError as exc:
        pytest.skip(f"no CPython 3.9 on this machine: {exc}")


def _run(python: str, args: Sequence[str], cwd: Path,
         path: Optional[Path] = None) -> subprocess.CompletedProcess:
    """`python args` from `cwd`; `path` goes on PYTHONPATH (the tool, for Python 3.9)."""
    env = {**os.environ, "NO_COLOR": "1"}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    done = subprocess.run([python, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def _flake8(python: str, root: Path, path: Optional[Path] = None) -> List[str]:
    opt_in = ",".join(rule.code for rule in all_rules() if not rule.enabled_by_default)
    done = _run(python, ["-m", "flake8", "--isolated", "--select", "SBA",
                         *(["--extend-select", opt_in] if opt_in else []),
                         "--stability-python", sys.executable, "--jobs", "2", "."], root, path)
    assert done.returncode in (0, 1), done.stderr
    return sorted(done.stdout.splitlines())


def test_every_rule_example_gives_the_same_flake8_findings_on_python_39(
        python39: str, tool_path: Path, tmp_path: Path) -> None:
    root = tmp_path / "examples"
    for rule in all_rules():
        for kind, examples in (("invalid", rule.invalid), ("valid", rule.valid)):
            for index, example in enumerate(examples):
                if example.installed:  # judged with another venv: not this test's concern
                    continue
                folder = root / f"{rule.code}_{kind}_{index}"
                folder.mkdir(parents=True)
                example_projects.write(example, folder)
    on_39 = _flake8(python39, root, tool_path)
    assert on_39 == _flake8(sys.executable, root)
    assert len(on_39) > 100  # the examples really were judged


def _audit(python: str, path: Optional[Path] = None) -> Dict[str, object]:
    done = _run(python, ["-m", "flake8_stability.audit.cli", "--format", "json",
                         "--python", sys.executable, *map(str, BACKENDS)], REPO, path)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    report.pop("generated_at", None)
    return report


def test_the_audit_reports_are_the_same_on_python_39(python39: str, tool_path: Path) -> None:
    on_39 = _audit(python39, tool_path)
    assert on_39 == _audit(sys.executable)
    assert len(on_39["projects"]) == len(BACKENDS)
