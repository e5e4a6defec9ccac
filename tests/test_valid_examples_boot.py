"""Every rule's valid examples are healthy code: each is booted with the real libraries in a
clean subprocess, as `uvicorn` would (the target module imported from the boot working directory
with the boot `sys.path`, mappers configured), and must not fail. A project without a target has
each of its modules imported; a snippet is imported as a module. An example that declares
`installed=(...)` boots with that venv's site-packages ahead of the test stack's."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import textwrap
from importlib import metadata
from pathlib import Path
from typing import List, Tuple

import pytest

import example_projects
from flake8_stability.config import load_config
from flake8_stability.project.layout import discover_layout
from flake8_stability.rules import all_rules
from flake8_stability.rules.base import SNIPPET, Valid

EXAMPLES = [
    pytest.param(rule.code, index, id=f"{rule.code}-{index}",
                 marks=example_projects.marks(example))
    for rule in all_rules() for index, example in enumerate(rule.valid)]

_DRIVER = example_projects.SITE_FIRST + textwrap.dedent('''
    import importlib, json, os, sys
    roots, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    sys.path[:0] = roots
    site_first(sys.argv[3])
    for name in modules:
        importlib.import_module(name)
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.orm import configure_mappers
        configure_mappers()
''')


def _example(code: str, index: int) -> Valid:
    return next(r for r in all_rules() if r.code == code).valid[index]


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def _is_fragment(example: Valid) -> bool:
    """A snippet with relative imports is one module of a package shown alone."""
    files = example.files
    if list(files) != [SNIPPET]:
        return False
    tree = ast.parse(files[SNIPPET])
    return any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree))


def _boot_plan(folder: Path) -> Tuple[Path, List[str], List[str]]:
    """Working directory, `sys.path` additions and the modules to import."""
    layout = discover_layout(folder, load_config(folder))
    roots = [str(root) for root in layout.import_roots]
    if layout.target is not None:
        return layout.working_dir, roots, [layout.target.module]
    modules = sorted(name for name in (layout.module_name(path) for path in folder.rglob("*.py"))
                     if name)
    return layout.working_dir, roots, modules


@pytest.mark.proof
@pytest.mark.parametrize("code,index", EXAMPLES)
def test_valid_example_boots(code: str, index: int, tmp_path: Path) -> None:
    example = _example(code, index)
    if _is_fragment(example):
        pytest.skip("one module of a package shown alone (relative imports)")
    missing = [name for name in example.needs if not _installed(name)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, not in the test stack")
    example_projects.write(example, tmp_path)
    cwd, roots, modules = _boot_plan(tmp_path)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env.update(example.env or {})
    python = example_projects.interpreter(example)
    done = subprocess.run([python, "-W", "ignore", "-c", _DRIVER, json.dumps(roots),
                           json.dumps(modules), example_projects.site_packages(example)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert modules and done.returncode == 0, done.stderr[-2000:]
