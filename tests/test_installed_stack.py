"""`pip check` for the project's interpreter and the table's combinations, against real second
interpreters with deliberately broken stacks (tests/stack_venvs.py), and proof that what the
table predicts is what importing really raises there."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

import stack_venvs
from flake8_stability.dependencies.installed import (STACK, broken_requirements, failing_first,
                                                     import_names, installed_versions,
                                                     matched_incompatibilities)
from flake8_stability.environment import Environment, load_environment


@pytest.fixture(scope="module")
def venvs() -> Dict[str, Path]:
    return stack_venvs.build_all()


def _texts(env: Environment) -> set:
    return {conflict.text() for conflict in broken_requirements(env, STACK)}


def test_conflicting_venv_is_reported_like_pip_check(venvs: Dict[str, Path]) -> None:
    env = load_environment(str(venvs["old-sqlmodel-fastapi-pydantic-2"]))
    assert env.error is None and env.version("sqlmodel") is not None
    assert _texts(env) == {
        "sqlmodel 0.0.8 requires pydantic<2.0.0,>=1.8.2; pydantic 2.5.3 is installed",
        "sqlmodel 0.0.8 requires SQLAlchemy<=1.4.41,>=1.4.17; sqlalchemy 2.0.25 is installed",
        "fastapi 0.99.1 requires pydantic!=1.8,!=1.8.1,<2.0.0,>=1.7.4; pydantic 2.5.3 is "
        "installed",
    }
    assert {rule.id for rule in matched_incompatibilities(env)} == {
        "sqlmodel-lt-0.0.14-pydantic-v2", "sqlmodel-lt-0.0.12-sqlalchemy-2",
        "fastapi-lt-0.100-pydantic-v2"}
    assert import_names(env, "sqlmodel") == ("sqlmodel",)


def _import_error(python: Path, code: str) -> str:
    done = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0, done.stdout
    return done.stderr.strip().splitlines()[-1]


def test_the_predicted_failures_are_real(venvs: Dict[str, Path]) -> None:
    env = load_environment(str(venvs["old-sqlmodel-fastapi-pydantic-2"]))
    errors = {rule.id: rule.error for rule in matched_incompatibilities(env)}
    python = venvs["old-sqlmodel-fastapi-pydantic-2"]
    assert _import_error(python, "import sqlmodel").startswith(
        errors["sqlmodel-lt-0.0.12-sqlalchemy-2"])
    assert _import_error(python, "import fastapi").startswith(
        errors["fastapi-lt-0.100-pydantic-v2"])


def test_passlib_with_bcrypt_5(venvs: Dict[str, Path]) -> None:
    env = load_environment(str(venvs["passlib-bcrypt-5"]))
    assert [rule.id for rule in matched_incompatibilities(env)] == ["passlib-bcrypt-ge-5"]


def test_healthy_interpreter_has_no_conflicts() -> None:
    env = load_environment(sys.executable)
    assert broken_requirements(env, STACK) == ()
    assert matched_incompatibilities(env) == ()
    assert installed_versions(env)["python"].release[:2] == sys.version_info[:2]


def test_missing_interpreter_reports_nothing(tmp_path: Path) -> None:
    env = load_environment(str(tmp_path / "nope" / "python"))
    assert broken_requirements(env) == () and matched_incompatibilities(env) == ()


def _env(requires: Dict[str, tuple], machine: str = "x86_64", **versions: str) -> Environment:
    return Environment(python="3.11.7", distributions=versions, requires=requires,
                       markers={"platform_machine": machine, "python_version": "3.11",
                                "python_full_version": "3.11.7", "sys_platform": "linux"})


def test_extras_count_only_when_an_installed_distribution_requests_them() -> None:
    sqlalchemy = ('greenlet>=1; extra == "asyncio"',)
    alone = _env({"sqlalchemy": sqlalchemy}, sqlalchemy="2.1.9")
    assert broken_requirements(alone) == ()
    requested = _env({"sqlalchemy": sqlalchemy, "app-lib": ("sqlalchemy[asyncio]>=2",)},
                     sqlalchemy="2.1.9", **{"app-lib": "1.0"})
    assert [c.text() for c in broken_requirements(requested)] == [
        "sqlalchemy 2.1.9 requires greenlet>=1; greenlet is not installed"]


def test_markers_are_evaluated_for_the_interpreter() -> None:
    requires = {"sqlalchemy": ("greenlet!=0.4.17; platform_machine == 'x86_64'",)}
    assert broken_requirements(_env(requires, "arm64", sqlalchemy="2.0.44")) == ()
    assert len(broken_requirements(_env(requires, "x86_64", sqlalchemy="2.0.44"))) == 1


def test_failing_first_puts_the_dependent_package_first() -> None:
    assert failing_first(("pydantic", "sqlmodel")) == ("sqlmodel", "pydantic")
    assert failing_first(("bcrypt", "passlib")) == ("passlib", "bcrypt")
