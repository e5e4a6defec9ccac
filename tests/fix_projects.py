"""Fixture projects for the stability-fix tests: real files, the real engine, real imports."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Union

from flake8_stability.engine import audit
from flake8_stability.findings import Finding

Files = Dict[str, Union[str, bytes]]


def write_project(root: Path, files: Files) -> Path:
    """A project folder (pyproject.toml, an `app` package) holding `files`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'shop'\nversion = '0.1'\n")
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "__init__.py").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root


def findings_of(root: Path, name: str = "") -> List[Finding]:
    """The engine's findings for the project (those in file `name`, when given)."""
    found = [finding for result in audit([root]) for finding in result.findings]
    return [f for f in found if not name or Path(f.path) == root / name]


def run_python(root: Path, code: str) -> subprocess.CompletedProcess:
    """`python -c code` from the project folder, with the real libraries and a clean path."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "DATABASE_URL")}
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
