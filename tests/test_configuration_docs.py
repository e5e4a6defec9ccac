"""docs/configuration.md is generated from the doors' own option definitions and is up to date:
every option of stability-audit, stability-fix and the flake8 plugin, every pyproject key, and
exactly the environment variables the tool's code reads."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Set

from flake8_stability import configuration_docs
from flake8_stability.audit.cli import _parser as audit_parser
from flake8_stability.config import _KEYS
from flake8_stability.docs import CONFIGURATION_PATH
from flake8_stability.fix.cli import _parser as fix_parser

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "flake8_stability"


def test_configuration_md_is_generated_from_the_option_definitions() -> None:
    assert CONFIGURATION_PATH.read_text(encoding="utf-8") == configuration_docs.render(), (
        "docs/configuration.md is stale: run `python -m flake8_stability.docs`")


def test_every_option_and_key_is_documented() -> None:
    text = configuration_docs.render()
    for parser in (audit_parser(), fix_parser()):
        for action in parser._actions:
            for flag in set(action.option_strings) - {"-h", "--help"}:
                assert f"`{flag}`" in text, flag
    assert "`--stability-python`" in text
    for key in _KEYS:
        assert f"| `{key}` |" in text, key


def test_the_docs_command_checks_both_files() -> None:
    done = subprocess.run([sys.executable, "-m", "flake8_stability.docs", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def environment_reads() -> Set[str]:
    """Variables read as `os.environ.get("X")`, `os.getenv("X")` or `os.environ["X"]` by the
    tool's code (the rules' examples are strings, not code, so they do not count)."""
    names: Set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                    "os.environ.get", "os.getenv") and node.args:
                key = node.args[0]
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                key = node.slice
            else:
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
    return names


def test_the_environment_variables_are_those_the_code_reads() -> None:
    documented = {name for name, _ in configuration_docs.ENVIRONMENT}
    assert documented == environment_reads()
