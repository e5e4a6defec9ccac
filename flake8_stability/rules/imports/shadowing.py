"""SBA106: a project module whose top-level name hides an installed or standard-library module
that the project or the framework imports at boot."""
from __future__ import annotations

import ast
from typing import Iterator

from ...findings import Category, Finding, Severity
from ...project.model import ModuleInfo, ProjectModel
from ...project.reach import boot_name
from ..base import Invalid, ProjectRule, Valid

# Top-level names whose shadowing by an empty local module makes `import app.main` fail for a
# FastAPI + SQLModel + async SQLAlchemy app (fastapi 0.165.0, starlette 1.10.0, pydantic 2.14.4,
# SQLAlchemy 2.1.9, sqlmodel 0.0.50, CPython 3.11), checked one by one with
# `python -c "import sys; sys.path.insert(0, '.'); import app.main"`. Modules the interpreter
# loads before the app (os, re, abc, collections, functools, ...) and built-in modules cannot be
# shadowed and are absent; tests/rules/test_import_rules.py re-checks the list.
BOOT_SHADOWABLE = frozenset({
    "fastapi", "starlette", "pydantic", "pydantic_core", "sqlalchemy", "sqlmodel", "anyio",
    "typing_extensions", "annotated_types", "typing_inspection", "greenlet", "aiosqlite",
    "email_validator",
    "email", "http", "logging", "json", "typing", "asyncio", "uuid", "datetime", "decimal",
    "inspect", "secrets", "dataclasses", "copy", "tempfile", "queue", "socket", "ssl", "base64",
    "hmac", "random", "string", "math", "numbers", "mimetypes", "concurrent", "threading",
    "weakref", "traceback", "select", "selectors", "platform", "textwrap", "tokenize", "ast",
    "dis", "zoneinfo", "struct", "binascii", "bisect", "heapq",
})


class LocalModuleShadowsPackage(ProjectRule):
    code = "SBA106"
    name = "local-module-shadows-package"
    severity = Severity.BLOCKING
    category = Category.IMPORTS
    versions = "Any Python version."
    summary = "project module named like a package the app or the framework imports"
    references = ("I04",)
    what = ("A module or package of the project on a boot import root whose top-level name is "
            "also a standard-library or installed module that is imported while the app boots: "
            "a local `fastapi.py`, `sqlmodel/`, `email.py`, `logging.py` or `http/`. The boot "
            "root comes first on `sys.path`, so every `import logging` (the framework's too) "
            "gets the local file. Built-in modules and modules the interpreter loads before "
            "the app cannot be shadowed and are not reported.")
    why = ("The framework gets the wrong module: `ImportError: cannot import name 'FastAPI' "
           "from partially initialized module 'fastapi' (most likely due to a circular "
           "import)` for a local `fastapi.py`, `ModuleNotFoundError: No module named "
           "'email.parser'; 'email' is not a package` for a local `email.py`, or "
           "`AttributeError: partially initialized module 'logging' has no attribute "
           "'getLogger'` for a local `logging.py`.")
    how_to_fix = ("Rename the local module or package (`email.py` -> `emails.py`, "
                  "`logging.py` -> `logging_config.py`) and update its imports.")
    fix_safety = ("Unsafe to automate: every import of the renamed module must change, "
                  "including string references (uvicorn targets, Alembic env).")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.email import send_welcome

                app = FastAPI()
            ''',
            "app/email.py": '''
                from email.message import EmailMessage


                def send_welcome(address: str) -> EmailMessage:
                    message = EmailMessage()
                    message["To"] = address
                    return message
            ''',
        }, note="inside a package the module is app.email, which shadows nothing"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from logging_config import configure

                configure()
                app = FastAPI()
            ''',
            "logging_config.py": '''
                import logging


                def configure() -> None:
                    logging.basicConfig(level=logging.INFO)
            ''',
        }, note="a top-level module with a name of its own"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                app = FastAPI()
            ''',
            "fastapi.py": '''
                from fastapi import FastAPI  # expect: SBA106

                app = FastAPI()
            ''',
        }, raises="ImportError: cannot import name 'FastAPI' from partially initialized module "
                  "'fastapi' (most likely due to a circular import)", run="import app.main",
           note="a first experiment saved as fastapi.py"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from email import send_welcome

                app = FastAPI()
            ''',
            "email.py": '''
                def send_welcome(address: str) -> str:  # expect: SBA106
                    return f"Welcome, {address}"
            ''',
        }, raises="ModuleNotFoundError: No module named 'email.parser'; 'email' is not a "
                  "package", run="import app.main", note="a helper module named email.py"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        environment = model.environment
        for info in model:
            name = boot_name(model, info.path)
            if name is None or "." in name or name in environment.builtin:
                continue
            known = name in environment.stdlib or name in environment.top_level
            if name in BOOT_SHADOWABLE:
                yield self._finding(model, info, name, known, "the framework imports it at boot")
            elif known and name not in environment.stdlib and _imports_itself(info, name):
                yield self._finding(model, info, name, True, "the module imports it itself")

    def _finding(self, model: ProjectModel, info: ModuleInfo, name: str, known: bool,
                 reason: str) -> Finding:
        environment = model.environment
        kind = "standard-library" if name in environment.stdlib else "installed"
        python = environment.python or "unknown"
        assumed = ("" if known else f" The project's interpreter could not confirm that "
                   f"{name!r} exists there; this assumes it does.")
        return self.report_in(
            info, _anchor(info),
            f"{_renamed(model, info)} shadows the {kind} module {name!r} ({reason})",
            f"{_folder(model, info)} is a boot import root, searched before the standard library "
            f"and site-packages, so `import {name}` anywhere (Python {python}) loads this file "
            f"instead and the boot fails with ImportError or AttributeError." + assumed,
            f"Rename {_renamed(model, info)} (e.g. to `{name}_utils`) and update the imports "
            f"of it.",
            severity=Severity.BLOCKING if known else Severity.WARNING)


def _folder(model: ProjectModel, info: ModuleInfo) -> str:
    """The boot root holding the module, as the user sees it."""
    folder = info.path.parent.parent if info.is_package else info.path.parent
    try:
        text = folder.relative_to(model.layout.root).as_posix()
    except ValueError:
        return str(folder)
    return "The project root" if text == "." else f"{text}/"


def _renamed(model: ProjectModel, info: ModuleInfo) -> str:
    """The file, or the package folder, to rename, as the user sees it."""
    path = info.path.parent if info.is_package else info.path
    try:
        return path.relative_to(model.layout.root).as_posix() + ("/" if info.is_package else "")
    except ValueError:
        return str(path)


def _anchor(info: ModuleInfo) -> ast.AST:
    """Where the finding goes: the first statement (line 1 of an empty file)."""
    tree = info.tree
    return tree.body[0] if tree is not None and tree.body else ast.Module(body=[], type_ignores=[])


def _imports_itself(info: ModuleInfo, name: str) -> bool:
    summary = info.summary
    return summary is not None and any(
        record.runs_at_import and not record.level and record.module.split(".")[0] == name
        for record in summary.imports)
