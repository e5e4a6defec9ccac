"""Sessions, their classes and the engines they are bound to: SBA304, SBA305, SBA306, SBA309."""
from __future__ import annotations

import ast
import dataclasses
from typing import Iterator, List, NamedTuple, Optional, Tuple

from packaging.version import Version

from ...analysis.objects import Engine, Session
from ...analysis.urls import redact
from ...context import ModuleContext, argument, keyword
from ...findings import Category, Finding, Location, Severity
from ...knowledge import names as N
from ..base import Invalid, Valid
from . import DatabaseRule

_SA_2_0 = Version("2.0")
_SA_2_1 = Version("2.1")
_SQLMODEL_ASYNC_IMPORT = "from sqlmodel.ext.asyncio.session import AsyncSession"
_SA_ASYNC_IMPORT = "from sqlalchemy.ext.asyncio import AsyncSession"
_SESSION_CLASSES = N.ASYNC_SESSION_CLASSES | N.SYNC_SESSION_CLASSES
_SQLALCHEMY_CLASSES = frozenset({N.SA_ASYNC_SESSION, N.SA_SESSION})


def _source(expr: ast.AST, limit: int = 60) -> str:
    """`expr` as written (passwords masked), shortened for one-line messages."""
    text = redact(ast.unparse(expr))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _callee(call: ast.Call) -> str:
    """What the session codemods need: the callee as written (passwords masked, not shortened)."""
    return redact(ast.unparse(call.func))


def _line(node: Optional[ast.AST]) -> str:
    return f" (line {node.lineno})" if node is not None and hasattr(node, "lineno") else ""


def _engine_text(module: ModuleContext, bind: ast.expr, engine: Engine) -> str:
    """`engine`, plus where the engine is created when that is elsewhere."""
    made = ""
    if engine.call is not None and engine.call is not bind:
        made = f", made by {module.call_name(engine.call).rsplit('.', 1)[1]}(){_line(engine.call)}"
    return f"`{_source(bind)}` ({engine.kind}{made})"


def _without_codemod(finding: Finding) -> Finding:
    return dataclasses.replace(finding, fix=dataclasses.replace(finding.fix, codemod=None))


def _has_sqlmodel(module: ModuleContext) -> bool:
    """Whether SQLModel's session classes are available: imported here, or installed."""
    return module.imports.imports_from("sqlmodel") or module.project.version("sqlmodel") is not None


def _session_origin(receiver: str, session: Session) -> str:
    """Why `receiver` is of `session.cls`, for root causes."""
    if session.declared:
        return f"`{receiver}` is annotated as {session.short}{_line(session.origin)}"
    if isinstance(session.origin, ast.Call):
        return (f"`{receiver}` comes from `{_source(session.origin.func)}(...)`"
                f"{_line(session.origin)}, which makes {session.short} objects")
    return f"`{receiver}` is a {session.short}"


def _related(module: ModuleContext, session: Session, note: str) -> Tuple[Location, ...]:
    origin = session.origin
    if origin is None or not hasattr(origin, "lineno"):
        return ()
    return (Location(module.path, origin.lineno, origin.col_offset, note),)


def _method_calls(module: ModuleContext, method: str) -> Iterator[Tuple[ast.Call, ast.expr]]:
    """Every `<receiver>.<method>(...)` call of the module, with its receiver."""
    for call in module.calls:
        if isinstance(call.func, ast.Attribute) and call.func.attr == method:
            yield call, call.func.value


