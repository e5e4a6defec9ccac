"""Helpers for the database codemod tests (tests/fix/test_fix_*.py): fixture projects written
to disk, findings from the real engine, a codemod applied through `apply_codemod`, and project
code run with the real libraries in a subprocess."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from flake8_stability.engine import Selection, audit
from flake8_stability.findings import Finding
from flake8_stability.fix.codemod import Outcome, apply_codemod, registry


def write(root: Path, files: Dict[str, str]) -> Path:
    """The project `files` ({path: code}, dedented) under `root`, with package folders."""
    for name, code in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")
    for folder in {(root / name).parent for name in files} - {root}:
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text("", encoding="utf-8")
    return root


def findings(root: Path, code: str, path: str = "",
             python: Optional[str] = None) -> List[Finding]:
    """The real engine's findings of rule `code` in the project (in `path` when given), judged
    with the project interpreter `python` when given."""
    results = audit([root], Selection(select=(code,)), python=python)
    found = [finding for result in results for finding in result.findings
             if finding.code == code]
    if path:
        found = [f for f in found if Path(f.path).resolve() == (root / path).resolve()]
    return sorted(found, key=lambda finding: (finding.line, finding.col))


def fix(root: Path, path: str, code: str, codemod: str,
        python: Optional[str] = None) -> Tuple[Outcome, List[Finding]]:
    """Audit, apply `codemod` to `path` with the findings that name it, write the result."""
    found = [f for f in findings(root, code, path, python) if f.fix.codemod == codemod]
    file = root / path
    outcome = apply_codemod(registry()[codemod](), file.read_text(encoding="utf-8"), found)
    file.write_text(outcome.module.code, encoding="utf-8")
    return outcome, found


def again(root: Path, path: str, codemod: str, found: List[Finding]) -> str:
    """The file after the codemod ran once more with the same findings (idempotence)."""
    source = (root / path).read_text(encoding="utf-8")
    return apply_codemod(registry()[codemod](), source, found).module.code


def run(root: Path, code: str, python: Optional[str] = None) -> subprocess.CompletedProcess:
    """`python -c code` from the project folder, with the test stack's interpreter unless
    another is given."""
    return subprocess.run([python or sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, timeout=60)


def dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")
