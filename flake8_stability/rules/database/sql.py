"""Executing SQL: SBA314 (a plain string where SQLAlchemy wants `text()`), SBA315 (1.x APIs
removed in SQLAlchemy 2.0)."""
from __future__ import annotations

import ast
import re
from typing import Iterator, NamedTuple, Optional, Tuple

from ...analysis.lifecycle import Reach
from ...analysis.objects import Connection, Session
from ...analysis.urls import redact
from ...analysis.values import StrValue
from ...context import ModuleContext, argument, keyword
from ...findings import Category, Finding, Severity
from ...knowledge import names as N
from ...knowledge.dialects import SA_1_4, SA_2_0
from ..base import Invalid, Valid
from . import DatabaseRule

_EXECUTE_METHODS = frozenset({"execute", "exec", "scalar", "scalars", "stream", "stream_scalars"})
_SQLMODEL_SESSIONS = frozenset({N.SQLMODEL_SESSION, N.SQLMODEL_ASYNC_SESSION})
_BIND_PARAMETER = re.compile(r"(?<![:\w\\]):\w")  # what text() would read as a bound parameter
_SHOWN = 60
_SELECTS = frozenset({N.SELECT, N.SQLMODEL_SELECT})
_METADATA = frozenset({N.METADATA})
_TABLE = frozenset({"sqlalchemy.Table"})
_ASYNC_BOOT = "import asyncio; asyncio.run({}())"


def _src(node: ast.AST) -> str:
    return ast.unparse(node)


def _boot(module: ModuleContext, node: ast.AST, severity: Severity) -> Tuple[Severity, str]:
    """Raise a runtime failure to blocking when it runs at import or app startup, uncaught."""
    reach: Optional[Reach] = module.lifecycle.reach(node) if severity is Severity.RUNTIME else None
    if reach is None or not reach.at_boot:
        return severity, ""
    return Severity.BLOCKING, f" It runs {reach.describe()}, so the app does not start."


def _shorten(value: StrValue, limit: int) -> str:
    """The start of a string for messages (URLs redacted), "..." where it is cut or unknown."""
    text = redact(value.text)
    if len(text) > limit:
        return text[:limit] + "..."
    return text if value.complete else text + "..."


class _Receiver(NamedTuple):
    """What `.execute()` is called on, and how SQLAlchemy rejects a str there."""

    kind: str  # with its article, for messages: "a sqlmodel.Session", "an AsyncConnection"
    is_connection: bool
    rejects_on_1_4: bool  # AsyncConnection refuses strings on 1.4 already

    @property
    def error_type(self) -> str:
        return "ObjectNotExecutableError" if self.is_connection else "ArgumentError"

    def error(self, value: StrValue) -> str:
        """The exception SQLAlchemy raises (it cuts the SQL at 25 characters for ArgumentError)."""
        if self.is_connection:
            return (f"sqlalchemy.exc.ObjectNotExecutableError: Not an executable object: "
                    f"{_shorten(value, _SHOWN)!r}")
        sql = _shorten(value, 25)
        return (f"sqlalchemy.exc.ArgumentError: Textual SQL expression {sql!r} should be "
                f"explicitly declared as text({sql!r})")


