"""`.env` paths resolved from the working directory: SBA506."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional, Tuple

from ...analysis.paths import file_path
from ...analysis.settings_classes import settings_classes
from ...context import ModuleContext
from ...findings import Category, Finding, Location, Severity
from ..base import Invalid, Rule, Valid

_LOADERS = frozenset({"dotenv.load_dotenv", "dotenv.main.load_dotenv"})


class EnvFileRelativeToCwd(Rule):
    code = "SBA506"
    name = "env-file-relative-to-cwd"
    severity = Severity.WARNING
    category = Category.CONFIG
    versions = "Any pydantic-settings and python-dotenv version."
    summary = "A relative env_file / load_dotenv path that the boot working directory misses"
    triggers = ("env_file", "load_dotenv")
    what = ("`model_config = SettingsConfigDict(env_file=\".env\")` (or a v1 `class Config: "
            "env_file`) and `load_dotenv(\".env\")` with a relative path, when the file is not "
            "in the working directory the app boots from (the boot command's, e.g. a Dockerfile "
            "`WORKDIR` or `cd backend && uvicorn ...`), but exists elsewhere in the project "
            "(next to the module or in a folder above it).")
    why = ("Relative paths are opened from the process's working directory, not from the "
           "module. A missing env file is skipped silently by both pydantic-settings and "
           "python-dotenv, so the values in it are simply not there: fields fall back to their "
           "defaults (a development database in production) or fail with `Field required` "
           "(SBA502) only in some shells.")
    how_to_fix = ("Anchor the path to the module: `env_file=Path(__file__).resolve().parent / "
                  "\".env\"` (`.parents[1]` for the folder above, ...), or move the file into the "
                  "working directory the app boots from.")
    fix_safety = ("Safe: the same file is read, now whatever the working directory; check that "
                  "no deployment relied on a different file in its working directory.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

                    database_url: str = "sqlite:///./app.db"


                settings = Settings()
                app = FastAPI()
            ''',
            ".env": "DATABASE_URL=sqlite:///./dev.db\n",
        }, note="uvicorn app.main:app runs from the project root, where .env is"),
        Valid({
            "backend/app/__init__.py": "",
            "backend/app/main.py": '''
                from pathlib import Path

                from dotenv import load_dotenv
                from fastapi import FastAPI

                load_dotenv(Path(__file__).resolve().parents[2] / ".env")
                app = FastAPI()
            ''',
            ".env": "DATABASE_URL=sqlite:///./dev.db\n",
        }, note="anchored to the module, independent of the working directory"),
    )
    invalid = (
        Invalid({
            "backend/app/__init__.py": "",
            "backend/app/core/__init__.py": "",
            "backend/app/core/config.py": '''
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env", extra="ignore")  # expect: SBA506

                    database_url: str = "sqlite:///./app.db"


                settings = Settings()
            ''',
            "backend/app/main.py": '''
                from fastapi import FastAPI

                from app.core.config import settings

                app = FastAPI()
            ''',
            ".env": "DATABASE_URL=postgresql+psycopg://app:secret@db/app\n",
        }, note="the app boots from backend/, the .env is at the repository root"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from dotenv import load_dotenv
                from fastapi import FastAPI

                load_dotenv("app/.env")  # expect: SBA506
                app = FastAPI()
            ''',
            "app/.env": "DATABASE_URL=sqlite:///./dev.db\n",
            "Dockerfile": '''
                FROM python:3.12-slim
                WORKDIR /srv
                COPY app /srv/app
                WORKDIR /srv/app
                CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]
            ''',
        }, note="the container starts in /srv/app (the repository's app/), where app/.env is "
                "not"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for node, expr, what in _relative_paths(module):
            found = file_path(module, expr)
            if found is None or found.anchored:
                continue
            finding = self._check(module, node, found.path, what)
            if finding is not None:
                yield finding

    def _check(self, module: ModuleContext, node: ast.AST, path: Path,
               what: str) -> Optional[Finding]:
        layout = module.project.layout
        working_dir = layout.working_dir
        if (working_dir / path).exists():
            return None
        here = Path(module.path).resolve().parent
        found = _elsewhere(here, layout.root.resolve(), path)
        if found is None:
            return None
        level, existing = found
        root = layout.root
        boot = layout.target.origin if layout.target else \
            "no ASGI target was found, so the project root is assumed"
        anchored = "parent" if level == 0 else f"parents[{level}]"
        return self.report(
            module, node,
            f"{what} {str(path)!r} is opened from the working directory "
            f"{_shown(working_dir, root)}, where it does not exist; the file is at "
            f"{_shown(existing, root)}",
            f"Relative paths are resolved from the process's working directory, here "
            f"{_shown(working_dir, root)} ({boot}). {_shown(working_dir / path, root)} does not "
            f"exist, and the missing file is skipped silently, so nothing in "
            f"{_shown(existing, root)} is read.",
            f"Anchor the path to the module: Path(__file__).resolve().{anchored} / "
            f"{path.as_posix()!r} (from pathlib import Path), or move the file to "
            f"{_shown(working_dir, root)}.",
            related=(Location(str(existing), 1, 0, "the file meant to be read"),))


def _relative_paths(module: ModuleContext) -> Iterator[Tuple[ast.AST, ast.expr, str]]:
    """(where to report, the path expression, what reads it) for settings `env_file` values
    and `load_dotenv(path)` calls."""
    for settings in settings_classes(module):
        expr = settings.env_file_expr()
        if expr is None or settings.options.get("env_file_depth", 0) not in (0, None) \
                or not module.is_file(settings.module.path):
            continue
        items = expr.elts if isinstance(expr, (ast.Tuple, ast.List)) else [expr]
        for item in items:
            yield item, item, f"{settings.name}'s env_file"
    for call in module.calls:
        if module.call_name(call) in _LOADERS:
            path = call.args[0] if call.args else next(
                (kw.value for kw in call.keywords if kw.arg == "dotenv_path"), None)
            if path is not None:
                yield call, path, "load_dotenv() path"


def _elsewhere(folder: Path, root: Path, path: Path) -> Optional[Tuple[int, Path]]:
    """The nearest folder from the module's up to the root that holds `path`, with how many
    levels above the module's folder it is."""
    for level, candidate in enumerate((folder, *folder.parents)):
        if (candidate / path).is_file():
            return level, candidate / path
        if candidate == root:
            break
    return None


def _shown(path: Path, root: Path) -> str:
    try:
        relative = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
    if relative == ".":
        return "the project root"
    return f"{relative}/" if path.is_dir() else relative
