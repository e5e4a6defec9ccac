"""Environment variables read at import with no source to set them: SBA501."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional, Tuple

from ...analysis.lifecycle import Reach
from ...context import ModuleContext
from ...findings import Category, Finding, Location, Severity
from ...knowledge import names as N
from ...project.env_sources import EnvEntry, is_template
from ...project.reach import loaded_at_boot
from ..base import Invalid, Rule, Valid

_GETTERS = frozenset({N.GETENV, "os.environ.get"})
_ENGINES = frozenset({N.CREATE_ENGINE, N.CREATE_ASYNC_ENGINE})
_CONVERTERS = frozenset({"int", "float"})


class EnvVarRequiredAtImport(Rule):
    code = "SBA501"
    name = "env-var-required-at-import"
    severity = Severity.BLOCKING
    category = Category.CONFIG
    versions = "Any versions: the environment the app starts in decides."
    summary = "An environment variable read at import that nothing in the project sets"
    references = ("C01",)
    triggers = ("environ", "getenv")
    what = ("`os.environ[\"X\"]` that runs while the app boots (module level, or a function "
            "called at import or from the lifespan), and `os.getenv(\"X\")` / "
            "`os.environ.get(\"X\")` without a default whose `None` breaks right away (passed to "
            "`create_engine`/`create_async_engine` or `int()`/`float()`, or an attribute read on "
            "it, like `.split(\",\")`), when no source of the project sets X: no `.env` file that "
            "`load_dotenv()`, uvicorn's `--env-file` or compose `env_file:` loads, no compose "
            "`environment:`, Dockerfile `ENV`, GitHub Actions `env:` or `os.environ[...] = ...` "
            "in the code.")
    why = ("In a shell, container or CI job without the variable, the import fails and the server "
           "never starts: `KeyError: 'DATABASE_URL'` for `os.environ[...]`; for a missing "
           "`os.getenv(...)` the `None` fails where it is used, e.g. `sqlalchemy.exc."
           "ArgumentError: Expected string or URL object, got None` from `create_engine(None)` "
           "(SQLAlchemy 2.1.9), `TypeError: int() argument must be a string, a bytes-like object "
           "or a real number, not 'NoneType'`, `AttributeError: 'NoneType' object has no "
           "attribute 'split'`. A value written only in `.env.example` is documentation: "
           "nothing loads it.")
    how_to_fix = ("Set the variable where the app runs (compose `environment:`, the deployment's "
                  "secrets), or create `.env` (from `.env.example` when there is one) and load "
                  "it before the read (`load_dotenv()` at the top of the entry module, uvicorn "
                  "`--env-file .env`), or give a development default "
                  "(`os.getenv(\"X\", \"sqlite:///./app.db\")`), or read it through a settings "
                  "class with a default.")
    fix_safety = ("Safe when the variable is set where the app runs; a default in the code must "
                  "be a value that is harmless in production.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                import os

                from dotenv import load_dotenv
                from fastapi import FastAPI
                from sqlmodel import create_engine

                load_dotenv()
                engine = create_engine(os.environ["DATABASE_URL"])
                app = FastAPI()
            ''',
            ".env": "DATABASE_URL=sqlite:///./app.db\n",
        }, note="the .env next to the project is loaded by load_dotenv() before the read"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                import os

                from fastapi import FastAPI
                from sqlalchemy.ext.asyncio import create_async_engine

                DATABASE_URL = os.getenv("DATABASE_URL", "sqlite+aiosqlite:///./app.db")
                engine = create_async_engine(DATABASE_URL)
                POOL_SIZE = int(os.getenv("POOL_SIZE", "5"))
                app = FastAPI()
            ''',
        }, note="defaults for every variable read at import"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                import os

                from fastapi import FastAPI

                app = FastAPI()


                @app.get("/token")
                def token() -> dict:
                    return {"configured": os.environ["API_TOKEN"] != ""}
            ''',
            "docker-compose.yml": '''
                services:
                  api:
                    build: .
                    environment:
                      API_TOKEN: change-me
            ''',
        }, note="read on request, and set by compose anyway"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                import os

                from fastapi import FastAPI
                from sqlmodel import create_engine

                engine = create_engine(os.environ["DATABASE_URL"])  # expect: SBA501
                app = FastAPI()
            ''',
            ".env.example": "DATABASE_URL=postgresql://app:change-me@localhost/app\n",
        }, raises="KeyError: 'DATABASE_URL'", run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/db.py": '''
                import os

                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine(os.getenv("DATABASE_URL"))  # expect: SBA501
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import engine

                app = FastAPI()
            ''',
        }, raises="sqlalchemy.exc.ArgumentError: Expected string or URL object, got None",
            run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                import os

                from fastapi import FastAPI

                ALLOWED_ORIGINS = os.getenv("ALLOWED_ORIGINS").split(",")  # expect: SBA501
                app = FastAPI()
            ''',
        }, raises="AttributeError: 'NoneType' object has no attribute 'split'",
            run="import app.main"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for node, key, use in _reads(module):
            reach = module.lifecycle.reach(use)
            if reach is None or not reach.at_boot or _guarded(module, use, key):
                continue
            sources = module.project.env_sources
            if sources.in_environ(key, case_sensitive=True) is not None:
                continue
            yield self._finding(module, (node, use), key, reach,
                                sources.unloaded(key, case_sensitive=True))

    def _finding(self, module: ModuleContext, read_at: Tuple[ast.AST, ast.AST], key: str,
                 reach: Reach, unloaded: Optional[EnvEntry]) -> Finding:
        node, use = read_at
        model = module.project.model
        boot = loaded_at_boot(model)
        at_boot = boot is not None and module.module_name in boot
        severity = self.severity if at_boot else Severity.WARNING
        read = f"os.environ[{key!r}]" if isinstance(node, ast.Subscript) else \
            f"os.getenv({key!r}) without a default, and its None reaches {_use(use)}"
        where = ("the module is loaded when the ASGI target boots" if at_boot else
                 "the module is not known to be loaded at boot (no ASGI target, or the target "
                 "does not import it), so this is a warning")
        root = module.project.root
        fix, related = self._fix(key, unloaded, root)
        return self.report(
            module, node,
            f"{key} is read with {read} {reach.describe()}, and nothing in the project sets "
            f"{key}",
            f"No source provides {key}: no loaded .env file, compose environment, Dockerfile "
            f"ENV, CI env or assignment in code{_unloaded_clause(unloaded, root)}. Without it "
            f"the read fails {reach.describe()} ({where}).",
            fix, severity=severity, related=related)

    def _fix(self, key: str, unloaded: Optional[EnvEntry],
             root: Path) -> Tuple[str, Tuple[Location, ...]]:
        if unloaded is None:
            return (f"Set {key} where the app runs (compose environment:, the deployment's "
                    f"secrets), or give the read a development default "
                    f"(os.getenv({key!r}, ...)).", ())
        related = (Location(str(unloaded.path), unloaded.line, 0, f"{key} is set here"),)
        name = unloaded.path.name
        if is_template(unloaded.path):
            return (f"Create .env from {name} (cp {name} .env, then fill in real values) and "
                    f"load it before the read: load_dotenv() at the top of the entry module, or "
                    f"uvicorn --env-file .env.", related)
        return (f"Load {name} before the read: load_dotenv() at the top of the entry module, or "
                f"uvicorn --env-file {name}.", related)


def _unloaded_clause(entry: Optional[EnvEntry], root: Path) -> str:
    if entry is None:
        return ""
    return f" ({entry.where(root)} sets it, but nothing loads that file)"


def _reads(module: ModuleContext) -> Iterator[Tuple[ast.AST, str, ast.AST]]:
    """(read, variable, the node whose evaluation fails) for `os.environ["X"]` and for
    `os.getenv("X")` results used where None breaks."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and module.qualname(node.value) == N.ENVIRON:
            key = _literal(node.slice)
            if key:
                yield node, key, node
        elif isinstance(node, ast.Call) and module.call_name(node) in _GETTERS \
                and len(node.args) == 1 and not node.keywords:
            key = _literal(node.args[0])
            use = _breaking_use(module, node) if key else None
            if key and use is not None:
                yield node, key, use


