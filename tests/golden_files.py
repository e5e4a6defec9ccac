"""Golden files of stability-fix (`tests/fixtures/golden/`): running the real command on a copy
of a golden's `before/` tree, reading trees byte for byte, and regenerating a codemod golden's
expected files (`scripts/regen_golden.py`)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

from flake8_stability.cache.project import FOLDER as CACHE_FOLDER

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden"
CODEMODS = GOLDEN / "codemods"  # one folder per codemod id: before/, after/, expected.*
DIFF, SKIPPED = "expected.diff", "expected.skipped"
# Optional: the distributions of the interpreter the golden's project is judged with, as
# `[name, version, Requires-Dist lines, top-level modules]` (requirement-file fixes judge what
# is installed); without it, the test suite's own interpreter.
INSTALLED = "installed.json"


def stability_fix(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`stability-fix ARGS .` run from `cwd` as a user runs it (bytes out), importing the
    code this process imports (a relative PYTHONPATH is made absolute: `cwd` is elsewhere)."""
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in paths if p)}
    return subprocess.run([sys.executable, "-m", "flake8_stability.fix.cli", *args, "."],
                          cwd=cwd, env=env, capture_output=True, timeout=300)


def tree(root: Path) -> Dict[str, bytes]:
    """Every file under `root` (but caches — Python's and the tool's own — and databases), by
    relative path, as bytes."""
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()
            and not {"__pycache__", CACHE_FOLDER} & set(path.parts)
            and not path.name.endswith(".db")}


def codemod_goldens() -> List[str]:
    """The codemod ids that have a golden folder."""
    return sorted(folder.name for folder in CODEMODS.iterdir() if (folder / "before").is_dir())


def options(codemod: str) -> List[str]:
    """The stability-fix options that apply exactly this codemod: its codes, and `--unsafe`
    when it is unsafe."""
    from flake8_stability.fix.codemod import registry

    cls = registry()[codemod]
    return ["--select", ",".join(cls.codes), *([] if cls.safe else ["--unsafe"])]


def interpreter(codemod: str, scratch: Path) -> List[str]:
    """`--python` naming a venv under `scratch` that holds the golden's `installed.json`
    distributions, or nothing when the golden has none."""
    listing = CODEMODS / codemod / INSTALLED
    if not listing.is_file():
        return []
    from rules._dependency_envs import venv_with

    return ["--python", str(venv_with(scratch, json.loads(listing.read_text())))]


def regenerate(codemod: str) -> None:
    """Rewrite `expected.diff`, `expected.skipped` and `after/` of one codemod golden from what
    stability-fix does to its `before/` tree today."""
    folder = CODEMODS / codemod
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / codemod
        shutil.copytree(folder / "before", project)
        arguments = [*options(codemod), *interpreter(codemod, Path(scratch))]
        shown = stability_fix(project, "--diff", *arguments)
        written = stability_fix(project, "--write", *arguments)
        if shown.returncode not in (0, 1) or written.returncode != 0:
            raise SystemExit(f"{codemod}: stability-fix failed:\n"
                             f"{(shown.stderr + written.stderr).decode(errors='replace')}")
        (folder / DIFF).write_bytes(shown.stdout)
        (folder / SKIPPED).write_bytes(shown.stderr)
        shutil.rmtree(folder / "after", ignore_errors=True)
        for relative, data in tree(project).items():
            target = folder / "after" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
