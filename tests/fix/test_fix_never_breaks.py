"""stability-fix never crashes and never corrupts: every registered codemod, pointed at every
statement and expression of generated programs, either fixes or skips, leaves code that still
parses, and changes nothing on a second run; the whole fix path (`--diff` in memory) over the
installed web stack's own sources raises nothing and writes nothing."""
from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path
from typing import List

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, given, settings

from flake8_stability.engine import audit
from flake8_stability.findings import Category, Finding, Fix, Severity
from flake8_stability.fix.apply import fix_files
from flake8_stability.fix.codemod import apply_codemod, registry
from flake8_stability.fix.text_codemod import TextCodemod

FUZZ = settings(max_examples=int(os.environ.get("STABILITY_FUZZ_EXAMPLES", "100")) // 4 or 1,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
CODEMODS = sorted((name, codemod) for name, codemod in registry().items()
                  if not issubclass(codemod, TextCodemod))  # those edit requirement files
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")


def targets(source: str, codemod: str) -> List[Finding]:
    """A finding naming `codemod` at every node `ast` positions (what rules point at)."""
    tree = ast.parse(source)
    return [Finding("SBA999", Severity.WARNING, Category.STRUCTURE, "app/db.py", node.lineno,
                    node.col_offset, "generated", "generated", Fix("generated", codemod))
            for node in ast.walk(tree) if hasattr(node, "lineno")][:60]


def parses(source: str) -> bool:
    try:
        ast.parse(source)
        cst.parse_module(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, cst.ParserSyntaxError):
        return False
    return True


@pytest.mark.parametrize("name, codemod", CODEMODS, ids=[name for name, _ in CODEMODS])
@FUZZ
@given(source=hypothesmith.from_node())
def test_codemods_fix_or_skip_and_stay_idempotent(name: str, codemod: type, source: str) -> None:
    assume(parses(source))
    findings = targets(source, name)
    outcome = apply_codemod(codemod(), source, findings)
    fixed = outcome.module.code
    assert parses(fixed), f"{name} produced code that does not parse"
    second = apply_codemod(codemod(), fixed, targets(fixed, name)).module.code
    third = apply_codemod(codemod(), second, targets(second, name)).module.code
    assert parses(second) and third == second, f"{name} keeps changing what it fixed"


@pytest.mark.parametrize("package", ["fastapi", "sqlalchemy", "pydantic", "sqlmodel"])
def test_the_fix_path_over_installed_sources_raises_nothing_and_writes_nothing(
        package: str) -> None:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.rglob("*.py"))
    stamps = {path: path.stat().st_mtime_ns for path in files}
    findings = [finding for result in audit([folder]) for finding in result.findings]
    fixes = fix_files(findings, unsafe=True)
    assert all(fix.path for fix in fixes)
    assert {path: path.stat().st_mtime_ns for path in files} == stamps
