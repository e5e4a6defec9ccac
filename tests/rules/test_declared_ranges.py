"""SBA201, SBA202 and SBA210: declared ranges judged against the shipped stack table, against
each other and against the installed versions, from real requirement files (requirements.txt,
PEP 621, Poetry carets, uv.lock / poetry.lock), through flake8 and through the range solver."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

from _dependency_envs import configured, venv_with
from flake8_runner import Flake8Run
from flake8_stability.dependencies.declared import load_declared
from flake8_stability.dependencies.ranges import (BLOCKING, RUNTIME, WARNING, _judged,
                                                  declared_conflicts)
from flake8_stability.knowledge import stack

Lint = Callable[..., Flake8Run]
MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def found(run: Flake8Run, code: str) -> List[Tuple[str, int, str]]:
    return [(r.path, r.line, r.text.rsplit("[", 1)[1].rstrip("]")) for r in run.results
            if r.code == code]


def texts(run: Flake8Run, code: str) -> List[str]:
    return [r.text for r in run.results if r.code == code]


def conflicts_of(tmp_path: Path, files: Dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return declared_conflicts(load_declared(tmp_path), {}, None)


# Every table entry SBA201 can see from declarations: pins inside it, the packages in the order
# the finding names them, and what the message must say.
TABLE_CASES = {
    "sqlmodel-lt-0.0.14-pydantic-v2": (
        "sqlmodel==0.0.8\npydantic==2.5.3\n", ("sqlmodel", "pydantic"), BLOCKING,
        "sqlmodel 0.0.8 requires pydantic<2.0.0,>=1.8.2; pydantic==2.5.3 is declared "
        "(requirements.txt:2)"),
    "sqlmodel-lt-0.0.12-sqlalchemy-2": (
        "sqlmodel==0.0.11\nsqlalchemy==2.0.25\n", ("sqlmodel", "sqlalchemy"), BLOCKING,
        "sqlmodel 0.0.11 requires sqlalchemy<2.0.0,>=1.4.36; sqlalchemy==2.0.25 is declared "
        "(requirements.txt:2)"),
    "sqlmodel-ge-0.0.12-sqlalchemy-1.4": (
        "sqlmodel==0.0.13\nsqlalchemy==1.4.41\n", ("sqlmodel", "sqlalchemy"), BLOCKING,
        "sqlmodel 0.0.13 requires sqlalchemy<2.1.0,>=2.0.0; sqlalchemy==1.4.41 is declared "
        "(requirements.txt:2)"),
    "sqlmodel-0.0.7-0.0.8-sqlalchemy-gt-1.4.41": (
        "sqlmodel==0.0.8\nsqlalchemy==1.4.54\n", ("sqlmodel", "sqlalchemy"), BLOCKING,
        "sqlmodel 0.0.8 requires sqlalchemy<=1.4.41,>=1.4.17; sqlalchemy==1.4.54 is declared "
        "(requirements.txt:2)"),
    "sqlmodel-ge-0.0.31-pydantic-v1": (
        "sqlmodel==0.0.31\npydantic==1.10.13\n", ("sqlmodel", "pydantic"), BLOCKING,
        "sqlmodel 0.0.31 requires pydantic>=2.7.0; pydantic==1.10.13 is declared "
        "(requirements.txt:2)"),
    "fastapi-lt-0.100-pydantic-v2": (
        "fastapi==0.99.1\npydantic==2.5.3\n", ("fastapi", "pydantic"), BLOCKING,
        "fastapi 0.99.1 requires pydantic!=1.8,!=1.8.1,<2.0.0,>=1.7.4; pydantic==2.5.3 is "
        "declared (requirements.txt:2)"),
    "fastapi-ge-0.126-pydantic-v1": (
        "fastapi==0.126.0\npydantic==1.10.13\n", ("fastapi", "pydantic"), BLOCKING,
        "fastapi 0.126.0 requires pydantic>=2.7.0; pydantic==1.10.13 is declared "
        "(requirements.txt:2)"),
    "fastapi-lt-0.128.3-starlette-1": (
        "fastapi==0.128.2\nstarlette==1.0.0\n", ("fastapi", "starlette"), BLOCKING,
        "fastapi 0.128.2 requires starlette<0.51.0,>=0.40.0; starlette==1.0.0 is declared "
        "(requirements.txt:2)"),
    "pydantic-settings-pydantic-v1": (
        "pydantic-settings==2.0.3\npydantic==1.10.13\n", ("pydantic-settings", "pydantic"),
        BLOCKING, "pydantic-settings 2.0.3 requires pydantic>=2.0.1; pydantic==1.10.13 is "
                  "declared (requirements.txt:2)"),
    "passlib-bcrypt-ge-4.1": (
        "passlib==1.7.4\nbcrypt==4.1.3\n", ("passlib", "bcrypt"), WARNING,
        "the stack table records passlib<=1.7.4 with bcrypt>=4.1,<5 failing (runtime: (trapped) "
        "error reading bcrypt version"),
    "passlib-bcrypt-ge-5": (
        "passlib==1.7.4\nbcrypt==5.0.0\n", ("passlib", "bcrypt"), RUNTIME,
        "the stack table records passlib<=1.7.4 with bcrypt>=5 failing (runtime: ValueError: "
        "password cannot be longer than 72 bytes"),
}


def test_every_declarable_table_entry_has_a_case() -> None:
    judged = {row.id for row in stack.incompatibilities() if _judged(row)}
    assert judged == set(TABLE_CASES)


@pytest.mark.parametrize("row_id", sorted(TABLE_CASES))
def test_table_entry_seen_from_declared_pins(row_id: str, tmp_path: Path) -> None:
    requirements, packages, severity, said = TABLE_CASES[row_id]
    conflicts = conflicts_of(tmp_path, {"requirements.txt": requirements})
    assert [c.packages for c in conflicts] == [packages]
    conflict = conflicts[0]
    assert conflict.severity == severity
    message = conflict.text() + " " + " ".join(conflict.recorded())
    assert said in message
    row = next(r for r in stack.incompatibilities() if r.id == row_id)
    assert all(name in message for name in row.packages)


def test_ranges_name_the_nearest_working_versions(tmp_path: Path) -> None:
    requirements = "sqlmodel>=0.0.5,<0.0.9\npydantic>=2.5,<2.6\n"
    conflicts = conflicts_of(tmp_path, {"requirements.txt": requirements})
    assert len(conflicts) == 1
    text = conflicts[0].text()
    assert text.startswith("no released versions allowed by sqlmodel<0.0.9,>=0.0.5 "
                           "(0.0.5-0.0.8) with pydantic<2.6,>=2.5 (2.5.0-2.5.3) work together")
    assert conflicts[0].alternatives == (
        "sqlmodel>=0.0.14 (works with pydantic<2.6,>=2.5)",
        "pydantic<=1.10.26 (works with sqlmodel<0.0.9,>=0.0.5)")


def test_releases_inside_a_table_run_are_found_through_requirements(tmp_path: Path) -> None:
    # starlette 0.27.0 sits inside a run of the table (0.20.0-0.29.0); fastapi 0.99.1 needs it
    assert conflicts_of(tmp_path, {"requirements.txt": "fastapi<0.100\nstarlette>=0.20\n"
                                                       "pydantic<2\n"}) == ()


def test_healthy_unknown_and_dev_only_declarations_conflict_with_nothing(
        tmp_path: Path) -> None:
    assert conflicts_of(tmp_path, {
        "pyproject.toml": """
            [project]
            name = "shop"
            dependencies = [
                "fastapi>=0.115,<1", "sqlmodel>=0.0.24", "pydantic>=2.7",
                "pydantic<2; python_version < '3.0'",
                "starlette==9.9.9",
            ]
            [project.optional-dependencies]
            legacy = ["pydantic==1.10.13"]
            [dependency-groups]
            dev = ["sqlmodel==0.0.8"]
        """,
    }) == ()


def test_poetry_carets_and_locks(tmp_path: Path) -> None:
    conflicts = conflicts_of(tmp_path, {
        "pyproject.toml": """
            [tool.poetry]
            name = "shop"
            version = "0.1.0"

            [tool.poetry.dependencies]
            python = "^3.11"
            fastapi = "^0.115"
            sqlmodel = "^0.0.8"
            pydantic = "^2.5"
        """,
    })
    assert [c.packages for c in conflicts] == [("sqlmodel", "pydantic")]
    assert "is declared (pyproject.toml:" in conflicts[0].text()


def test_a_lock_that_pins_a_broken_pair(tmp_path: Path) -> None:
    conflicts = conflicts_of(tmp_path, {
        "pyproject.toml": '[project]\nname = "shop"\n'
                          'dependencies = ["fastapi>=0.95", "pydantic>=1.10"]\n',
        "uv.lock": """
            version = 1

            [[package]]
            name = "fastapi"
            version = "0.99.1"

            [[package]]
            name = "pydantic"
            version = "2.5.3"
        """,
    })
    assert len(conflicts) == 1
    assert conflicts[0].text() == ("fastapi 0.99.1 requires pydantic!=1.8,!=1.8.1,<2.0.0,"
                                   ">=1.7.4; pydantic 2.5.3 is locked (uv.lock:9)")


# SBA201 through flake8 -------------------------------------------------------------------------

def test_sba201_on_the_import_with_both_requirement_lines(lint: Lint) -> None:
    run = lint({
        "requirements.txt": "fastapi>=0.115\nsqlmodel==0.0.8\n",
        "requirements-prod.txt": "-r requirements.txt\npydantic==2.5.3\n",
        "app/__init__.py": "",
        "app/main.py": MAIN + "\nfrom app.models import Hero\n",
        "app/models.py": "from typing import Optional\n\nimport sqlmodel\n\n\n"
                         "def helper():\n    from sqlmodel import Session\n    return Session\n",
        "scripts/seed.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                           "    import sqlmodel\n",
    }, "--select", "SBA201", "--show-source")
    assert found(run, "SBA201") == [("./app/models.py", 3, "blocking")]
    assert ("sqlmodel 0.0.8 requires pydantic<2.0.0,>=1.8.2; pydantic==2.5.3 is declared "
            "(requirements-prod.txt:2)") in texts(run, "SBA201")[0]


def test_sba201_silent_without_an_import_or_when_compatible(lint: Lint) -> None:
    run = lint({
        "requirements.txt": "sqlmodel==0.0.8\npydantic==2.5.3\n",
        "app/__init__.py": "",
        "app/main.py": MAIN,
    }, "--select", "SBA201")
    assert found(run, "SBA201") == []


def test_sba201_healthy_async_project_is_silent(lint: Lint) -> None:
    run = lint({
        "pyproject.toml": textwrap.dedent('''
            [project]
            name = "shop"
            requires-python = ">=3.10"
            dependencies = ["fastapi[standard]>=0.115,<1", "sqlmodel>=0.0.24,<0.1",
                            "sqlalchemy[asyncio]>=2.0.14,<2.2", "aiosqlite", "pydantic-settings>=2"]
        '''),
        "app/__init__.py": "",
        "app/db.py": textwrap.dedent('''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlmodel import SQLModel
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

            async def init_db() -> None:
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
        '''),
        "app/main.py": MAIN,
    }, "--select", "SBA201,SBA202,SBA210")
    assert found(run, "SBA201") == found(run, "SBA202") == found(run, "SBA210") == []


# SBA202 ----------------------------------------------------------------------------------------

def test_sba202_lock_mismatch_is_a_warning_and_major_crossing_blocks(lint: Lint) -> None:
    run = lint({
        "pyproject.toml": '[project]\nname = "shop"\n'
                          'dependencies = ["fastapi>=0.100", "sqlalchemy>=1.4,<2"]\n',
        "uv.lock": 'version = 1\n\n[[package]]\nname = "fastapi"\nversion = "0.115.6"\n',
        "app/__init__.py": "",
        "app/main.py": MAIN + "\nimport sqlalchemy as sa\n",
        "app/jobs.py": "def run():\n    import sqlalchemy\n    return sqlalchemy\n",
    }, "--select", "SBA202")
    assert found(run, "SBA202") == [("./app/main.py", 1, "warning"),
                                    ("./app/main.py", 5, "blocking")]
    said = texts(run, "SBA202")
    assert "fastapi 0.165.0 is installed but fastapi 0.115.6 is locked (uv.lock:4)" in said[0]
    assert "sqlalchemy 2.1.9 is installed but sqlalchemy<2,>=1.4 is declared" in said[1]


def test_sba202_non_stack_package_outside_range_is_a_warning(lint: Lint) -> None:
    run = lint({
        "requirements.txt": "fastapi>=0.115\nanyio<4\n",
        "app/__init__.py": "",
        "app/main.py": MAIN + "\nimport anyio\n",
    }, "--select", "SBA202")
    assert found(run, "SBA202") == [("./app/main.py", 5, "warning")]


def test_sba202_silent_inside_the_range_or_without_an_interpreter(
        lint: Lint, tmp_path: Path) -> None:
    healthy = lint({
        "requirements.txt": "fastapi>=0.115,<1\npydantic>=2.7,<3\nsqlalchemy>=2.0,<2.2\n"
                            "pytest<7\n",
        "app/__init__.py": "",
        "app/main.py": MAIN + "\nimport pydantic\nimport sqlalchemy\n",
    }, "--select", "SBA202")
    assert found(healthy, "SBA202") == []
    missing = tmp_path / "nowhere" / "python"
    broken = lint({
        "pyproject.toml": configured(missing, ["pydantic<2"]),
        "app/__init__.py": "",
        "app/main.py": MAIN + "\nimport pydantic\n",
    }, "--select", "SBA202")
    assert found(broken, "SBA202") == []


def test_sba202_against_a_real_second_interpreter(lint: Lint, tmp_path: Path) -> None:
    python = venv_with(tmp_path / "env", [("pydantic", "1.10.13", [], ["pydantic"]),
                                          ("fastapi", "0.99.1", ["pydantic<2"], ["fastapi"])])
    run = lint({
        "pyproject.toml": configured(python, ["fastapi>=0.100", "pydantic>=2.5,<3"]),
        "app/__init__.py": "",
        "app/main.py": MAIN + "\nfrom pydantic import BaseModel\n",
    }, "--select", "SBA202")
    assert found(run, "SBA202") == [("./app/main.py", 1, "warning"),
                                    ("./app/main.py", 5, "blocking")]
    said = texts(run, "SBA202")
    assert "fastapi 0.99.1 is installed but fastapi>=0.100 is declared (pyproject.toml:3)" \
        in said[0]
    assert "pydantic 1.10.13 is installed" in said[1]


# SBA210 ----------------------------------------------------------------------------------------

def test_sba210_reports_open_ranges_across_breaks(lint: Lint) -> None:
    run = lint({
        "requirements.txt": "fastapi>=0.95\nsqlmodel>=0.0.8\nstarlette>=0.27\n",
        "app/__init__.py": "",
        "app/main.py": MAIN + "\nimport sqlmodel\nimport starlette\n",
    }, "--select", "SBA210")
    assert found(run, "SBA210") == [("./app/main.py", 1, "warning"),
                                    ("./app/main.py", 5, "warning"),
                                    ("./app/main.py", 6, "warning")]
    said = texts(run, "SBA210")
    assert "fastapi>=0.95 has no upper bound: it allows fastapi 0.95 and also 0.100.0" in said[0]
    assert "also 0.0.12 and 0.0.14" in said[1]
    assert "starlette>=0.27 has no upper bound" in said[2] and "1.0" in said[2]


def test_sba210_silent_when_bounded_locked_bare_or_past_the_break(lint: Lint) -> None:
    run = lint({
        "pyproject.toml": textwrap.dedent('''
            [project]
            name = "shop"
            dependencies = ["fastapi", "sqlalchemy>=1.4", "pydantic>=2.5", "sqlmodel>=0.0.8",
                            "starlette~=0.41"]

            [dependency-groups]
            dev = ["pytest"]
        '''),
        "uv.lock": 'version = 1\n\n[[package]]\nname = "sqlalchemy"\nversion = "1.4.54"\n',
        "app/__init__.py": "",
        "app/main.py": MAIN + "\nimport sqlalchemy\nimport pydantic\nimport starlette\n",
        "app/models.py": "import sqlmodel\n",
    }, "--select", "SBA210")
    assert found(run, "SBA210") == []