def _use(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"the attribute .{node.attr}"
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
        func = node.func
        return f"{func.id if isinstance(func, ast.Name) else func.attr}()"
    return "its use"


def _breaking_use(module: ModuleContext, value: ast.expr) -> Optional[ast.AST]:
    """Where `value` (possibly None) is used so that None fails: directly, or through a
    module-level name bound once to it."""
    direct = _breaks(module, value)
    if direct is not None:
        return direct
    parent = module.scopes.parent(value)
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
            and module.scopes.enclosing_function(parent) is None):
        return None
    name = parent.targets[0].id
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            bindings = module.scopes.lookup(name, node)
            if len(bindings) == 1 and bindings[0].node is parent \
                    and not _guarded(module, node, name):
                found = _breaks(module, node)
                if found is not None:
                    return found
    return None


def _breaks(module: ModuleContext, value: ast.expr) -> Optional[ast.AST]:
    parent = module.scopes.parent(value)
    if isinstance(parent, ast.Attribute) and parent.value is value:
        return parent
    if isinstance(parent, ast.Call) and value in parent.args:
        name = module.call_name(parent)
        if name in _ENGINES and parent.args[0] is value:
            return parent
        func = parent.func
        if isinstance(func, ast.Name) and func.id in _CONVERTERS \
                and not module.scopes.lookup(func.id, parent):
            return parent
    return None


def _guarded(module: ModuleContext, node: ast.AST, key: str) -> bool:
    """Inside an `if` or conditional expression whose test mentions the variable (its name as
    a string, or the module-level name holding its value)."""
    for ancestor in module.scopes.ancestors(node):
        test = getattr(ancestor, "test", None) if isinstance(
            ancestor, (ast.If, ast.IfExp, ast.While)) else None
        if test is not None and any(
                (isinstance(n, ast.Constant) and n.value == key)
                or (isinstance(n, ast.Name) and n.id == key) for n in ast.walk(test)):
            return True
    return False


def _literal(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return node.value
    return None