class RawSqlString(DatabaseRule):
    code = "SBA314"
    name = "raw-sql-string"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = ("SQLAlchemy >= 2.0 (1.4 ran strings on sessions and sync connections with a "
                "warning; its AsyncConnection already refused them).")
    summary = "a plain SQL string passed to a SQLAlchemy session or connection"
    references = ("A16",)
    codemod = "wrap-text"
    what = ("`execute()`, `exec()`, `scalar()`, `scalars()`, `stream()` or `stream_scalars()` "
            "on a SQLAlchemy or SQLModel session or connection, given a `str` (a literal, a "
            "constant, an f-string, a concatenation). Other libraries' connections (asyncpg, "
            "sqlite3, psycopg) take strings and are never reported. Raised to blocking when the "
            "call runs at import or during app startup (a health check in the lifespan).")
    why = ("SQLAlchemy 2.0 executes only SQL expression objects. A session raises "
           "`sqlalchemy.exc.ArgumentError: Textual SQL expression 'select 1' should be explicitly "
           "declared as text('select 1')`, a connection `sqlalchemy.exc.ObjectNotExecutableError: "
           "Not an executable object: 'select 1'`. SQLAlchemy 1.4 still ran strings on sessions "
           "and sync connections with a RemovedIn20Warning, but its AsyncConnection already "
           "raises ObjectNotExecutableError.")
    how_to_fix = ("Wrap the SQL in `text()`: `await session.execute(text(\"SELECT 1\"))` (`from "
                  "sqlalchemy import text`, or `from sqlmodel import text`). Pass values as bound "
                  "parameters, `text(\"SELECT * FROM hero WHERE id = :id\"), {\"id\": hero_id}`, "
                  "rather than formatting them into the string.")
    fix_safety = ("Safe for a constant string with no `:name` in it: the same SQL runs. An "
                  "f-string or concatenation keeps its injection risk, and `text()` reads `:name` "
                  "as a bound parameter, so those rewrites are marked unsafe. The `wrap-text` "
                  "codemod wraps the argument in `text(...)`, adding `from sqlalchemy import "
                  "text` unless `text` is imported from sqlalchemy or sqlmodel already, and "
                  "skips calls where the name `text` means something else.")
    valid = (
        Valid('''
            from fastapi import Depends
            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

            async def get_session():
                async with SessionLocal() as session:
                    yield session

            async def health(session: AsyncSession = Depends(get_session)) -> dict:
                await session.execute(text("SELECT 1"))
                return {"db": "ok"}
        '''),
        Valid('''
            import asyncpg

            async def wait_for_db(dsn: str) -> None:
                conn = await asyncpg.connect(dsn)
                try:
                    await conn.execute("SELECT 1")
                finally:
                    await conn.close()
        ''', note="asyncpg's own connection takes SQL strings"),
        Valid('''
            import sqlite3

            def count_rows(path: str) -> int:
                with sqlite3.connect(path) as conn:
                    return conn.execute("SELECT count(*) FROM hero").fetchone()[0]
        ''', note="sqlite3 takes SQL strings"),
    )
    invalid = (
        Invalid('''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

            async def ping() -> None:
                async with SessionLocal() as session:
                    await session.execute("SELECT 1")  # expect: SBA314
        ''', raises="sqlalchemy.exc.ArgumentError: Textual SQL expression 'SELECT 1' should be explicitly declared as text('SELECT 1')", run=_ASYNC_BOOT.format("ping")),
        Invalid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            TABLE = "hero"

            async def count_rows() -> int:
                async with engine.connect() as conn:
                    result = await conn.execute(f"SELECT count(*) FROM {TABLE}")  # expect: SBA314
                    return result.scalar_one()
        ''', raises="sqlalchemy.exc.ObjectNotExecutableError: Not an executable object: 'SELECT count(*) FROM hero'", run=_ASYNC_BOOT.format("count_rows")),
        Invalid('''
            from sqlmodel import Session, create_engine

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

            def check_db() -> None:
                with Session(engine) as session:
                    session.exec("SELECT 1")  # expect: SBA314
        ''', raises="sqlalchemy.exc.ArgumentError: Textual SQL expression 'SELECT 1' should be explicitly declared as text('SELECT 1')", run="check_db()"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        sa_version = module.project.sqlalchemy_version
        if sa_version is not None and sa_version < SA_1_4:
            return
        for call in module.calls:
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr in _EXECUTE_METHODS):
                continue
            statement = argument(call, 0, "statement")
            value = module.values.string(statement)
            if statement is None or value is None:
                continue
            receiver = self._receiver(module, func)
            if receiver is not None:
                yield self._finding(module, call, func, statement, value, receiver)

    def _receiver(self, module: ModuleContext, func: ast.Attribute) -> Optional[_Receiver]:
        session = module.objects.session(func.value)
        if session is not None:
            return self._session_receiver(session, func.attr)
        connection = module.objects.connection(func.value)
        if connection is not None:
            return self._connection_receiver(connection, func.attr)
        return None

    def _session_receiver(self, session: Session, method: str) -> Optional[_Receiver]:
        if method == "exec" and session.cls not in _SQLMODEL_SESSIONS:
            return None  # no such method: SBA305's failure, not this one
        if method.startswith("stream") and not session.is_async:
            return None
        return _Receiver(f"a {session.short}", False, False)

    def _connection_receiver(self, connection: Connection, method: str) -> Optional[_Receiver]:
        is_async = connection.engine.is_async
        if method == "exec" or (method.startswith("stream") and not is_async):
            return None
        return _Receiver("an AsyncConnection" if is_async else "a Connection", True, is_async)

    def _finding(self, module: ModuleContext, call: ast.Call, func: ast.Attribute,
                 statement: ast.expr, value: StrValue, receiver: _Receiver) -> Finding:
        severity, cause = self._severity_and_cause(module, receiver, value)
        severity, when = _boot(module, call, severity)
        safe = value.complete and not _BIND_PARAMETER.search(value.text)
        params = ("" if value.complete else "; pass the values as bound parameters "
                  "(text(\"... WHERE id = :id\"), {\"id\": value}) instead of formatting them in")
        return self.report(
            module, call,
            f"{_src(func)}() given the plain string {_shorten(value, _SHOWN)!r}: wrap it in text()",
            cause + when,
            f"Use {_src(func)}(text({_src(statement)})) with `from sqlalchemy import text`"
            f"{params}.",
            severity=severity, safe=safe,
        )

    def _severity_and_cause(self, module: ModuleContext, receiver: _Receiver,
                            value: StrValue) -> Tuple[Severity, str]:
        sa = module.project.environment.describe("SQLAlchemy")
        fails = (f"{receiver.kind} executes only SQL expression objects and fails with "
                 f"{receiver.error(value)}")
        version = module.project.sqlalchemy_version
        if version is not None and version >= SA_2_0:
            return Severity.RUNTIME, f"On {sa} {fails}."
        if receiver.rejects_on_1_4:
            return Severity.RUNTIME, (f"On every SQLAlchemy with asyncio support (1.4 and later; "
                                      f"here {sa}) {fails}.")
        if version is None:
            return Severity.WARNING, (f"As {module.project.why_unknown('SQLAlchemy')}, "
                                      f"this assumes SQLAlchemy >= 2.0, where {fails}.")
        return Severity.WARNING, (f"{sa} still runs a plain string on {receiver.kind} but "
                                  f"deprecates it (RemovedIn20Warning); SQLAlchemy 2.0 rejects it "
                                  f"with {receiver.error_type}.")


class _Legacy(NamedTuple):
    node: ast.AST
    message: str
    error: str
    fix: str


class LegacySqlalchemy1xApi(DatabaseRule):
    code = "SBA315"
    name = "legacy-sqlalchemy-1x-api"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = ("SQLAlchemy >= 2.0, which removed the 1.x implicit execution and legacy calling "
                "styles.")
    summary = "a SQLAlchemy 1.x API that SQLAlchemy 2.0 removed"
    references = ("D05",)
    what = ("With SQLAlchemy >= 2.0 installed: `engine.execute()`, `engine.scalar()`, "
            "`engine.has_table()` and `engine.table_names()` on an `Engine`; `select([...])` with "
            "a list; `MetaData(bind=...)`; `Table(..., autoload=True)`. Blocking when the call "
            "runs at import or during app startup. A warning, stating the assumption, when the "
            "SQLAlchemy version is unknown.")
    why = ("SQLAlchemy 2.0 removed the 1.x \"implicit execution\" and legacy calling styles: "
           "`AttributeError: 'Engine' object has no attribute 'execute'`, `sqlalchemy.exc."
           "ArgumentError: Column expression, FROM clause, or other columns clause element "
           "expected, got [1]. Did you mean to say select(1)?`, `TypeError: MetaData.__init__() "
           "got an unexpected keyword argument 'bind'`, `TypeError: Additional arguments should be "
           "named <dialectname>_<argument>, got 'autoload'` (also when `autoload_with=` is given). "
           "Projects hit this when an unpinned `sqlalchemy` resolves to 2.x.")
    how_to_fix = ("Execute through a connection: `with engine.connect() as conn: "
                  "conn.execute(text(\"...\"))` (`engine.begin()` to commit); inspect with "
                  "`sqlalchemy.inspect(engine).has_table(name)` / `.get_table_names()`; write "
                  "`select(a, b)`; create `MetaData()` and pass the engine where it is used "
                  "(`create_all(engine)`, `Table(..., autoload_with=engine)`). Or pin "
                  "`sqlalchemy<2` until the code is migrated.")
    valid = (
        Valid('''
            from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select, text

            engine = create_engine("postgresql+psycopg://app:secret@db/app", pool_pre_ping=True)
            metadata = MetaData()
            users = Table("users", metadata, Column("id", Integer, primary_key=True), Column("name", String))

            def user_names() -> list:
                with engine.connect() as conn:
                    conn.execute(text("SET search_path TO public"))
                    return list(conn.scalars(select(users.c.name)))
        '''),
        Valid('''
            import sqlalchemy as sa

            engine = sa.create_engine("sqlite:///./legacy.db")
            metadata = sa.MetaData()

            def load_orders() -> sa.Table:
                return sa.Table("orders", metadata, autoload_with=engine)

            def has_orders() -> bool:
                return sa.inspect(engine).has_table("orders")
        '''),
    )
    invalid = (
        Invalid('''
            from sqlalchemy import create_engine

            engine = create_engine("sqlite:///./app.db")

            def db_is_up() -> bool:
                return engine.execute("SELECT 1").scalar() == 1  # expect: SBA315
        ''', raises="AttributeError: 'Engine' object has no attribute 'execute'", run="db_is_up()"),
        Invalid('''
            import sqlalchemy as sa

            engine = sa.create_engine("sqlite:///./app.db")
            metadata = sa.MetaData(bind=engine)  # expect: SBA315
        ''', raises="TypeError: MetaData.__init__() got an unexpected keyword argument 'bind'"),
        Invalid('''
            from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select

            engine = create_engine("sqlite:///./app.db")
            metadata = MetaData()
            users = Table("users", metadata, Column("id", Integer, primary_key=True), Column("name", String))

            def user_names() -> list:
                with engine.connect() as conn:
                    return list(conn.scalars(select([users.c.name])))  # expect: SBA315
        ''', raises="sqlalchemy.exc.ArgumentError: Column expression, FROM clause, or other columns clause element expected, got [Column('name', String(), table=<users>)]. Did you mean to say select(Column('name', String(), table=<users>))?", run="user_names()"),
        Invalid('''
            from sqlalchemy import MetaData, Table, create_engine

            engine = create_engine("sqlite:///./app.db")
            metadata = MetaData()

            def orders_table() -> Table:
                return Table("orders", metadata, autoload=True, autoload_with=engine)  # expect: SBA315
        ''', raises="TypeError: Additional arguments should be named <dialectname>_<argument>, got 'autoload'", run="orders_table()"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        version = module.project.sqlalchemy_version
        if version is not None and version < SA_2_0:
            return
        for call in module.calls:
            legacy = self._legacy(module, call)
            if legacy is not None:
                yield self._finding(module, legacy)

    def _legacy(self, module: ModuleContext, call: ast.Call) -> Optional[_Legacy]:
        name = module.call_name(call)
        if name in _SELECTS:
            return _legacy_select(call)
        if name in _METADATA:
            return _legacy_metadata(call)
        if name in _TABLE:
            return _legacy_table(call)
        return self._legacy_engine_method(module, call)

    def _legacy_engine_method(self, module: ModuleContext, call: ast.Call) -> Optional[_Legacy]:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in _ENGINE_FIXES):
            return None
        engine = module.objects.engine(func.value)
        if engine is None or engine.is_async:
            return None
        recv = _src(func.value)
        args = ", ".join(_src(a) for a in call.args)
        return _Legacy(call, f"{recv}.{func.attr}() was removed from Engine in SQLAlchemy 2.0",
                       f"AttributeError: 'Engine' object has no attribute '{func.attr}'",
                       _ENGINE_FIXES[func.attr].format(engine=recv, args=args or "..."))

    def _finding(self, module: ModuleContext, legacy: _Legacy) -> Finding:
        version = module.project.sqlalchemy_version
        sa = module.project.environment.describe("SQLAlchemy")
        if version is None:
            severity = Severity.WARNING
            cause = (f"As {module.project.why_unknown('SQLAlchemy')}, this assumes "
                     f"SQLAlchemy >= 2.0, where it fails with {legacy.error}.")
        else:
            severity, when = _boot(module, legacy.node, Severity.RUNTIME)
            cause = f"{sa} removed this 1.x API; it fails with {legacy.error}.{when}"
        return self.report(module, legacy.node, legacy.message, cause, legacy.fix,
                           severity=severity)


_ENGINE_FIXES = {
    "execute": "Execute on a connection: `with {engine}.connect() as conn: "
               "conn.execute(text({args}))` (use {engine}.begin() when it writes).",
    "scalar": "Execute on a connection: `with {engine}.connect() as conn: "
              "conn.scalar(text({args}))`.",
    "has_table": "Use `sqlalchemy.inspect({engine}).has_table({args})`.",
    "table_names": "Use `sqlalchemy.inspect({engine}).get_table_names()`.",
}


def _legacy_select(call: ast.Call) -> Optional[_Legacy]:
    if len(call.args) != 1 or not isinstance(call.args[0], (ast.List, ast.ListComp)):
        return None
    columns = call.args[0]
    wanted = (", ".join(_src(e) for e in columns.elts) if isinstance(columns, ast.List)
              else f"*{_src(columns)}")
    return _Legacy(call, f"select() given a list {_src(columns)}: SQLAlchemy 2.0 takes the "
                   f"columns as separate arguments",
                   "sqlalchemy.exc.ArgumentError: Column expression, FROM clause, or other columns "
                   "clause element expected, got [...]",
                   f"Pass the columns as arguments: `select({wanted})`.")


def _legacy_metadata(call: ast.Call) -> Optional[_Legacy]:
    bind = keyword(call, "bind")
    if bind is None:
        return None
    return _Legacy(call, f"MetaData(bind={_src(bind.value)}): bound metadata was removed in "
                   f"SQLAlchemy 2.0",
                   "TypeError: MetaData.__init__() got an unexpected keyword argument 'bind'",
                   f"Create `MetaData()` and pass {_src(bind.value)} where it is used: "
                   f"`metadata.create_all({_src(bind.value)})`, "
                   f"`Table(..., autoload_with={_src(bind.value)})`.")


def _legacy_table(call: ast.Call) -> Optional[_Legacy]:
    autoload = keyword(call, "autoload")
    if autoload is None:
        return None
    name = _src(call.args[0]) if call.args else "..."
    source = keyword(call, "autoload_with")
    fix = ("Remove `autoload=...`: `autoload_with=` alone reflects the table." if source else
           "Replace `autoload=True` with `autoload_with=engine` (the Engine or Connection to "
           "reflect from).")
    return _Legacy(call, f"Table({name}, ..., autoload={_src(autoload.value)}): the autoload "
                   f"argument was removed in SQLAlchemy 2.0",
                   "TypeError: Additional arguments should be named <dialectname>_<argument>, "
                   "got 'autoload'", fix)
