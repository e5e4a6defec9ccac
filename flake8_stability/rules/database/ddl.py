"""Creating the schema: SBA308 (sync DDL on an async engine), SBA317 (create_all before any
model is defined or imported)."""
from __future__ import annotations

import ast
from dataclasses import replace
from typing import Iterator, List, Optional, Set, Tuple

from ...analysis.lifecycle import IMPORT, SCRIPT, STARTUP, Reach
from ...analysis.project_imports import project_imports
from ...context import ModuleContext, argument
from ...findings import Category, Finding, Fix, Severity
from ...knowledge import names as N
from ...project.reach import loaded_at_boot
from ...project.tables import table_modules
from ..base import Invalid, Valid
from . import DatabaseRule

_DDL_METHODS = ("create_all", "drop_all", "reflect")
_DECLARATIVE_BASES = frozenset({"sqlalchemy.orm.DeclarativeBase",
                                "sqlalchemy.orm.DeclarativeBaseNoMeta",
                                "sqlalchemy.orm.decl_api.DeclarativeBase",
                                "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta"})
_BASE_FACTORIES = frozenset({"sqlalchemy.orm.declarative_base",
                             "sqlalchemy.orm.decl_api.declarative_base"})
_TABLE = frozenset({"sqlalchemy.Table"})
_LIFESPAN_BOOT = "import asyncio; asyncio.run(app.router.lifespan_context(app).__aenter__())"

# SQLAlchemy's OperationalError spans several lines; the DBAPI error underneath is one line.
_QUERY = "engine.raw_connection().cursor().execute('SELECT count(*) FROM {}')"


def _src(node: ast.AST) -> str:
    return ast.unparse(node)


def _when(reach: Optional[Reach]) -> str:
    return f" It runs {reach.describe()}." if reach else ""