class SyncSessionOverAsyncEngine(DatabaseRule):
    code = "SBA304"
    name = "sync-session-over-async-engine"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = "SQLAlchemy >= 1.4 (the asyncio extension)."
    summary = "a sync session or session factory bound to an async engine, or the reverse"
    references = ("A04",)
    codemod = "async-sessionmaker"
    what = ("A session or session factory whose class does not match its engine: `sessionmaker("
            "async_engine)` (no `class_=AsyncSession`), `Session(async_engine)`, "
            "`sqlmodel.Session(async_engine)`, `scoped_session(sessionmaker(async_engine))`, "
            "`factory.configure(bind=async_engine)`; and the reverse, `AsyncSession(sync_engine)`"
            " or `async_sessionmaker(sync_engine)`. The engine is followed through names, "
            "`get_engine()` functions, `AsyncEngine(...)` and annotations.")
    why = ("A sync `Session` cannot drive an `AsyncEngine`. `async with SessionLocal() as session` "
           "raises `TypeError: 'Session' object does not support the asynchronous context manager "
           "protocol`; used synchronously, its first query raises `sqlalchemy.ext.asyncio.exc."
           "AsyncContextNotStarted: AsyncConnection context has not been started and object has "
           "not been awaited.` The reverse fails when the session is created: `sqlalchemy.exc."
           "ArgumentError: AsyncEngine expected, got Engine(sqlite://)` - at the first "
           "`async_sessionmaker(...)()` call, or at import for a module-level "
           "`AsyncSession(engine)`.")
    how_to_fix = ("Match the session to the engine. For an async engine use `async_sessionmaker("
                  "engine, expire_on_commit=False)` (SQLAlchemy >= 2.0; on 1.4 `sessionmaker("
                  "engine, class_=AsyncSession, expire_on_commit=False)`), or "
                  "`AsyncSession(engine)`, imported from `sqlmodel.ext.asyncio.session` when the "
                  "code uses `.exec()`. "
                  "For a sync engine use `sessionmaker` / `Session`, or create the engine with "
                  "`create_async_engine` and an async driver.")
    fix_safety = ("Unsafe: an async session's methods must be awaited, so every place that uses "
                  "the factory changes with it. The `async-sessionmaker` codemod rewrites "
                  "`sessionmaker(engine, ...)` without `class_=` as `async_sessionmaker(engine, "
                  "..., expire_on_commit=False)`, imports it from `sqlalchemy.ext.asyncio` and "
                  "drops the `sessionmaker` import when nothing else uses it. It is not offered "
                  "on SQLAlchemy 1.4 (no `async_sessionmaker`), inside `scoped_session(...)`, for "
                  "`Session(async_engine)` or for the reverse binding.")
    valid = (
        Valid('''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        '''),
        Valid('''
            from sqlmodel import Session, create_engine, select

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

            def get_session():
                with Session(engine) as session:
                    yield session
        ''', note="the sync SQLModel tutorial"),
        Valid('''
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            SessionLocal = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        ''', note="the SQLAlchemy 1.4 spelling of an async factory"),
        Valid('''
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.orm import Session

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            def export(conn):
                with Session(bind=conn) as session:
                    return session.get_bind()
        ''', note="a bind that cannot be resolved is not judged"),
    )
    invalid = (
        Invalid('''
            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_async_engine("sqlite+aiosqlite://")
            SessionLocal = sessionmaker(bind=engine, autoflush=False)  # expect: SBA304

            async def ping():
                async with SessionLocal() as session:
                    await session.execute(text("select 1"))
        ''', raises="TypeError: 'Session' object does not support the asynchronous context manager protocol",
                run="import asyncio; asyncio.run(ping())"),
        Invalid('''
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import Session, select

            def get_engine():
                return create_async_engine("sqlite+aiosqlite://")

            def count_rows():
                with Session(get_engine()) as session:  # expect: SBA304
                    return session.exec(select(1)).all()
        ''', raises="sqlalchemy.ext.asyncio.exc.AsyncContextNotStarted: AsyncConnection context has not been started",
                run="count_rows()"),
        Invalid('''
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import async_sessionmaker

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)  # expect: SBA304

            async def get_db():
                async with SessionLocal() as session:
                    yield session
        ''', raises="sqlalchemy.exc.ArgumentError: AsyncEngine expected, got Engine(sqlite:///./app.db)",
                run="import asyncio; asyncio.run(get_db().__anext__())"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for call in module.calls:
            bound = _bound_session(module, call)
            if bound is None:
                continue
            engine = module.objects.engine(bound.bind)
            if engine is None or engine.is_async == bound.is_async:
                continue
            if engine.is_async:
                yield self._sync_over_async(module, bound, engine)
            else:
                yield self._async_over_sync(module, bound, engine)

    def _sync_over_async(self, module: ModuleContext, bound: _Bound, engine: Engine) -> Finding:
        short = Session(bound.cls).short
        sa = module.project.environment.describe("SQLAlchemy")
        shape = {"factory": f"makes sync {short} objects but is bound",
                 "session": f"is a sync {short} bound",
                 "configure": f"binds a factory of sync {short} objects"}[bound.kind]
        renames = self._renames_to_async(module, bound)
        finding = self.report(
            module, bound.call,
            f"{bound.what} {shape} to the async engine `{_source(bound.bind)}`",
            f"{_engine_text(module, bound.bind, engine)} is async, and a sync {short} cannot "
            f"drive it ({sa}): `async with` on the session raises TypeError \"'Session' object "
            f"does not support the asynchronous context manager protocol\", and its first query "
            f"raises AsyncContextNotStarted \"AsyncConnection context has not been started and "
            f"object has not been awaited.\"",
            self._async_fix(module, bound),
            safe=False, data={"callee": _callee(bound.call)} if renames else None,
        )
        return finding if renames else _without_codemod(finding)

    def _async_fix(self, module: ModuleContext, bound: _Bound) -> str:
        sqlmodel = module.imports.imports_from("sqlmodel") or bound.cls == N.SQLMODEL_SESSION
        imported = _SQLMODEL_ASYNC_IMPORT if sqlmodel else _SA_ASYNC_IMPORT
        engine = _source(bound.bind)
        if bound.kind == "session":
            return (f"Use AsyncSession({engine}) ({imported}) in `async with`, and await its "
                    f"methods.")
        class_arg = ", class_=AsyncSession" if sqlmodel else ""
        factory = f"async_sessionmaker({engine}{class_arg}, expire_on_commit=False)"
        legacy = f"sessionmaker({engine}, class_=AsyncSession, expire_on_commit=False)"
        version = module.project.sqlalchemy_version
        if version is not None and version < _SA_2_0:
            chosen = (f"Use {legacy} ({imported}; async_sessionmaker needs SQLAlchemy 2.0, "
                      f"{module.project.environment.describe('SQLAlchemy')} is installed)")
        else:
            unknown = "" if version is not None else (
                f"; SQLAlchemy's version is unknown: on 1.4 write {legacy}")
            chosen = (f"Use {factory} (from sqlalchemy.ext.asyncio import async_sessionmaker"
                      f"{'; ' + imported if sqlmodel else ''}{unknown})")
        return f"{chosen}; open sessions with `async with SessionLocal() as session`, await them."

    def _renames_to_async(self, module: ModuleContext, bound: _Bound) -> bool:
        """Whether the codemod's rename `sessionmaker(` -> `async_sessionmaker(` is the fix."""
        call = bound.call
        if module.call_name(call) != N.SESSIONMAKER or argument(call, 1, "class_") is not None:
            return False
        version = module.project.sqlalchemy_version
        if version is not None and version < _SA_2_0:
            return False  # async_sessionmaker arrived in SQLAlchemy 2.0
        parent = module.scopes.parent(call)
        return not (isinstance(parent, ast.Call) and module.call_name(parent) == N.SCOPED_SESSION)

    def _async_over_sync(self, module: ModuleContext, bound: _Bound, engine: Engine) -> Finding:
        at_import = bound.kind == "session" and module.scopes.runs_at_import(bound.call)
        when = ("while the module is imported" if at_import
                else "when the session is created" if bound.kind == "session"
                else "when the factory makes its first session")
        sync_api = "Session(engine)" if bound.kind == "session" else "sessionmaker(engine)"
        shape = "is an" if bound.kind == "session" else "makes sessions of class"
        finding = self.report(
            module, bound.call,
            f"{bound.what} {shape} {Session(bound.cls).short}, which needs an AsyncEngine, but "
            f"`{_source(bound.bind)}` is a sync Engine",
            f"{_engine_text(module, bound.bind, engine)} is sync, and an AsyncSession needs an "
            f"AsyncEngine: SQLAlchemy raises ArgumentError \"AsyncEngine expected, got "
            f"Engine(...)\" {when} ({module.project.environment.describe('SQLAlchemy')}).",
            f"Create the engine with create_async_engine() and an async driver URL "
            f"(postgresql+asyncpg://, sqlite+aiosqlite://), or use {sync_api} for sync code.",
            severity=Severity.BLOCKING if at_import else self.severity,
            safe=False,
        )
        return _without_codemod(finding)


class _Bound(NamedTuple):
    """A session class bound to an engine expression by one call."""

    call: ast.Call
    cls: str
    bind: ast.expr
    what: str  # the call as shown: `sessionmaker()`, `Session()`, `SessionLocal.configure()`
    kind: str  # "factory", "session" or "configure"

    @property
    def is_async(self) -> bool:
        return self.cls in N.ASYNC_SESSION_CLASSES


def _bound_session(module: ModuleContext, call: ast.Call) -> Optional[_Bound]:
    """`sessionmaker(engine)`, `Session(engine)`, `factory.configure(bind=engine)`."""
    name = module.call_name(call)
    if name in _SESSION_CLASSES:
        bind = argument(call, 0, "bind")
        return _Bound(call, name, bind, f"{_source(call.func)}()", "session") if bind else None
    if name in (N.SESSIONMAKER, N.ASYNC_SESSIONMAKER):
        factory, bind, kind = module.objects.factory(call), argument(call, 0, "bind"), "factory"
    elif isinstance(call.func, ast.Attribute) and call.func.attr == "configure":
        factory, bind, kind = module.objects.factory(call.func.value), None, "configure"
        setting = keyword(call, "bind")
        bind = setting.value if setting is not None else None
    else:
        return None
    if factory is None or bind is None:
        return None
    return _Bound(call, factory.cls, bind, f"{_source(call.func)}()", kind)


class ExecOnSqlalchemySession(DatabaseRule):
    code = "SBA305"
    name = "exec-on-sqlalchemy-async-session"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = ("Any sqlmodel and SQLAlchemy version: only sqlmodel's Session and AsyncSession "
                "have `exec()`.")
    summary = "`.exec()` called on SQLAlchemy's AsyncSession or Session, which only SQLModel's have"
    references = ("A05",)
    codemod = "sqlmodel-async-session"
    what = ("`session.exec(...)` where `session` is SQLAlchemy's `AsyncSession` (or sync "
            "`Session`): made by `async_sessionmaker(engine)` without `class_=`, by "
            "`AsyncSession(engine)` imported from `sqlalchemy.ext.asyncio`, or annotated with "
            "that class (`session: AsyncSession = Depends(get_session)`, "
            "`Annotated[AsyncSession, Depends(...)]` and its aliases, `self.session`). A "
            "dependency defined in the same module decides over the annotation.")
    why = ("`exec()` is SQLModel's addition: `sqlmodel.ext.asyncio.session.AsyncSession` and "
           "`sqlmodel.Session` subclass SQLAlchemy's classes to add it. On SQLAlchemy's own class "
           "the first request fails with `AttributeError: 'AsyncSession' object has no attribute "
           "'exec'` (sync: `'Session' object has no attribute 'exec'`).")
    how_to_fix = ("Use SQLModel's class: `from sqlmodel.ext.asyncio.session import AsyncSession` "
                  "in the annotations and as `class_=AsyncSession` of the session factory (`from "
                  "sqlmodel import Session` for sync code). Or keep SQLAlchemy's class and write "
                  "`(await session.execute(stmt)).scalars()`.")
    fix_safety = ("Safe: SQLModel's AsyncSession subclasses SQLAlchemy's, so every other call "
                  "keeps working. The `sqlmodel-async-session` codemod replaces the module's "
                  "`from sqlalchemy.ext.asyncio import AsyncSession` with `from "
                  "sqlmodel.ext.asyncio.session import AsyncSession` and gives the session "
                  "factory `class_=AsyncSession` when it names no class. A session known only "
                  "from an annotation (made by a dependency in another module) is left to "
                  "change where it is made.")
    valid = (
        Valid('''
            from fastapi import Depends, FastAPI
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlmodel import select
            from sqlmodel.ext.asyncio.session import AsyncSession

            from .models import Hero

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
            app = FastAPI()

            async def get_session():
                async with SessionLocal() as session:
                    yield session

            @app.get("/heroes")
            async def list_heroes(session: AsyncSession = Depends(get_session)):
                return (await session.exec(select(Hero))).all()
        '''),
        Valid('''
            from typing import Annotated

            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_session
            from .models import User

            SessionDep = Annotated[AsyncSession, Depends(get_session)]

            async def list_users(session: SessionDep):
                return (await session.execute(select(User))).scalars().all()
        ''', note="SQLAlchemy's class used with execute()"),
        Valid('''
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
            from sqlmodel import select
            from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelAsyncSession

            from .models import Hero

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            SessionLocal = async_sessionmaker(engine, class_=SQLModelAsyncSession, expire_on_commit=False)

            async def get_session():
                async with SessionLocal() as session:
                    yield session

            async def list_heroes(session: AsyncSession = Depends(get_session)):
                return (await session.exec(select(Hero))).all()
        ''', note="annotated with the base class, but the dependency yields SQLModel's session"),
    )
    invalid = (
        Invalid('''
            from typing import Optional

            from fastapi import Depends, FastAPI
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
            from sqlmodel import Field, SQLModel, select

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite://")
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
            app = FastAPI()

            async def get_session():
                async with SessionLocal() as session:
                    yield session

            @app.get("/heroes")
            async def list_heroes(session: AsyncSession = Depends(get_session)):
                result = await session.exec(select(Hero))  # expect: SBA305
                return result.all()
        ''', raises="AttributeError: 'AsyncSession' object has no attribute 'exec'",
                run="import asyncio; asyncio.run(list_heroes(SessionLocal()))"),
        Invalid('''
            from typing import Annotated, Optional

            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
            from sqlmodel import Field, SQLModel, select

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite://")

            async def get_session():
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    yield session

            SessionDep = Annotated[AsyncSession, Depends(get_session)]

            async def read_hero(hero_id: int, session: SessionDep):
                return (await session.exec(select(Hero).where(Hero.id == hero_id))).first()  # expect: SBA305
        ''', raises="AttributeError: 'AsyncSession' object has no attribute 'exec'",
                run="import asyncio; asyncio.run(read_hero(1, AsyncSession(engine)))"),
        Invalid('''
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session
            from sqlmodel import select

            engine = create_engine("sqlite://")

            class HeroRepository:
                def __init__(self, session: Session):
                    self.session = session

                def count(self):
                    return len(self.session.exec(select(1)).all())  # expect: SBA305
        ''', raises="AttributeError: 'Session' object has no attribute 'exec'",
                run="HeroRepository(Session(engine)).count()",
                note="the sync twin, through a repository's attribute"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for call, receiver in _method_calls(module, "exec"):
            session = module.objects.session(receiver)
            if session is None or session.cls not in _SQLALCHEMY_CLASSES:
                continue
            yield self._finding(module, call, receiver, session)

    def _finding(self, module: ModuleContext, call: ast.Call, receiver: ast.expr,
                 session: Session) -> Finding:
        name = _source(receiver)
        cls = "AsyncSession" if session.is_async else "Session"
        environment = module.project.environment
        versions = f"{environment.describe('SQLAlchemy')}, {environment.describe('sqlmodel')}"
        finding = self.report(
            module, call,
            f"{name}.exec() on {session.short}, which has no exec(): only SQLModel's {cls} has it",
            f"{_session_origin(name, session)}. exec() is added by SQLModel's subclass, so "
            f"SQLAlchemy's class raises AttributeError \"'{cls}' object has no attribute "
            f"'exec'\" ({versions}).",
            self._fix(module, name, session),
            related=_related(module, session, f"{session.short} chosen here"),
        )
        if session.is_async and _has_sqlmodel(module):
            return finding
        return _without_codemod(finding)

    def _fix(self, module: ModuleContext, name: str, session: Session) -> str:
        execute = (f"(await {name}.execute(stmt)).scalars()" if session.is_async
                   else f"{name}.execute(stmt).scalars()")
        if not _has_sqlmodel(module):
            return (f"sqlmodel is not installed in the project's interpreter: use {execute} "
                    f"instead of {name}.exec(stmt).")
        imported = _SQLMODEL_ASYNC_IMPORT if session.is_async else "from sqlmodel import Session"
        cls = "AsyncSession" if session.is_async else "Session"
        if session.declared:
            where = (f"use it in the annotation{_line(session.origin)} and wherever the session "
                     f"passed in is created")
        else:
            where = f"pass class_={cls} to the session factory{_line(session.origin)}"
            origin = session.origin
            if isinstance(origin, ast.Call) and module.call_name(origin) in _SESSION_CLASSES:
                where = f"construct the session with it{_line(session.origin)}"
        return f"Use SQLModel's class ({imported}) and {where}; or call {execute}."


class LegacyQueryOnAsyncSession(DatabaseRule):
    code = "SBA306"
    name = "legacy-query-on-async-session"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = "SQLAlchemy >= 1.4: AsyncSession never had the 1.x `Query` API."
    summary = "the legacy `session.query(...)` API called on an async session"
    references = ("A06",)
    what = ("`session.query(Model)...` where `session` is an `AsyncSession` (SQLAlchemy's or "
            "SQLModel's), resolved through factories, constructors, `Depends` functions and "
            "annotations.")
    why = ("The 1.x `Query` API exists only on sync sessions. Neither SQLAlchemy's `AsyncSession` "
           "nor SQLModel's subclass has it: `AttributeError: 'AsyncSession' object has no "
           "attribute 'query'` on the first request that reaches the line.")
    how_to_fix = ("Build a 2.0-style statement and await it: `(await session.execute(select(User)"
                  ".where(User.email == email))).scalars().first()` (SQLModel: `(await session."
                  "exec(select(User).where(...))).first()`); `query(User).get(id)` becomes `await "
                  "session.get(User, id)`.")
    fix_safety = "No automatic fix: the statement and its result handling are rewritten by hand."
    valid = (
        Valid('''
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            from .models import User

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
            SessionLocal = sessionmaker(bind=engine, autoflush=False)

            def get_user(user_id: int):
                with SessionLocal() as db:
                    return db.query(User).filter(User.id == user_id).first()
        ''', note="query() works on sync sessions"),
        Valid('''
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models import User

            async def get_user(db: AsyncSession, email: str):
                return (await db.execute(select(User).where(User.email == email))).scalars().first()

            async def count_users(db: AsyncSession) -> int:
                return await db.run_sync(lambda sync_session: sync_session.query(User).count())
        ''', note="the sync session inside run_sync has query()"),
    )
    invalid = (
        Invalid('''
            from fastapi import Depends
            from sqlalchemy import Column, Integer, String
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()

            class User(Base):
                __tablename__ = "users"
                id = Column(Integer, primary_key=True)
                email = Column(String, unique=True)

            engine = create_async_engine("sqlite+aiosqlite://")
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

            async def get_db():
                async with SessionLocal() as db:
                    yield db

            async def get_user_by_email(email: str, db: AsyncSession = Depends(get_db)):
                return db.query(User).filter(User.email == email).first()  # expect: SBA306
        ''', raises="AttributeError: 'AsyncSession' object has no attribute 'query'",
                run="import asyncio; asyncio.run(get_user_by_email('a@example.com', SessionLocal()))"),
        Invalid('''
            from typing import Optional

            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import Field, SQLModel
            from sqlmodel.ext.asyncio.session import AsyncSession

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite://")

            async def read_hero(hero_id: int):
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    return session.query(Hero).get(hero_id)  # expect: SBA306
        ''', raises="AttributeError: 'AsyncSession' object has no attribute 'query'",
                run="import asyncio; asyncio.run(read_hero(1))",
                note="SQLModel's AsyncSession has no query() either"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for call, receiver in _method_calls(module, "query"):
            session = module.objects.session(receiver)
            if session is None or not session.is_async:
                continue
            name = _source(receiver)
            sqlmodel = (" (SQLModel's subclass does not add it)"
                        if session.cls == N.SQLMODEL_ASYNC_SESSION else "")
            yield self.report(
                module, call,
                f"{name}.query() on {session.short}: async sessions have no legacy Query API",
                f"{_session_origin(name, session)}. AsyncSession has no query(){sqlmodel}, so "
                f"this raises AttributeError \"'AsyncSession' object has no attribute 'query'\" "
                f"({module.project.environment.describe('SQLAlchemy')}).",
                _query_fix(module, call, name, session),
                related=_related(module, session, f"{session.short} chosen here"),
            )


_KEPT_METHODS = frozenset({"where", "filter_by", "order_by", "group_by", "having", "join",
                           "outerjoin", "options", "limit", "offset", "distinct"})
_RESULT_METHODS = frozenset({"all", "first", "one", "one_or_none"})


def _query_chain(module: ModuleContext, call: ast.Call) -> List[Tuple[str, ast.Call]]:
    """The methods called on the result of `call`: `.filter(...).first()` -> filter, first."""
    chain = []
    node: ast.AST = call
    while True:
        attribute = module.scopes.parent(node)
        outer = module.scopes.parent(attribute) if attribute is not None else None
        if not (isinstance(attribute, ast.Attribute) and isinstance(outer, ast.Call)
                and outer.func is attribute):
            return chain
        chain.append((attribute.attr, outer))
        node = outer


def _query_fix(module: ModuleContext, call: ast.Call, name: str, session: Session) -> str:
    """The 2.0-style statement that replaces `name.query(...)...`, when it can be written."""
    sqlmodel = session.cls == N.SQLMODEL_ASYNC_SESSION
    source = "sqlmodel" if sqlmodel else "sqlalchemy"
    entities = _arguments(call)
    chain = _query_chain(module, call)
    if len(chain) == 1 and chain[0][0] == "get" and len(call.args) == 1 and chain[0][1].args:
        return f"Use `await {name}.get({entities}, {_arguments(chain[0][1])})`."
    statement = f"select({entities})"
    for method, link in chain[:-1]:
        method = "where" if method == "filter" else method
        if method not in _KEPT_METHODS:
            return _generic_query_fix(name, sqlmodel, source)
        statement += f".{method}({_arguments(link)})"
    last = chain[-1][0] if chain else "all"
    if last not in _RESULT_METHODS or not call.args:
        return _generic_query_fix(name, sqlmodel, source)
    result = f"(await {name}.exec({statement})).{last}()" if sqlmodel else \
        f"(await {name}.execute({statement})).scalars().{last}()"
    return f"Use `{redact(result)}` (select from {source})."


def _arguments(call: ast.Call) -> str:
    """The arguments of `call` as written."""
    copy = ast.Call(func=ast.Name(id="f"), args=call.args, keywords=call.keywords)
    return ast.unparse(copy)[len("f("):-1]


def _generic_query_fix(name: str, sqlmodel: bool, source: str) -> str:
    if sqlmodel:
        return (f"Build the statement with select() from {source} and await it: `(await "
                f"{name}.exec(select(Model).where(...))).all()`.")
    return (f"Build the statement with select() from {source} and await it: `(await "
            f"{name}.execute(select(Model).where(...))).scalars().all()`.")


class ExpireOnCommitInAsyncSession(DatabaseRule):
    code = "SBA309"
    name = "expire-on-commit-in-async-session"
    severity = Severity.WARNING
    category = Category.DATABASE
    versions = "SQLAlchemy >= 1.4 async: `expire_on_commit` defaults to True."
    summary = "an async session or session factory without `expire_on_commit=False`"
    references = ("A09",)
    codemod = "expire-on-commit-false"
    what = ("`async_sessionmaker(...)`, `sessionmaker(..., class_=AsyncSession)` or "
            "`AsyncSession(engine)` (SQLAlchemy's or SQLModel's) that leaves `expire_on_commit` "
            "at its default `True` (or sets it to `True`). A call that passes `**options` is not "
            "judged.")
    why = ("`await session.commit()` expires every object the session holds; the next attribute "
           "read (`return user.id`, or FastAPI serialising the object) reloads it with implicit "
           "IO, which asyncio cannot do: `sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not "
           "been called; can't call await_only() here` (SQLAlchemy 2.1 says `await_()` and wraps "
           "it: `sqlalchemy.exc.StatementError: (sqlalchemy.exc.MissingGreenlet) greenlet_spawn "
           "has not been called`). Once the session is closed (the object is returned from the "
           "`async with` block and serialised) the read raises `sqlalchemy.orm.exc."
           "DetachedInstanceError: Instance <Hero at 0x...> is not bound to a Session; attribute "
           "refresh operation cannot proceed`. Only paths that read after a commit fail, so it is "
           "a warning.")
    how_to_fix = ("Pass `expire_on_commit=False`: `async_sessionmaker(engine, "
                  "expire_on_commit=False)`. Where fresh values are needed after a commit, `await "
                  "session.refresh(obj)` explicitly.")
    fix_safety = ("Safe for request-scoped sessions (the documented setting for asyncio); objects "
                  "keep their committed values instead of reloading them. The "
                  "`expire-on-commit-false` codemod appends `expire_on_commit=False` to the call "
                  "(or turns an explicit `True` into `False`).")
    valid = (
        Valid('''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        '''),
        Valid('''
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import SQLModel
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            async def init_db():
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)

            async def get_session():
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    yield session
        '''),
        Valid('''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            SESSION_OPTIONS = {"expire_on_commit": False, "autoflush": False}
            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            SessionLocal = async_sessionmaker(engine, **SESSION_OPTIONS)
        ''', note="options passed with ** are not judged"),
        Valid('''
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
            SessionLocal = sessionmaker(bind=engine, autoflush=False)
        ''', note="sync sessions reload expired attributes without trouble"),
    )
    invalid = (
        Invalid('''
            from typing import Optional

            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlmodel import Field, SQLModel

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite://")
            SessionLocal = async_sessionmaker(engine)  # expect: SBA309

            async def create_hero(name: str) -> int:
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
                async with SessionLocal() as session:
                    hero = Hero(name=name)
                    session.add(hero)
                    await session.commit()
                    return hero.id
        ''', raises="sqlalchemy.exc.StatementError: (sqlalchemy.exc.MissingGreenlet) greenlet_spawn has not been called",
            run="import asyncio; asyncio.run(create_hero('Deadpond'))",
            note="SQLAlchemy 2.1 wraps the MissingGreenlet in a StatementError"),
        Invalid('''
            from typing import Optional

            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlmodel import Field, SQLModel

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite://")
            SessionLocal = async_sessionmaker(engine)  # expect: SBA309

            async def create_hero(name: str) -> Hero:
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
                async with SessionLocal() as session:
                    hero = Hero(name=name)
                    session.add(hero)
                    await session.commit()
                return hero
        ''', raises="sqlalchemy.orm.exc.DetachedInstanceError: Instance <Hero at 0x",
                run="import asyncio; print(asyncio.run(create_hero('Deadpond')).name)",
                note="the object outlives its session, as when FastAPI serialises it"),
        Invalid('''
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
            async_session = sessionmaker(engine, class_=AsyncSession)  # expect: SBA309
        ''', note="the SQLAlchemy 1.4 spelling"),
        Invalid('''
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            async def get_session():
                async with AsyncSession(engine) as session:  # expect: SBA309
                    yield session
        '''),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for call in module.calls:
            what = self._async_session_maker(module, call)
            if what is None or any(kw.arg is None for kw in call.keywords):
                continue
            setting = keyword(call, "expire_on_commit")
            if setting is not None and not _is_true(setting.value):
                continue
            yield self._finding(module, call, what, explicit=setting is not None)

    def _async_session_maker(self, module: ModuleContext, call: ast.Call) -> Optional[str]:
        """How the call is shown when it makes async sessions, else None."""
        name = module.call_name(call)
        if name == N.ASYNC_SESSIONMAKER or name in N.ASYNC_SESSION_CLASSES:
            return f"{_source(call.func)}()"
        if name == N.SESSIONMAKER:
            factory = module.objects.factory(call)
            if factory is not None and factory.cls in N.ASYNC_SESSION_CLASSES:
                return f"{_source(call.func)}(class_={factory.cls.rsplit('.', 1)[1]})"
        return None

    def _finding(self, module: ModuleContext, call: ast.Call, what: str,
                 explicit: bool) -> Finding:
        version = module.project.sqlalchemy_version
        await_name = "await_()" if version is not None and version >= _SA_2_1 else "await_only()"
        setting = ("sets expire_on_commit=True" if explicit
                   else "leaves expire_on_commit=True (the default)")
        return self.report(
            module, call,
            f"{what} {setting}: attributes read after `await session.commit()` raise "
            f"MissingGreenlet",
            f"commit() expires every loaded object, and reading one of its attributes afterwards "
            f"(returning `obj.id`, FastAPI serialising the object) reloads it with implicit IO, "
            f"which an async session cannot do: MissingGreenlet \"greenlet_spawn has not been "
            f"called; can't call {await_name} here\" while the session is open, "
            f"DetachedInstanceError once it is closed "
            f"({module.project.environment.describe('SQLAlchemy')}).",
            f"Pass expire_on_commit=False to {what.split('(', 1)[0]}(...), or `await "
            f"session.refresh(obj)` after each commit whose objects are read.",
            data={"callee": _callee(call)},
        )


def _is_true(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True
