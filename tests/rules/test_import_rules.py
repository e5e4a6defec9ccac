"""SBA101, SBA102, SBA104, SBA105 and SBA106 through flake8 on small projects: what is reported,
with which severity, and the healthy patterns that stay silent."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
from flake8_runner import Flake8Run

from flake8_stability.rules.imports.shadowing import BOOT_SHADOWABLE

SELECT = ("--select", "SBA101,SBA102,SBA104,SBA105,SBA106")
MAIN = "from fastapi import FastAPI\n\nfrom app.db import engine\n\napp = FastAPI()\n"
DB = ('from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\n'
      'from sqlmodel.ext.asyncio.session import AsyncSession\n\n'
      'engine = create_async_engine("sqlite+aiosqlite://")\n'
      'SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)\n\n'
      'async def get_session():\n    async with SessionLocal() as session:\n'
      '        yield session\n')


def app(**files: str) -> Dict[str, str]:
    project = {"app/__init__.py": "", "app/main.py": MAIN, "app/db.py": DB}
    project.update({_path(name): text for name, text in files.items()})
    return project


def _path(name: str) -> str:
    """`app__services____init__` -> `app/services/__init__.py`."""
    return name.replace("__init__", "\0").replace("__", "/").replace("\0", "__init__") + ".py"


def found(run: Flake8Run) -> List[Tuple[str, int, str, str]]:
    return sorted((r.path[2:], r.line, r.code, r.text.rsplit("[", 1)[-1].rstrip("]"))
                  for r in run.results)


def test_healthy_project_is_silent(lint: Callable[..., Flake8Run]) -> None:
    files = app(
        app__deps=("from typing import TYPE_CHECKING, Annotated\n\nfrom fastapi import Depends\n"
                   "from sqlmodel.ext.asyncio.session import AsyncSession\n\n"
                   "from app.db import get_session\n\n"
                   "if TYPE_CHECKING:\n    from app.typing_only import Nothing\n\n"
                   "SessionDep = Annotated[AsyncSession, Depends(get_session)]\n"),
        app__routes=("import sqlalchemy as sa\nfrom fastapi import APIRouter\n\n"
                     "from app.deps import SessionDep\n\nrouter = APIRouter()\n\n"
                     "def report():\n    from app.db import engine\n    return sa, engine\n"),
        app__lazy=("from app.db import *  # noqa: F403\n\n__all__ = ['later']\n\n"
                   "def __getattr__(name):\n    return name\n"),
        app__use=("from app.lazy import anything, later\nfrom app import routes\n"
                  "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"
                  "if True:\n    flag = 1\nelse:\n    flag = 2\n"),
        app__use2="from app.use import flag\n",
        scripts__seed="import helpers\n\nhelpers.seed()\n",
        scripts__helpers="def seed():\n    pass\n",
    )
    assert found(lint(files, *SELECT)) == []


def test_typo_in_project_package_suggests_nearest(lint: Callable[..., Flake8Run]) -> None:
    files = app(app__services____init__="", app__services__users="router = 1\n",
                app__main=MAIN + "from app.servces.users import router\n"
                                 "def later():\n    import app.services.user\n")
    run = lint(files, *SELECT)
    assert found(run) == [("app/main.py", 6, "SBA101", "blocking"),
                          ("app/main.py", 8, "SBA101", "runtime")]
    assert "'app.servces'" in run.results[0].text


def test_missing_third_party_unless_guarded_or_conditional(lint: Callable[..., Flake8Run]) -> None:
    files = app(app__extra=("import not_installed_anywhere\n"
                            "if False:\n    import also_not_installed\n"
                            "try:\n    import optional_not_installed\nexcept ImportError:\n"
                            "    pass\n"),
                app__main=MAIN + "from app import extra\n")
    assert found(lint(files, *SELECT)) == [("app/extra.py", 1, "SBA101", "blocking")]


def test_modules_the_app_does_not_import_at_boot_are_warnings(
        lint: Callable[..., Flake8Run]) -> None:
    files = app(app__tasks="import not_installed_anywhere\nfrom app.db import get_sesion\n")
    assert found(lint(files, *SELECT)) == [("app/tasks.py", 1, "SBA101", "warning"),
                                           ("app/tasks.py", 2, "SBA102", "warning")]


def test_wrong_environment_lowers_third_party_to_warning(
        lint: Callable[..., Flake8Run]) -> None:
    interpreter = Path("/usr/bin/python3")
    probe = subprocess.run([str(interpreter), "-c", "import fastapi"], capture_output=True) \
        if interpreter.exists() else None
    if probe is None or probe.returncode == 0:
        pytest.skip("needs an interpreter without fastapi")
    files = app()
    files["pyproject.toml"] = ("[project]\nname = 'fixture'\n\n[tool.flake8-stability]\n"
                               f"python = '{interpreter}'\n")
    run = lint(files, *SELECT)
    assert found(run) == [("app/db.py", 1, "SBA101", "warning"),
                          ("app/db.py", 2, "SBA101", "warning"),
                          ("app/main.py", 1, "SBA101", "warning")]


def test_name_not_in_module(lint: Callable[..., Flake8Run]) -> None:
    files = app(app__api=("from app.db import get_sesion, engine\n\n"
                          "def handler():\n    from app.db import Session\n"),
                app__main=MAIN + "from app import api\n")
    run = lint(files, *SELECT)
    assert found(run) == [("app/api.py", 1, "SBA102", "blocking"),
                          ("app/api.py", 4, "SBA102", "runtime")]
    assert "'get_sesion' from app.db" in run.results[0].text


def test_name_on_a_cycle_is_left_to_sba602(lint: Callable[..., Flake8Run]) -> None:
    files = app(app__db="from app.models import Hero\n\nengine = object()\n",
                app__models="from app.db import engine, missing\n\nclass Hero:\n    pass\n")
    run = lint(files, "--select", "SBA102,SBA602")
    assert {r.code for r in run.results} == {"SBA602"}


def test_relative_imports(lint: Callable[..., Flake8Run]) -> None:
    files = {"main.py": ("from fastapi import FastAPI\n\nfrom . import db\n\napp = FastAPI()\n"),
             "db.py": "engine = None\n",
             "pkg/__init__.py": "", "pkg/a.py": "from . import b\nfrom .b import x\n",
             "pkg/b.py": "x = 1\n", "pkg/c.py": "def f():\n    from ...top import y\n"}
    # `uvicorn main:app` cannot be the boot command of a module with relative imports, so the
    # ASGI target is unknown and the module-level failure cannot be called blocking.
    assert found(lint(files, *SELECT)) == [("main.py", 3, "SBA105", "warning"),
                                           ("pkg/c.py", 2, "SBA105", "runtime")]


def test_import_root_mismatch_from_docker_app_dir(lint: Callable[..., Flake8Run]) -> None:
    files = {"Procfile": "web: cd backend && uvicorn main:app\n",
             "backend/main.py": ("from fastapi import FastAPI\n\nfrom backend.db import engine\n"
                                 "from db import engine as same\n\napp = FastAPI()\n"),
             "backend/db.py": "engine = None\n"}
    run = lint(files, *SELECT)
    assert found(run) == [("backend/main.py", 3, "SBA104", "blocking")]
    assert "'backend.db' resolves only from the project root" in run.results[0].text


def test_shadowing_modules(lint: Callable[..., Flake8Run]) -> None:
    """In a sub-project: flake8 itself must not import the shadowing files from its cwd."""
    files = app(app__log="from logging import getLogger\n", logging="LEVEL = 'INFO'\n",
                sqlmodel____init__="VERSION = 1\n", utils="x = 1\n",
                os="x = 1\n", sys="x = 1\n", app__logging="x = 1\n", pytest="import pytest\n")
    files["pyproject.toml"] = "[project]\nname = 'web'\n"
    run = lint({f"web/{path}": text for path, text in files.items()}, *SELECT)
    assert found(run) == [("web/logging.py", 1, "SBA106", "blocking"),
                          ("web/pytest.py", 1, "SBA106", "blocking"),
                          ("web/sqlmodel/__init__.py", 1, "SBA106", "blocking")]


_BOOT = ("from fastapi import FastAPI\nfrom sqlmodel import Field, SQLModel\n"
         "from sqlalchemy.ext.asyncio import create_async_engine\n"
         "engine = create_async_engine('sqlite+aiosqlite://')\n"
         "class Hero(SQLModel, table=True):\n    id: int = Field(primary_key=True)\n"
         "app = FastAPI()\n")


def _boots_with(tmp_path: Path, shadow: str) -> bool:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/__init__.py").write_text("")
    (tmp_path / "app/main.py").write_text(_BOOT)
    (tmp_path / f"{shadow}.py").write_text("VALUE = 1\n")
    done = subprocess.run([sys.executable, "-c",
                           "import sys; sys.path.insert(0, '.'); import app.main"],
                          cwd=tmp_path, capture_output=True)
    return done.returncode == 0


@pytest.mark.parametrize("shadow,breaks", [("logging", True), ("typing", True),
                                           ("sqlmodel", True), ("os", False), ("re", False)])
def test_shadow_list_matches_a_real_boot(tmp_path: Path, shadow: str, breaks: bool) -> None:
    assert (shadow in BOOT_SHADOWABLE) is breaks
    assert _boots_with(tmp_path, shadow) is not breaks


def test_every_module_of_a_plain_import_is_resolved(lint: Callable[..., Flake8Run]) -> None:
    run = lint(app(app__extra="import os, app.missing_module  # noqa: F401\n"), *SELECT)
    assert [(r.path, r.line, r.code) for r in run.results] == [("./app/extra.py", 1, "SBA101")]