class CreateAllOnAsyncEngine(DatabaseRule):
    code = "SBA308"
    name = "create-all-on-async-engine"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = "SQLAlchemy >= 1.4 (AsyncEngine)."
    summary = "metadata.create_all() / drop_all() / reflect() or inspect() given an async engine"
    references = ("A03",)
    codemod = "run-sync-create-all"
    what = ("`SQLModel.metadata.create_all(engine)`, `drop_all`, `reflect` (also with `bind=`) or "
            "`sqlalchemy.inspect(engine)` where the engine is an `AsyncEngine` (from "
            "`create_async_engine`, `AsyncEngine(...)`, or an `AsyncEngine` annotation), or an "
            "`AsyncConnection` from `async with engine.begin() as conn`. Blocking when the call "
            "runs while the module is imported or while the app starts (in the lifespan before "
            "its `yield`, in a startup handler, or in a function of the same file they call).")
    why = ("MetaData's DDL methods drive the bind through the synchronous engine API, which the "
           "async engine does not have: `AttributeError: 'AsyncEngine' object has no attribute "
           "'_run_ddl_visitor'`. Inspection is refused outright: `sqlalchemy.exc."
           "NoInspectionAvailable: Inspection on an AsyncEngine is currently not supported.` "
           "In a lifespan this aborts startup (\"Application startup failed. Exiting.\").")
    how_to_fix = ("Run the sync DDL on the async connection with `run_sync`: `async with "
                  "engine.begin() as conn: await conn.run_sync(SQLModel.metadata.create_all)`. For "
                  "inspection: `await conn.run_sync(lambda sync_conn: "
                  "inspect(sync_conn).get_table_names())`.")
    fix_safety = ("Safe inside an `async def`: the codemod wraps the call in `async with "
                  "engine.begin() as conn:` and runs the same DDL through "
                  "`await conn.run_sync(...)`, in one transaction, passing other arguments such as "
                  "`checkfirst=` on to `run_sync` (the connection is named `conn`, or "
                  "`connection`/`ddl_conn` when the function uses that name). At module level or "
                  "in sync code "
                  "the call has to move into the lifespan, which is a manual change; inspection "
                  "calls are never rewritten.")
    valid = (
        Valid('''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import SQLModel

            from . import models  # noqa: F401

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
                yield
                await engine.dispose()

            app = FastAPI(lifespan=lifespan)
        '''),
        Valid('''
            from sqlmodel import SQLModel, create_engine

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

            def create_db_and_tables():
                SQLModel.metadata.create_all(engine)
        ''', note="a sync engine runs DDL directly"),
        Valid('''
            from sqlalchemy import inspect
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")

            def table_names(sync_conn):
                return inspect(sync_conn).get_table_names()

            async def list_tables():
                async with engine.connect() as conn:
                    return await conn.run_sync(table_names)
        ''', note="inspect() on the sync connection that run_sync passes in"),
    )
    invalid = (
        Invalid('''
            from contextlib import asynccontextmanager
            from typing import Optional

            from fastapi import FastAPI
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import Field, SQLModel

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                SQLModel.metadata.create_all(engine)  # expect: SBA308
                yield

            app = FastAPI(lifespan=lifespan)
        ''', raises="AttributeError: 'AsyncEngine' object has no attribute '_run_ddl_visitor'", run=_LIFESPAN_BOOT),
        Invalid('''
            from typing import Optional

            from fastapi import FastAPI
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import Field, SQLModel

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            app = FastAPI()

            def create_db_and_tables():
                SQLModel.metadata.create_all(bind=engine)  # expect: SBA308

            @app.on_event("startup")
            async def on_startup():
                create_db_and_tables()
        ''', raises="AttributeError: 'AsyncEngine' object has no attribute '_run_ddl_visitor'", run=_LIFESPAN_BOOT, note="reached from a startup handler"),
        Invalid('''
            import sqlalchemy as sa
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
            inspector = sa.inspect(engine)  # expect: SBA308
        ''', raises="sqlalchemy.exc.NoInspectionAvailable: Inspection on an AsyncEngine is currently not supported."),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for call, target, bind in self._ddl_calls(module):
            kind = self._async_kind(module, bind)
            if kind is not None:
                yield self._finding(module, call, target, bind, kind)

    def _ddl_calls(self, module: ModuleContext) -> Iterator[Tuple[ast.Call, str, ast.expr]]:
        """(call, what is called, the bind) for DDL methods of a MetaData, and inspect()."""
        for call in module.calls:
            func = call.func
            if (isinstance(func, ast.Attribute) and func.attr in _DDL_METHODS
                    and _is_metadata(module, func.value)):
                bind = argument(call, 0, "bind")
                if bind is not None:
                    yield call, f"{_src(func.value)}.{func.attr}", bind
            elif module.call_name(call) == N.INSPECT:
                subject = argument(call, 0, "subject")
                if subject is not None:
                    yield call, "inspect", subject

    def _async_kind(self, module: ModuleContext, bind: ast.expr) -> Optional[str]:
        engine = module.objects.engine(bind)
        if engine is not None:
            return "AsyncEngine" if engine.is_async else None
        connection = module.objects.connection(bind)
        if connection is not None and connection.engine.is_async:
            return "AsyncConnection"
        return None

    def _finding(self, module: ModuleContext, call: ast.Call, target: str, bind: ast.expr,
                 kind: str) -> Finding:
        reach = module.lifecycle.reach(call)
        blocking = reach is not None and reach.at_boot
        method = target.rsplit(".", 1)[-1]
        inspection = method in ("inspect", "reflect")
        error = (f"sqlalchemy.exc.NoInspectionAvailable: Inspection on an {kind} is currently not "
                 f"supported." if inspection else
                 f"AttributeError: '{kind}' object has no attribute '_run_ddl_visitor'")
        consequence = " The app does not start." if blocking else ""
        finding = self.report(
            module, call,
            f"{target}({_src(bind)}): {_src(bind)} is an {kind}, which cannot run sync "
            f"{'inspection' if inspection else 'DDL'}",
            f"{'Inspection' if inspection else f'MetaData.{method}()'} needs a sync Engine or "
            f"Connection; on an {kind} it fails with {error} "
            f"({module.project.environment.describe('SQLAlchemy')}).{_when(reach)}{consequence}",
            self._fix(module, call, target, bind, kind),
            severity=Severity.BLOCKING if blocking else Severity.RUNTIME,
        )
        if not self._codemod_applies(module, call, method, kind):
            finding = replace(finding, fix=Fix(finding.fix.description, None, False))
        return finding

    def _fix(self, module: ModuleContext, call: ast.Call, target: str, bind: ast.expr,
             kind: str) -> str:
        method = target.rsplit(".", 1)[-1]
        work = ("lambda sync_conn: inspect(sync_conn).get_table_names()" if method == "inspect"
                else target)
        if kind == "AsyncConnection":
            text = f"await {_src(bind)}.run_sync({work})"
        else:
            opener = "begin" if method in ("create_all", "drop_all") else "connect"
            text = f"async with {_src(bind)}.{opener}() as conn: await conn.run_sync({work})"
        where = ("" if isinstance(module.scopes.enclosing_function(call), ast.AsyncFunctionDef)
                 else " inside an async function (the lifespan, before `yield`)")
        return f"Run it through the async connection{where}: `{text}`."

    def _codemod_applies(self, module: ModuleContext, call: ast.Call, method: str,
                         kind: str) -> bool:
        return (method in ("create_all", "drop_all") and kind == "AsyncEngine"
                and isinstance(module.scopes.parent(call), ast.Expr)
                and isinstance(module.scopes.enclosing_function(call), ast.AsyncFunctionDef))


def _is_metadata(module: ModuleContext, expr: ast.expr) -> bool:
    """`X.metadata`, a name ending in `metadata`, or a name bound to `MetaData(...)`."""
    if isinstance(expr, ast.Attribute):
        return expr.attr.lower().endswith("metadata")
    if isinstance(expr, ast.Name):
        if expr.id.lower().endswith("metadata"):
            return True
        bindings = module.scopes.lookup(expr.id, expr)
        return (len(bindings) == 1 and isinstance(bindings[0].value, ast.Call)
                and module.call_name(bindings[0].value) == N.METADATA)
    return False


class ModelsNotImportedBeforeCreateAll(DatabaseRule):
    code = "SBA317"
    name = "models-not-imported-before-create-all"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = "Any SQLAlchemy and sqlmodel version."
    summary = "metadata.create_all() runs before any table model is defined or imported"
    references = ("A17",)
    what = ("`SQLModel.metadata.create_all(...)` (also through `conn.run_sync(...)`) or "
            "`Base.metadata.create_all(...)` for a declarative `Base` defined in the same file, in "
            "a module that, when the call runs, has defined no table model and imported nothing "
            "from the project, so the metadata holds no tables. Only calls this file itself runs "
            "are judged: at import, during app startup (a lifespan or startup handler, and the "
            "functions they call), or under `if __name__ == \"__main__\":`. In a module that does "
            "not create the app the finding is a warning, since another module may import the "
            "models first; not so for a `Base` defined here whose `create_all` runs at import.")
    why = ("`create_all` only creates the tables registered on the metadata, and a model is "
           "registered when its class statement runs. With no model module imported it creates "
           "nothing and raises nothing; the first query fails with `sqlite3.OperationalError: no "
           "such table: hero` or `asyncpg.exceptions.UndefinedTableError: relation \"hero\" does "
           "not exist`.")
    how_to_fix = ("Import every module that defines table models before `create_all` runs, e.g. "
                  "`from app import models  # noqa: F401` next to the engine, with "
                  "`app/models/__init__.py` importing each model module; or create the schema with "
                  "Alembic migrations instead of `create_all`.")
    fix_safety = "No automatic fix: which modules hold the models is the project's choice."
    valid = (
        Valid('''
            from contextlib import asynccontextmanager
            from typing import Optional

            from fastapi import FastAPI
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import Field, SQLModel

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
                yield

            app = FastAPI(lifespan=lifespan)
        '''),
        Valid('''
            from sqlmodel import SQLModel, create_engine

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

            def create_db_and_tables():
                SQLModel.metadata.create_all(engine)
        ''', note="called from main.py, which imports the models first: not judged from this file"),
        Valid('''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI
            from sqlmodel import SQLModel, create_engine

            from . import models  # noqa: F401  (registers the tables)

            engine = create_engine("sqlite:///./app.db")

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                SQLModel.metadata.create_all(engine)
                yield

            app = FastAPI(lifespan=lifespan)
        '''),
    )
    invalid = (
        Invalid('''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI
            from sqlmodel import Session, SQLModel, create_engine, text

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                SQLModel.metadata.create_all(engine)  # expect: SBA317
                yield

            app = FastAPI(lifespan=lifespan)

            @app.get("/heroes/count")
            def count_heroes() -> int:
                with Session(engine) as session:
                    return session.exec(text("SELECT count(*) FROM hero")).one()[0]
        ''', raises="sqlite3.OperationalError: no such table: hero", run=f"{_LIFESPAN_BOOT}; {_QUERY.format('hero')}"),
        Invalid('''
            from sqlalchemy import create_engine, text
            from sqlalchemy.orm import DeclarativeBase

            class Base(DeclarativeBase):
                pass

            engine = create_engine("sqlite:///./app.db")
            Base.metadata.create_all(engine)  # expect: SBA317

            def count_users() -> int:
                with engine.connect() as conn:
                    return conn.execute(text("SELECT count(*) FROM users")).scalar_one()
        ''', raises="sqlite3.OperationalError: no such table: users", run=_QUERY.format("users"), note="the models subclass Base in other modules, imported later"),
        Invalid('''
            import os

            from sqlmodel import SQLModel, create_engine

            engine = create_engine(os.getenv("DATABASE_URL", "sqlite:///./app.db"))

            if __name__ == "__main__":
                SQLModel.metadata.create_all(engine)  # expect: SBA317
                print("tables created")
        ''', note="an init script that forgot to import the models"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        calls = list(self._create_all_calls(module))
        if not calls:
            return
        imports = project_imports(module)
        for call, owner, local_base in calls:
            reach = module.lifecycle.reach(call)
            if reach is None:
                continue
            before = _line(reach.start) if reach.phase == IMPORT else None
            if _any_import(module, imports, before) or _defines_models(module, before):
                continue
            loaded_tables = _tables_loaded_at_boot(module) if reach.phase == STARTUP else None
            if loaded_tables:
                continue  # at startup every module the target loads has run
            certain = loaded_tables is False or self._certain(module, reach, local_base)
            yield self._finding(module, call, owner, reach, certain)

    def _create_all_calls(self, module: ModuleContext) -> Iterator[Tuple[ast.Call, str, bool]]:
        """(call, metadata owner, whether the owner is this file's declarative Base)."""
        bases = _local_bases(module)
        for call in module.calls:
            func = call.func
            target: Optional[ast.expr] = None
            if isinstance(func, ast.Attribute) and func.attr == "create_all":
                target = func
            elif isinstance(func, ast.Attribute) and func.attr == "run_sync" and call.args:
                target = call.args[0]
            if not (isinstance(target, ast.Attribute) and target.attr == "create_all"):
                continue
            holder = target.value
            if not (isinstance(holder, ast.Attribute) and holder.attr == "metadata"):
                continue
            owner = holder.value
            if module.qualname(owner) == N.SQLMODEL:
                yield call, _src(owner), False
            elif isinstance(owner, ast.Name) and owner.id in bases:
                yield call, owner.id, True

    def _certain(self, module: ModuleContext, reach: Reach, local_base: bool) -> bool:
        """Whether no other module can have registered models before the call runs."""
        if reach.phase == SCRIPT or (reach.phase == IMPORT and local_base):
            return True
        return reach.phase in (IMPORT, STARTUP) and bool(module.lifecycle.app_calls)

    def _finding(self, module: ModuleContext, call: ast.Call, owner: str, reach: Reach,
                 certain: bool) -> Finding:
        assumption = ("" if certain else " This module does not create the app, so this assumes "
                      "no other module imports the models before it runs.")
        return self.report(
            module, call,
            f"{owner}.metadata.create_all() runs before any table model is defined or imported: "
            f"it creates no tables",
            f"It runs {reach.describe()}; by then this module has defined no table model and "
            f"imported nothing from the project, so {owner}.metadata is empty and create_all() "
            f"creates nothing. The first query fails with \"no such table\" (SQLite) or "
            f"'relation \"...\" does not exist' (PostgreSQL).{assumption}",
            "Import the modules that define the table models before this runs (e.g. "
            "`from app import models  # noqa: F401`, with app/models/__init__.py importing every "
            "model module), or create the schema with Alembic migrations.",
            severity=Severity.RUNTIME if certain else Severity.WARNING,
        )


def _tables_loaded_at_boot(module: ModuleContext) -> Optional[bool]:
    """Whether a module the ASGI target loads at boot defines a table model (None: unknown,
    the file is not part of a project with a target)."""
    if module.module_name is None:
        return None
    model = module.project.model
    loaded = loaded_at_boot(model)
    if loaded is None:
        return None
    return any(name in loaded for name in table_modules(model))


def _line(node: ast.AST) -> int:
    return getattr(node, "lineno", 0)


def _any_import(module: ModuleContext, imports: List[ast.AST], before: Optional[int]) -> bool:
    """A project import that has run by then: any, or for a call at import time, one inside a
    function or above the line where the module body starts the call."""
    return any(before is None or module.scopes.enclosing_function(node) is not None
               or _line(node) < before for node in imports)


def _defines_models(module: ModuleContext, before: Optional[int]) -> bool:
    """Whether a table model (or Table) is defined in this file (above `before`, if given)."""
    bases = _local_bases(module)
    for node in [*module.scopes.classes, *module.calls]:
        if before is not None and _line(node) >= before:
            continue
        if isinstance(node, ast.ClassDef) and _is_model_class(module, node, bases, set()):
            return True
        if isinstance(node, ast.Call) and module.call_name(node) in _TABLE:
            return True
    return False


def _is_model_class(module: ModuleContext, cls: ast.ClassDef, bases: Set[str],
                    seen: Set[str]) -> bool:
    if any(kw.arg == "table" for kw in cls.keywords):
        return True
    if any(name in ("__tablename__", "__table__") for name in _assigned_names(cls)):
        return True
    seen.add(cls.name)
    for base in cls.bases:
        if not isinstance(base, ast.Name) or base.id in seen:
            continue
        if base.id in bases:
            return True
        parent = module.values.classes.get(base.id)
        if parent is not None and _is_model_class(module, parent, bases, seen):
            return True
    return False


def _assigned_names(cls: ast.ClassDef) -> Iterator[str]:
    for stmt in cls.body:
        targets = (stmt.targets if isinstance(stmt, ast.Assign)
                   else [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
        yield from (t.id for t in targets if isinstance(t, ast.Name))


def _local_bases(module: ModuleContext) -> Set[str]:
    """Names of the declarative bases defined at this file's top level."""
    found = set()
    for name, bindings in module.scopes.bindings[module.tree].items():
        if len(bindings) != 1:
            continue
        node, value = bindings[0].node, bindings[0].value
        if isinstance(node, ast.ClassDef) and any(
                module.qualname(b) in _DECLARATIVE_BASES for b in node.bases):
            found.add(name)
        elif isinstance(value, ast.Call) and module.call_name(value) in _BASE_FACTORIES:
            found.add(name)
    return found
