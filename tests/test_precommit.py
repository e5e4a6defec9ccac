"""The pre-commit hooks of `.pre-commit-hooks.yaml`, run by pre-commit itself (`pre-commit
try-repo` on this checkout: it installs the hooks into their own environment as users get them)
in a git repository holding a backend: every hook fails on a broken backend and passes once it
is fixed."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

REPO = Path(__file__).resolve().parent.parent
HOOKS = ("stability-audit", "stability-fix", "flake8-stability")
MAIN = "from fastapi import FastAPI\n\nfrom app.db import engine  # noqa: F401\n\napp = FastAPI()\n"
BROKEN_DB = ("from sqlalchemy.ext.asyncio import create_async_engine\n\n"
             "engine = create_async_engine('postgres://app@db/app')\n")
HEALTHY_DB = BROKEN_DB.replace("postgres://", "postgresql+asyncpg://")
REQUIREMENTS = ("fastapi==0.165.0\nsqlalchemy[asyncio]==2.1.9\ngreenlet==3.5.6\n"
                "asyncpg==0.32.0\n")
OFFLINE = ("Could not find a version that satisfies", "Failed to establish a new connection",
           "Temporary failure in name resolution")


def pre_commit() -> List[str]:
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    found = shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]' installs it)")
    return [found]


def backend(root: Path, db: str) -> Path:
    """A git repository holding a backend judged with the test stack's interpreter."""
    files = {"pyproject.toml": ("[project]\nname = 'shop'\n\n[tool.flake8-stability]\n"
                                f"python = {str(sys.executable)!r}\n"),
             "requirements.txt": REQUIREMENTS, "app/__init__.py": "", "app/main.py": MAIN,
             "app/db.py": db}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def run_hooks(root: Path, home: Path) -> Dict[str, str]:
    """Each hook's outcome ("Passed"/"Failed") from `pre-commit try-repo REPO --all-files`."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "VIRTUAL_ENV")}  # the hooks run their own copy
    environment["PRE_COMMIT_HOME"] = str(home)
    done = subprocess.run([*pre_commit(), "try-repo", str(REPO), "--all-files"], cwd=root,
                          env=environment, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    if "An unexpected error has occurred" in output and any(m in output for m in OFFLINE):
        pytest.skip("pre-commit could not install the hooks' environment (no package index)")
    outcomes = {hook: outcome for hook in HOOKS for outcome in ("Passed", "Failed")
                if any(line.endswith(outcome) and line.startswith(_title(hook))
                       for line in output.splitlines())}
    assert set(outcomes) == set(HOOKS), output
    return outcomes


def _title(hook: str) -> str:
    """The start of the hook's `name` in .pre-commit-hooks.yaml, as pre-commit prints it."""
    return {"stability-audit": "stability-audit (", "stability-fix": "stability-fix --diff",
            "flake8-stability": "flake8 --select SBA"}[hook]


def test_hooks_fail_on_a_broken_backend_and_pass_on_a_healthy_one(tmp_path: Path) -> None:
    home = tmp_path / "pre-commit-home"
    broken = backend(tmp_path / "broken", BROKEN_DB)
    assert run_hooks(broken, home) == dict.fromkeys(HOOKS, "Failed")
    assert (broken / "app" / "db.py").read_text(encoding="utf-8") == BROKEN_DB  # --diff only
    healthy = backend(tmp_path / "healthy", HEALTHY_DB)
    assert run_hooks(healthy, home) == dict.fromkeys(HOOKS, "Passed")
