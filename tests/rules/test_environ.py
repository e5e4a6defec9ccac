"""SBA501 through flake8 on small projects: reads at import and startup, the sources that
silence it, severity off the boot path, and the fix for a value only in `.env.example`."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Optional

from flake8_runner import Flake8Run

from flake8_stability.context import ProjectContext
from flake8_stability.findings import Finding
from flake8_stability.rules.config.environ import EnvVarRequiredAtImport

MAIN = "from fastapi import FastAPI\n\nimport app.db  # noqa: F401\n\napp = FastAPI()\n"


def files(db: str, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    found = {"app/__init__.py": "", "app/main.py": MAIN, "app/db.py": textwrap.dedent(db)}
    found.update(extra or {})
    return found


def findings(root: Path, sources: Dict[str, str], path: str) -> List[Finding]:
    """SBA501's findings in one file, in process (to read root causes and fixes)."""
    (root / "pyproject.toml").write_text("[project]\nname = 'fixture'\n")
    for name, text in sources.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    project = ProjectContext(root)
    text = (root / path).read_text()
    module = project.context_for(str(root / path), text.splitlines(True), ast.parse(text))
    return list(EnvVarRequiredAtImport().check_module(module))


def test_reads_that_fail_at_boot(lint: Callable[..., Flake8Run]) -> None:
    run = lint(files('''
        import os as o
        from contextlib import asynccontextmanager
        from os import environ, getenv

        from sqlalchemy import create_engine

        SECRET = o.environ["SECRET"]
        PORT = int(environ.get("PORT"))
        NAME = getenv("NAME").lower()
        URL = getenv("DATABASE_URL")
        engine = create_engine(URL)


        def token():
            return o.environ["ON_REQUEST_ONLY"]


        def configure():
            return o.environ["CALLED_AT_IMPORT"]


        configure()


        @asynccontextmanager
        async def lifespan(app):
            o.environ["AT_STARTUP"]
            yield
            o.environ["AT_SHUTDOWN"]
    '''))
    assert [r.line for r in run.results] == [8, 9, 10, 11, 20, 28]  # the text starts blank
    assert all(r.text.endswith("[blocking]") for r in run.results)
    assert "its None reaches create_engine()" in run.results[3].text


SOURCES = {".env": "FROM_DOTENV=1\n",
           "docker-compose.yml": "services:\n  api:\n    environment:\n      - FROM_COMPOSE=1\n",
           "Dockerfile": "FROM python:3.12\nENV FROM_DOCKERFILE=1\n",
           ".github/workflows/ci.yml": "on: push\nenv:\n  FROM_CI: 1\n"}


def test_sources_and_guards_silence_it(lint: Callable[..., Flake8Run]) -> None:
    run = lint(files('''
        import os

        from dotenv import load_dotenv

        load_dotenv()
        FROM_DOTENV = os.environ["FROM_DOTENV"]
        FROM_COMPOSE = os.environ["FROM_COMPOSE"]
        FROM_DOCKERFILE = os.environ["FROM_DOCKERFILE"]
        FROM_CI = os.environ["FROM_CI"]
        os.environ.setdefault("SET_IN_CODE", "1")
        SET_IN_CODE = os.environ["SET_IN_CODE"]
        GUARDED = os.environ["GUARDED"] if "GUARDED" in os.environ else None
        try:
            CAUGHT = os.environ["CAUGHT"]
        except KeyError:
            CAUGHT = None
        WITH_DEFAULT = os.getenv("WITH_DEFAULT", "x").lower()
        OPTIONAL = os.getenv("OPTIONAL")
        if OPTIONAL:
            print(OPTIONAL.lower())
        NOT_BROKEN = os.environ.get("NOT_BROKEN") or "fallback"
    ''', SOURCES))
    assert run.results == []


def test_off_the_boot_path_it_is_a_warning(lint: Callable[..., Flake8Run]) -> None:
    sources = files("ENGINE = None\n")
    sources["scripts/seed.py"] = "import os\n\nURL = os.environ['SEED_URL']\n"
    run = lint(sources)
    assert [(r.path, r.line) for r in run.results] == [("./scripts/seed.py", 3)]
    assert run.results[0].text.endswith("[warning]")


def test_example_file_only_asks_to_create_dotenv(tmp_path: Path) -> None:
    found = findings(tmp_path, files('import os\n\nKEY = os.environ["API_KEY"]\n',
                                     {".env.example": "API_KEY=change-me\n"}), "app/db.py")
    assert len(found) == 1
    assert "Create .env from .env.example" in found[0].fix.description
    assert ".env.example:1 sets it, but nothing loads that file" in found[0].root_cause
    assert "change-me" not in found[0].root_cause + found[0].fix.description + found[0].message


def test_unloaded_real_dotenv_asks_to_load_it(tmp_path: Path) -> None:
    found = findings(tmp_path, files('import os\n\nKEY = os.environ["API_KEY"]\n',
                                     {".env": "API_KEY=sk-secret\n"}), "app/db.py")
    assert len(found) == 1 and found[0].fix.description.startswith("Load .env before the read")
    assert all("sk-secret" not in text for text in
               (found[0].message, found[0].root_cause, found[0].fix.description))
