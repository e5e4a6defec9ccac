"""Run one rule on a file of a small project whose interpreter is made to report other
installed versions (the version branches of a rule, without building a venv)."""
from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Dict, List

from flake8_stability.context import ProjectContext
from flake8_stability.findings import Finding
from flake8_stability.rules import rule_for


def findings_with(root: Path, files: Dict[str, str], versions: Dict[str, str], path: str,
                  code: str) -> List[Finding]:
    """The findings of rule `code` in `path` when the project's interpreter has `versions`."""
    (root / "pyproject.toml").write_text("[project]\nname = 'fixture'\n")
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)
    project = ProjectContext(root)
    env = project.environment
    project.__dict__["environment"] = replace(env, distributions={**env.distributions, **versions})
    text = (root / path).read_text()
    module = project.context_for(str(root / path), text.splitlines(True), ast.parse(text))
    return list(rule_for(code)().check_module(module))
