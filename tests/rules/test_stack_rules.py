"""SBA203, SBA204, SBA205 and SBA209 through flake8, on small projects judged against real second
interpreters (tests/stack_venvs.py) named with `[tool.flake8-stability] python = ...`, and the
failures those interpreters really raise."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable, Dict

import pytest

import stack_venvs
from flake8_runner import Flake8Run
from flake8_stability.config import Config
from flake8_stability.context import ProjectContext
from flake8_stability.dependencies.installed import failing_first
from flake8_stability.environment import Environment
from flake8_stability.knowledge import stack
from flake8_stability.rules import rule_for

Lint = Callable[..., Flake8Run]
MAIN = "from fastapi import FastAPI\n\nfrom app import db\n\napp = FastAPI()\n"


@pytest.fixture(scope="module")
def venvs() -> Dict[str, Path]:
    return stack_venvs.build_all()


def with_python(python: object, files: Dict[str, str]) -> Dict[str, str]:
    config = f"[project]\nname = 'fixture'\n\n[tool.flake8-stability]\npython = '{python}'\n"
    return {"pyproject.toml": config, "app/__init__.py": "", **files}


def found(run: Flake8Run, code: str) -> list:
    return [(r.path, r.line, r.text.rsplit("[", 1)[1].rstrip("]")) for r in run.results
            if r.code == code]


def failure(python: Path, code: str) -> str:
    done = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0, done.stdout
    return done.stderr.strip().splitlines()[-1]


# SBA203 ---------------------------------------------------------------------------------------

def test_sba203_reports_the_boot_import_and_skips_guarded_ones(venvs, lint: Lint) -> None:
    files = with_python(venvs["old-sqlmodel-fastapi-pydantic-2"], {
        "app/main.py": MAIN,
        "app/db.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                     "    from sqlmodel import Session\n\ntry:\n    import sqlmodel\n"
                     "except ImportError:\n    sqlmodel = None\n\n"
                     "def session():\n    from sqlmodel import Session\n    return Session\n",
    })
    run = lint(files)
    assert found(run, "SBA203") == [("./app/db.py", 12, "runtime"),
                                    ("./app/main.py", 1, "blocking")]
    texts = {r.line: r.text for r in run.results if r.code == "SBA203"}
    assert "sqlmodel 0.0.8 requires pydantic<2.0.0,>=1.8.2; pydantic 2.5.3 is installed" \
        in texts[12]
    assert "fastapi 0.99.1 requires pydantic" in texts[1] and "pydantic 2.5.3" in texts[1]


def test_sba203_without_a_boot_target_is_a_warning(venvs, lint: Lint) -> None:
    files = with_python(venvs["old-sqlmodel-fastapi-pydantic-2"], {
        "app/models.py": "from sqlmodel import SQLModel\n",
        "scripts/seed.py": "import os\n",
    })
    assert found(lint(files), "SBA203") == [("./app/models.py", 1, "warning")]


def test_sba203_is_silent_on_a_healthy_or_unreadable_interpreter(
        lint: Lint, tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/main.py": MAIN,
             "app/db.py": "import sqlalchemy as sa\nfrom sqlmodel import SQLModel\n"}
    assert found(lint(files), "SBA203") == []
    broken = with_python(tmp_path / "missing" / "python", {"app/main.py": MAIN,
                                                           "app/db.py": "import sqlmodel\n"})
    assert [r.code for r in lint(broken).results
            if r.code in ("SBA203", "SBA204", "SBA205", "SBA209")] == []


# SBA204 ---------------------------------------------------------------------------------------

DRIVERS = {
    "app/main.py": MAIN,
    "app/db.py": (
        "import os\n\nimport sqlalchemy as sa\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        "pg = create_async_engine('postgresql+asyncpg://app:secret@db/app')\n"
        "lite = create_async_engine('sqlite+aiosqlite:///./app.db')\n"
        "sync = sa.create_engine('sqlite:///./app.db', connect_args={'check_same_thread': False})\n"
        "bare = sa.create_engine('postgresql://app:secret@db/app')\n"
        "env = sa.create_engine(os.environ['DATABASE_URL'])\n"
        "maria = sa.create_engine(os.getenv('DB', 'mysql+pymysql://app:secret@db/app'))\n"
        "\ndef make():\n    return create_async_engine('mysql+asyncmy://app:secret@db/app')\n"
    ),
}


def test_sba204_in_the_main_environment(lint: Lint) -> None:
    run = lint({"app/__init__.py": "", **DRIVERS})
    assert found(run, "SBA204") == [("./app/db.py", 11, "blocking"), ("./app/db.py", 14, "runtime")]
    text = next(r.text for r in run.results if r.code == "SBA204" and r.line == 11)
    assert "'mysql+pymysql://app:***@db/app' needs pymysql" in text and "secret" not in text


def test_sba204_leaves_urls_that_never_fit_the_engine_to_sba301_and_sba302(lint: Lint) -> None:
    source = ("from sqlalchemy import create_engine\n"
              "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
              "a = create_async_engine('mysql+pymysql://app:secret@db/app')\n"
              "b = create_engine('mysql+aiomysql://app:secret@db/app')\n")
    run = lint({"app/__init__.py": "", "app/main.py": MAIN, "app/db.py": source})
    assert sorted((r.line, r.code) for r in run.results) == [(4, "SBA302"), (5, "SBA301")]


def test_sba204_bare_postgresql_follows_the_sqlalchemy_version(venvs, lint: Lint) -> None:
    run_21 = lint(with_python(venvs["sqlalchemy-2.1-no-greenlet"], DRIVERS))
    assert 9 in [line for _, line, _ in found(run_21, "SBA204")]
    assert "needs psycopg," in next(r.text for r in run_21.results if r.line == 9
                                    and r.code == "SBA204")
    run_20 = lint(with_python(venvs["sqlalchemy-2.0-no-greenlet"], DRIVERS))
    assert "needs psycopg2 or psycopg2-binary" in next(
        r.text for r in run_20.results if r.line == 9 and r.code == "SBA204")
    # the venvs have aiosqlite, not asyncpg
    assert 6 in [line for _, line, _ in found(run_20, "SBA204")]
    assert 7 not in [line for _, line, _ in found(run_20, "SBA204")]


def test_sba204_errors_are_real(venvs) -> None:
    engine = "from sqlalchemy import create_engine; create_engine('postgresql://u:p@h/d')"
    assert failure(venvs["sqlalchemy-2.1-no-greenlet"], engine) == \
        "ModuleNotFoundError: No module named 'psycopg'"
    assert failure(venvs["sqlalchemy-2.0-no-greenlet"], engine) == \
        "ModuleNotFoundError: No module named 'psycopg2'"


# SBA205 ---------------------------------------------------------------------------------------

ASYNC_DB = (
    "from typing import TYPE_CHECKING\n\n"
    "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\n\n"
    "if TYPE_CHECKING:\n    from sqlmodel.ext.asyncio.session import AsyncSession\n\n"
    "engine = create_async_engine('sqlite+aiosqlite:///./app.db')\n"
    "SessionLocal = async_sessionmaker(engine, expire_on_commit=False)\n"
)


def test_sba205_blocking_on_sqlalchemy_2_1_runtime_on_2_0(venvs, lint: Lint) -> None:
    files = {"app/main.py": MAIN, "app/db.py": ASYNC_DB}
    run_21 = lint(with_python(venvs["sqlalchemy-2.1-no-greenlet"], files))
    assert found(run_21, "SBA205") == [("./app/db.py", 3, "blocking")]
    assert "greenlet is not installed (SQLAlchemy 2.1.9)" in next(
        r.text for r in run_21.results if r.code == "SBA205")
    run_20 = lint(with_python(venvs["sqlalchemy-2.0-no-greenlet"], files))
    assert found(run_20, "SBA205") == [("./app/db.py", 3, "runtime")]


def test_sba205_deferred_import_and_sync_code(venvs, lint: Lint) -> None:
    files = {
        "app/main.py": MAIN,
        "app/db.py": "from sqlmodel import create_engine\n\n"
                     "engine = create_engine('sqlite:///./app.db')\n",
        "app/tasks.py": "def run():\n    from sqlalchemy.ext.asyncio import create_async_engine\n"
                        "    return create_async_engine('sqlite+aiosqlite://')\n",
    }
    run = lint(with_python(venvs["sqlalchemy-2.1-no-greenlet"], files))
    assert found(run, "SBA205") == [("./app/tasks.py", 2, "runtime")]
    files["app/tasks.py"] = "def run():\n    return None\n"
    assert found(lint(with_python(venvs["sqlalchemy-2.1-no-greenlet"], files)), "SBA205") == []


def test_sba205_silent_with_greenlet(lint: Lint) -> None:
    assert found(lint({"app/__init__.py": "", "app/main.py": MAIN, "app/db.py": ASYNC_DB}),
                 "SBA205") == []


def test_sba205_errors_are_real(venvs) -> None:
    assert failure(venvs["sqlalchemy-2.1-no-greenlet"], "import sqlalchemy.ext.asyncio") == (
        "ImportError: The SQLAlchemy asyncio module requires that the Python 'greenlet' library "
        "is installed.  In order to ensure this dependency is available, use the "
        "'sqlalchemy[asyncio]' install target:  'pip install sqlalchemy[asyncio]'")
    connect = ("import asyncio\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
               "async def main():\n    async with create_async_engine('sqlite+aiosqlite://')"
               ".connect():\n        pass\nasyncio.run(main())\n")
    assert failure(venvs["sqlalchemy-2.0-no-greenlet"], connect) == (
        "ValueError: the greenlet library is required to use this function. No module named "
        "'greenlet'")


# SBA209 ---------------------------------------------------------------------------------------

def test_sba209_on_the_passlib_import(venvs, lint: Lint) -> None:
    files = with_python(venvs["passlib-bcrypt-5"], {
        "app/main.py": MAIN,
        "app/db.py": "import bcrypt\n",
        "app/auth.py": "def context():\n    from passlib.context import CryptContext\n"
                       "    return CryptContext(schemes=['bcrypt'])\n",
    })
    run = lint(files)
    assert found(run, "SBA209") == [("./app/auth.py", 2, "runtime")]
    text = next(r.text for r in run.results if r.code == "SBA209")
    assert "passlib 1.7.4 with bcrypt 5.0.0" in text


def test_sba209_silent_without_passlib_imports_or_in_a_healthy_env(venvs, lint: Lint) -> None:
    files = {"app/main.py": MAIN, "app/db.py": "import bcrypt\n"}
    assert found(lint(with_python(venvs["passlib-bcrypt-5"], files)), "SBA209") == []
    healthy = {"app/__init__.py": "", "app/main.py": MAIN,
               "app/db.py": "try:\n    from passlib.context import CryptContext\n"
                            "except ImportError:\n    CryptContext = None\n"}
    assert found(lint(healthy), "SBA209") == []


# Every combination the table decides on versions alone -----------------------------------------

EXAMPLES = {
    "sqlmodel-lt-0.0.14-pydantic-v2": ("SBA203", {"sqlmodel": "0.0.13", "pydantic": "2.5.3",
                                                  "sqlalchemy": "2.0.25"}),
    "sqlmodel-lt-0.0.12-sqlalchemy-2": ("SBA203", {"sqlmodel": "0.0.11", "sqlalchemy": "2.0.25",
                                                   "pydantic": "1.10.13"}),
    "sqlmodel-ge-0.0.12-sqlalchemy-1.4": ("SBA203", {"sqlmodel": "0.0.13",
                                                     "sqlalchemy": "1.4.41",
                                                     "pydantic": "1.10.13"}),
    "sqlmodel-0.0.7-0.0.8-sqlalchemy-gt-1.4.41": ("SBA203", {"sqlmodel": "0.0.8",
                                                             "sqlalchemy": "1.4.54",
                                                             "pydantic": "1.10.13"}),
    "sqlmodel-ge-0.0.31-pydantic-v1": ("SBA203", {"sqlmodel": "0.0.31", "pydantic": "1.10.13",
                                                  "sqlalchemy": "2.0.25"}),
    "fastapi-lt-0.100-pydantic-v2": ("SBA203", {"fastapi": "0.99.1", "pydantic": "2.5.3"}),
    "fastapi-ge-0.126-pydantic-v1": ("SBA203", {"fastapi": "0.128.0", "pydantic": "1.10.13"}),
    "fastapi-lt-0.128.3-starlette-1": ("SBA209", {"fastapi": "0.128.0", "starlette": "1.0.0",
                                                  "pydantic": "2.12.0"}),
    "pydantic-v1-python-3.12.4": ("SBA209", {"pydantic": "1.10.15", "python": "3.12.4"}),
    "pydantic-settings-pydantic-v1": ("SBA203", {"pydantic-settings": "2.0.0",
                                                 "pydantic": "1.10.13"}),
    "uvicorn-python-floor": ("SBA203", {"uvicorn": "0.40.0", "python": "3.9.18"}),
    "passlib-bcrypt-ge-4.1": ("SBA209", {"passlib": "1.7.4", "bcrypt": "4.1.3"}),
    "passlib-bcrypt-ge-5": ("SBA209", {"passlib": "1.7.4", "bcrypt": "5.0.0"}),
}
_MODULE = {"pydantic-settings": "pydantic_settings"}


def test_every_version_rule_of_the_table_has_an_example() -> None:
    assert set(EXAMPLES) == {rule.id for rule in stack.incompatibilities()
                             if rule.trigger == stack.VERSIONS and rule.kind != stack.BUILD}


@pytest.mark.parametrize("ident", sorted(EXAMPLES))
def test_each_combination_names_both_packages_and_versions(ident: str, tmp_path: Path) -> None:
    code, versions = EXAMPLES[ident]
    rule = next(r for r in stack.incompatibilities() if r.id == ident)
    dependent = failing_first(rule.packages)[0]
    python = versions.get("python", "3.11.7")
    dists = {name: version for name, version in versions.items() if name != "python"}
    tops = {_MODULE.get(name, name) for name in dists}
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'fixture'\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text(f"import {_MODULE.get(dependent, dependent)}\n")
    project = ProjectContext(tmp_path, Config())
    project.__dict__["environment"] = Environment(
        python=python, executable="/srv/app/.venv/bin/python", distributions=dists,
        top_level=frozenset(tops), stdlib=frozenset({"os", "sys"}),
        markers={"python_version": python.rsplit(".", 1)[0], "python_full_version": python,
                 "platform_machine": "x86_64", "sys_platform": "linux"})
    findings = list(rule_for(code)().check_project(project.model))
    assert len(findings) == 1, findings
    text = findings[0].message + " " + findings[0].root_cause
    for name in rule.packages:
        assert f"{name} {dists[name]}" in text, (name, text)
    if rule.python is not None:
        assert f"Python {python}" in text
    assert rule.error in findings[0].root_cause
