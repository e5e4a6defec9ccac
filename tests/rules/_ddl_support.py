"""Helpers shared by the DDL and SQL rule tests."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Dict, List

from flake8_runner import Flake8Run
from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.findings import Finding
from flake8_stability.rules import rule_for


def files(sources: Dict[str, str]) -> Dict[str, str]:
    return {name: textwrap.dedent(source).lstrip("\n") for name, source in sources.items()}


def reported(run: Flake8Run, code: str, path: str) -> List[str]:
    """`line [severity]` of each finding of `code` in `path`."""
    return [f"{r.line} {r.text.rsplit(' ', 1)[-1]}" for r in run.results
            if r.code == code and r.path.endswith(path)]


def findings(tmp_path: Path, code: str, source: str, name: str = "app/main.py") -> List[Finding]:
    """Run one rule in-process (the running interpreter's versions) on a file of a project
    rooted at `tmp_path`."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'fixture'\n")
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = textwrap.dedent(source).lstrip("\n")
    path.write_text(text)
    module = ModuleContext(str(path), text.splitlines(True), ast.parse(text),
                           ProjectContext(tmp_path))
    return sorted(rule_for(code)().check_module(module), key=lambda f: (f.line, f.col))
