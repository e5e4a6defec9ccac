"""Using the async database API from async code: SBA307, SBA316, SBA310."""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass, replace
from typing import Dict, Iterator, List, Optional, Set, Tuple

from ...analysis import awaiting
from ...analysis.awaiting import Misuse, unawaited_use
from ...analysis.loaded import ONE, Loaded, LoadTracker
from ...analysis.objects import Session
from ...analysis.relationships import RelationshipDecl, module_relationships
from ...analysis.walk import walk
from ...context import ModuleContext, argument
from ...findings import Category, Finding, Severity
from ...knowledge import async_api, dialects
from ..base import Invalid, Valid
from . import DatabaseRule

_COROUTINE_METHOD_NAMES = frozenset(
    method for methods in async_api.COROUTINE_METHODS.values() for method in methods
)

_CONSEQUENCES = {
    awaiting.ATTRIBUTE: "the attribute is looked up on the coroutine object: `AttributeError: "
                        "'coroutine' object has no attribute '{attr}'`",
    awaiting.SUBSCRIPTED: "it fails with `TypeError: 'coroutine' object is not subscriptable`",
    awaiting.ITERATED: "it fails with `TypeError: 'coroutine' object is not iterable`",
    awaiting.ASYNC_ITERATED: "it fails with `TypeError: 'async for' requires an object with "
                             "__aiter__ method, got coroutine`",
    awaiting.TESTED: "a coroutine object is always truthy and never None, so the test is "
                     "meaningless",
    awaiting.FORMATTED: "the text shows `<coroutine object ...>` instead of the result",
    awaiting.ARGUMENT: "the function receives a coroutine object instead of the result",
    awaiting.RETURNED: "the caller's `await` yields a coroutine object instead of the result",
}


def _called(call: ast.Call) -> str:
    return ast.unparse(call.func)


class CoroutineNotAwaited(DatabaseRule):
    code = "SBA307"
    name = "coroutine-not-awaited"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = "Any async SQLAlchemy (>= 1.4) or sqlmodel version."
    summary = ("a coroutine method of AsyncSession, AsyncEngine or AsyncConnection called "
               "without await")
    references = ("A07",)
    codemod = "add-await"
    what = ("A call of a coroutine method of an async session (SQLAlchemy's or SQLModel's "
            "`AsyncSession`), an `AsyncEngine` or an `AsyncConnection` (`commit`, `execute`, "
            "`exec`, `get`, `refresh`, `delete`, `scalars`, `dispose`, ...) whose coroutine is "
            "never awaited: the value is discarded, used directly (`session.execute(q).all()`, "
            "subscripted, iterated, tested, passed to `list()`), or assigned to a variable that "
            "is never awaited. `session.add()`, `begin()` and `connect()` are not coroutines; "
            "coroutines handed to `asyncio.gather`/`create_task`, returned from a plain `def` "
            "or stored for later are not reported.")
    why = ("Calling a coroutine method runs nothing: it returns a coroutine object. Using it as "
           "the result fails at the first request: `AttributeError: 'coroutine' object has no "
           "attribute 'all'`. Discarding it only prints `RuntimeWarning: coroutine "
           "'AsyncSession.commit' was never awaited`, and the commit never happens: the writes "
           "are silently lost.")
    how_to_fix = ("Await the call: `await session.commit()`, `result = await session.exec(stmt)`; "
                  "parenthesise when the result is used in the same expression: "
                  "`(await session.execute(stmt)).scalars().all()`. In a plain `def`, make the "
                  "function `async def` and await it at its call sites.")
    fix_safety = ("Safe inside `async def`: the `add-await` codemod inserts `await`, "
                  "parenthesised when the result is used in the same expression (`(await "
                  "session.execute(q)).all()`). Not offered in a plain `def`, and skipped in a "
                  "lambda (where `await` is a syntax error) or a generator expression (which "
                  "`await` would turn into an async generator).")
    valid = (
        Valid('''
            from typing import Annotated, Optional

            from fastapi import Depends, FastAPI
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlmodel import Field, SQLModel, select
            from sqlmodel.ext.asyncio.session import AsyncSession

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

            async def get_session():
                async with SessionLocal() as session:
                    yield session

            SessionDep = Annotated[AsyncSession, Depends(get_session)]
            app = FastAPI()

            @app.on_event("startup")
            async def create_tables():
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)

            @app.post("/heroes")
            async def create_hero(hero: Hero, session: SessionDep) -> Hero:
                session.add(hero)
                await session.commit()
                await session.refresh(hero)
                return hero

            @app.get("/heroes")
            async def read_heroes(session: SessionDep):
                return (await session.exec(select(Hero))).all()
        '''),
        Valid('''
            import asyncio

            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")

            def fetch_version(session: AsyncSession):
                return session.execute(text("select version()"))

            async def ping(session: AsyncSession) -> None:
                pending = session.execute(text("select 1"))
                await asyncio.wait_for(pending, timeout=2)

            if __name__ == "__main__":
                asyncio.run(engine.dispose())
        ''', note="a plain def returning the awaitable, a coroutine awaited later, asyncio.run"),
    )
    invalid = (
        Invalid('''
            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite://")

            async def count_tables() -> int:
                async with AsyncSession(engine) as session:
                    result = session.execute(text("select name from sqlite_master"))  # expect: SBA307
                    return len(result.all())
        ''', raises="AttributeError: 'coroutine' object has no attribute 'all'",
                run="import asyncio; asyncio.run(count_tables())"),
        Invalid('''
            import asyncio
            from typing import Optional

            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import Field, SQLModel
            from sqlmodel.ext.asyncio.session import AsyncSession

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_async_engine("sqlite+aiosqlite://")

            async def main() -> None:
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
                async with AsyncSession(engine) as session:
                    session.add(Hero(name="Deadpond"))
                    session.commit()  # expect: SBA307
                await engine.dispose()

            if __name__ == "__main__":
                asyncio.run(main())
        ''', note="the warning is the only trace; the hero is never written",
                raises="RuntimeWarning: coroutine 'AsyncSession.commit' was never awaited",
                run="import asyncio, warnings; "
                    "seen = warnings.catch_warnings(record=True).__enter__(); "
                    "warnings.simplefilter('always', RuntimeWarning); asyncio.run(main()); "
                    "raise seen[0].message"),
        Invalid('''
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models import User

            async def get_user(session: AsyncSession, email: str):
                return session.execute(select(User).where(User.email == email)).scalar_one_or_none()  # expect: SBA307
        '''),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for call in module.calls:
            func = call.func
            if not isinstance(func, ast.Attribute) or func.attr not in _COROUTINE_METHOD_NAMES:
                continue
            cls = _async_receiver(module, func.value)
            span = async_api.coroutine_span(cls, func.attr) if cls else None
            if span is None or not _applies(module, span):
                continue
            misuse = unawaited_use(module, call)
            if misuse is not None:
                yield self._finding(module, call, cls, span, misuse)  # type: ignore[arg-type]

    def _finding(self, module: ModuleContext, call: ast.Call, cls: str, span: async_api.Span,
                 misuse: Misuse) -> Finding:
        attr = call.func.attr  # type: ignore[attr-defined]
        method = f"{async_api.SHORT_NAMES[cls]}.{attr}"
        version, assumption = _version_note(module, cls, attr, span)
        in_async = awaiting.in_async_function(module, call)
        finding = self.report(
            module, call,
            f"{_called(call)}() is never awaited ({method} is a coroutine): {misuse.detail}",
            f"{method} is a coroutine function {version}: calling it only creates a coroutine "
            f"object, and nothing runs until it is awaited. {_consequence(method, misuse)}"
            f"{assumption}",
            _fix_text(module, call, misuse, in_async),
            severity=Severity.WARNING if assumption else self.severity,
            data={"callee": _called(call)},
        )
        if in_async:
            return finding
        return replace(finding, fix=replace(finding.fix, codemod=None, safe=False))


def _async_receiver(module: ModuleContext, expr: ast.expr) -> Optional[str]:
    """The canonical async class `expr` is an instance of, if it is one."""
    session = module.objects.session(expr)
    if session is not None:
        return session.cls if session.is_async else None
    engine = module.objects.engine(expr)
    if engine is not None:
        return async_api.ASYNC_ENGINE if engine.is_async else None
    connection = module.objects.connection(expr)
    if connection is not None and connection.engine.is_async:
        return async_api.ASYNC_CONNECTION
    return None


def _applies(module: ModuleContext, span: async_api.Span) -> bool:
    version = module.project.sqlalchemy_version
    return version is None or span.covers(version)


def _version_note(module: ModuleContext, cls: str, method: str,
                  span: async_api.Span) -> Tuple[str, str]:
    """Where the method is a coroutine, and the assumption made when the version is unknown."""
    if cls == async_api.SQLMODEL_ASYNC_SESSION and method == "exec":
        known = module.project.version("sqlmodel") is not None
        return (f"on {module.project.environment.describe('sqlmodel')}" if known
                else "in every SQLModel release with an AsyncSession"), ""
    if module.project.sqlalchemy_version is not None:
        return f"on {module.project.environment.describe('SQLAlchemy')}", ""
    if span.always:
        return "in every SQLAlchemy release with asyncio support (1.4 and later)", ""
    until = f" and before {span.until}" if span.until else ""
    return (f"from SQLAlchemy {span.since}{until}",
            f" {_capital(module.project.why_unknown('SQLAlchemy'))}, so this assumes a "
            f"release from {span.since}{until}.")


def _capital(clause: str) -> str:
    return clause[:1].upper() + clause[1:]


def _consequence(method: str, misuse: Misuse) -> str:
    if misuse.kind in (awaiting.DISCARDED, awaiting.NEVER_AWAITED):
        lost = ("the commit never happens: the writes are silently lost"
                if method.endswith(".commit") else f"{method}() never runs")
        return (f"The coroutine is dropped with `RuntimeWarning: coroutine '{method}' was never "
                f"awaited` and {lost}.")
    attr = misuse.node.attr if isinstance(misuse.node, ast.Attribute) else ""
    return f"Here {_CONSEQUENCES[misuse.kind].format(attr=attr)}."


def _fix_text(module: ModuleContext, call: ast.Call, misuse: Misuse, in_async: bool) -> str:
    called = module.segment(call) or ast.unparse(call)
    if len(called) > 60 or "\n" in called:
        called = f"{_called(call)}(...)"
    if not in_async:
        return (f"This code is not inside an async def, where it could be awaited: make the "
                f"function `async def`, use `await {called}` and await the function where it "
                f"is called.")
    if isinstance(misuse.node, ast.Attribute) and misuse.variable is None:
        parent = module.scopes.parent(misuse.node)
        called_on = isinstance(parent, ast.Call) and parent.func is misuse.node
        used = misuse.node.attr + ("()" if called_on else "")
        return f"Await it before using the result: `(await {called}).{used}`."
    if misuse.variable is not None:
        return f"Await it where it is assigned: `{misuse.variable} = await {called}`."
    return f"Await it: `await {called}`."


# -- SBA316 --------------------------------------------------------------------------------------
def _is_test_file(path: str) -> bool:
    name = os.path.basename(path)
    return name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")


def _startup_hooks(module: ModuleContext) -> Set[str]:
    """Names of functions that run once at startup or shutdown: lifespans and event handlers."""
    names = {"lifespan"}
    for call in module.calls:
        for kw in call.keywords:
            if kw.arg == "lifespan" and isinstance(kw.value, ast.Name):
                names.add(kw.value.id)
            listed = isinstance(kw.value, (ast.List, ast.Tuple))
            if kw.arg in ("on_startup", "on_shutdown") and listed:
                names.update(e.id for e in kw.value.elts if isinstance(e, ast.Name))
        handler = call.args[1] if len(call.args) == 2 else None
        if _method_name(call) == "add_event_handler" and isinstance(handler, ast.Name):
            names.add(handler.id)
    return names


def _is_startup_hook(function: ast.AsyncFunctionDef, hooks: Set[str]) -> bool:
    if function.name in hooks:
        return True
    return any(isinstance(d, ast.Call) and _method_name(d) == "on_event"
               for d in function.decorator_list)


def _method_name(call: ast.Call) -> Optional[str]:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _over_async_engine(module: ModuleContext, session: Session) -> bool:
    """A sync session bound to an async engine (SBA304's finding, not a blocking call)."""
    origin = session.origin
    if not isinstance(origin, ast.Call):
        return False
    engine = module.objects.engine(argument(origin, 0, "bind"))
    return engine is not None and engine.is_async


def _sync_session(module: ModuleContext, expr: ast.expr) -> Optional[Session]:
    session = module.objects.session(expr)
    if session is None or session.is_async or _over_async_engine(module, session):
        return None
    return session


@dataclass(frozen=True)
class _BlockingCall:
    call: ast.Call
    code: str  # the call as written, e.g. "session.exec()"
    kind: str  # what it talks to, e.g. "a sync sqlmodel.Session"
    opens_session: bool = False  # `with Session(engine)`: I/O only if the session is used


def _blocking_call(module: ModuleContext, call: ast.Call) -> Optional[_BlockingCall]:
    """The synchronous database I/O `call` does, or None."""
    func = call.func
    if isinstance(func, ast.Attribute):
        kind = _blocking_method(module, call, func)
        if kind:
            return _BlockingCall(call, f"{ast.unparse(func)}()", kind)
    parent = module.scopes.parent(call)
    if isinstance(parent, ast.withitem) and parent.context_expr is call:
        session = _sync_session(module, call)
        if session is not None:
            code = f"with {_called(call)}(...)"
            return _BlockingCall(call, code, f"a sync {session.short}", opens_session=True)
    return None


def _blocking_method(module: ModuleContext, call: ast.Call, func: ast.Attribute) -> Optional[str]:
    """What `receiver.method()` does synchronous I/O on, or None."""
    attr = func.attr
    if attr in async_api.SYNC_SESSION_IO:
        session = _sync_session(module, func.value)
        if session is not None:
            return f"a sync {session.short}"
    if attr in async_api.SYNC_CONNECTION_IO:
        connection = module.objects.connection(func.value)
        if connection is not None and not connection.engine.is_async:
            return "a sync Connection"
    if attr in async_api.SYNC_ENGINE_IO:
        engine = module.objects.engine(func.value)
        if engine is not None and not engine.is_async:
            return "a sync Engine"
    if attr in async_api.METADATA_IO:
        engine = module.objects.engine(argument(call, 0, "bind"))
        if engine is not None and not engine.is_async:
            return "DDL on a sync Engine"
    return None


class BlockingDbCallInAsyncDef(DatabaseRule):
    code = "SBA316"
    name = "blocking-db-call-in-async-def"
    severity = Severity.WARNING
    category = Category.DATABASE
    versions = "Any versions: an `async def` endpoint runs on the event loop."
    summary = "synchronous database I/O inside async def blocks the event loop"
    what = ("Inside an `async def`, a call that does synchronous database I/O: a method of a sync "
            "`Session` / `sqlmodel.Session` (`exec`, `execute`, `get`, `commit`, `refresh`, "
            "`query`, ...), `with Session(engine)`, a sync engine's `connect()`/`begin()`, a sync "
            "connection's `execute()`, `metadata.create_all(sync_engine)`. Reported once per "
            "function, at its first such call. Functions handed to `run_in_threadpool`, "
            "`asyncio.to_thread` or `run_sync`, startup/shutdown hooks (lifespan, `on_event`) "
            "and test files are not reported.")
    why = ("Nothing raises: an `async def` endpoint runs on the event loop itself, so while a "
           "sync driver waits for the database no other request, websocket or background task "
           "of the worker makes progress. Under load the app stalls and health checks time out. "
           "FastAPI runs a plain `def` endpoint in its thread pool instead, which is why the "
           "same code works there.")
    how_to_fix = ("Either declare the function with plain `def` (FastAPI runs it in a thread "
                  "pool), or use the async stack throughout: `create_async_engine` with an async "
                  "driver, `AsyncSession`, and `await session.exec(...)`. For one sync call in "
                  "async code use `await run_in_threadpool(fn, ...)`.")
    fix_safety = ("No automatic fix: choosing between `def` and the async stack is a design "
                  "decision.")
    valid = (
        Valid('''
            from typing import Optional

            from fastapi import Depends, FastAPI
            from sqlmodel import Field, Session, SQLModel, create_engine, select

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

            def get_session():
                with Session(engine) as session:
                    yield session

            app = FastAPI()

            @app.on_event("startup")
            async def on_startup():
                SQLModel.metadata.create_all(engine)

            @app.get("/heroes")
            def read_heroes(session: Session = Depends(get_session)):
                return session.exec(select(Hero)).all()
        ''', note="a plain def endpoint runs in the thread pool; startup runs before serving"),
        Valid('''
            from fastapi import FastAPI
            from fastapi.concurrency import run_in_threadpool
            from sqlalchemy import create_engine, text
            from sqlalchemy.orm import Session

            engine = create_engine("postgresql+psycopg://app:secret@db/app")
            app = FastAPI()

            def count_orders() -> int:
                with Session(engine) as session:
                    return session.execute(text("select count(*) from orders")).scalar_one()

            @app.get("/stats")
            async def stats():
                return {"orders": await run_in_threadpool(count_orders)}
        ''', note="the sync work runs in a thread"),
    )
    invalid = (
        Invalid('''
            from typing import Optional

            from fastapi import Depends, FastAPI
            from sqlmodel import Field, Session, SQLModel, create_engine, select

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

            def get_session():
                with Session(engine) as session:
                    yield session

            app = FastAPI()

            @app.get("/heroes")
            async def read_heroes(session: Session = Depends(get_session)):
                return session.exec(select(Hero)).all()  # expect: SBA316
        '''),
        Invalid('''
            import sqlalchemy as sa
            from fastapi import FastAPI

            engine = sa.create_engine("postgresql+psycopg://app:secret@db/app", pool_pre_ping=True)
            app = FastAPI()

            @app.get("/health")
            async def health():
                with engine.connect() as conn:  # expect: SBA316
                    conn.execute(sa.text("select 1"))
                return {"status": "ok"}
        '''),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        if _is_test_file(module.path):
            return
        hooks = _startup_hooks(module)
        found: Dict[ast.AsyncFunctionDef, List[_BlockingCall]] = {}
        for call in module.calls:
            function = module.scopes.enclosing_function(call)
            if not isinstance(function, ast.AsyncFunctionDef) or _is_startup_hook(function, hooks):
                continue
            blocking = _blocking_call(module, call)
            if blocking is not None:
                found.setdefault(function, []).append(blocking)
        for function, calls in sorted(found.items(), key=lambda item: item[0].lineno):
            if all(c.opens_session for c in calls):
                continue  # opened but not queried here (handed to a thread, or unused)
            calls.sort(key=lambda c: (c.call.lineno, c.call.col_offset))
            yield self._finding(module, function, calls)

    def _finding(self, module: ModuleContext, function: ast.AsyncFunctionDef,
                 calls: List[_BlockingCall]) -> Finding:
        first = calls[0]
        more = sorted({c.call.lineno for c in calls[1:]} - {first.call.lineno})
        also = (f" It makes more sync database calls at line{'s' if len(more) > 1 else ''} "
                f"{', '.join(map(str, more))}." if more else "")
        return self.report(
            module, first.call,
            f"{first.code} ({first.kind}) blocks the event loop inside async def {function.name}()",
            f"async def {function.name}() runs on the event loop, and {first.code} talks to the "
            f"database synchronously ({first.kind}): while it waits, no other request is "
            f"served.{also}",
            f"Make {function.name}() a plain def (FastAPI runs it in its thread pool), or move to "
            f"create_async_engine + AsyncSession and await the calls.",
            safe=False,
        )


# -- SBA310 --------------------------------------------------------------------------------------
class LazyLoadInAsyncContext(DatabaseRule):
    code = "SBA310"
    name = "lazy-load-in-async-context"
    severity = Severity.WARNING
    category = Category.DATABASE
    versions = ("SQLAlchemy >= 1.4 async (the error names `await_only()` on 1.4 and 2.0, "
                "`await_()` on 2.1).")
    summary = "a lazy relationship read from an object loaded through an async session"
    references = ("A08",)
    what = ("In an `async def`, reading a relationship attribute (`team.heroes`) of an object "
            "loaded through an async session (`await session.get(Team, id)`, "
            "`await session.exec(select(Team))`, `scalars`, `execute(...).scalars()`) when the "
            "relationship is declared in the same file without an eager `lazy=` (SQLModel "
            "`Relationship()` without `sa_relationship_kwargs={\"lazy\": ...}`, or "
            "`relationship()` without `lazy=`) and the query has no `.options(...)`. Models "
            "defined in other files, `dynamic`/`write_only`/`raise` strategies, "
            "`awaitable_attrs` and `await session.refresh(obj, [\"heroes\"])` are not reported.")
    why = ("A lazy relationship loads on first access, with SQL run synchronously from inside "
           "the attribute read, which async SQLAlchemy cannot do: `sqlalchemy.exc.MissingGreenlet: "
           "greenlet_spawn has not been called; can't call await_() here. Was IO attempted in an "
           "unexpected place?` on SQLAlchemy 2.1 (`await_only()` on 1.4 and 2.0; wrapped in "
           "`sqlalchemy.exc.StatementError: (sqlalchemy.exc.MissingGreenlet) ...` when the "
           "session already holds a connection). It fails at the first request that reads it.")
    how_to_fix = ("Load the relationship with the query: `select(Team).options(selectinload("
                  "Team.heroes))`, `await session.get(Team, id, "
                  "options=[selectinload(Team.heroes)])`; "
                  "or load it explicitly: `await session.refresh(team, [\"heroes\"])`, `await "
                  "team.awaitable_attrs.heroes` (with `AsyncAttrs`); or make it eager where it is "
                  "declared: `Relationship(sa_relationship_kwargs={\"lazy\": \"selectin\"})` / "
                  "`relationship(lazy=\"selectin\")`. `lazy=\"raise\"` turns the next one into a "
                  "clear error.")
    fix_safety = ("No automatic fix: an eager strategy changes the queries of every load of the "
                  "model.")
    valid = (
        Valid('''
            from typing import List, Optional

            from fastapi import Depends, FastAPI
            from sqlalchemy.orm import selectinload
            from sqlmodel import Field, Relationship, SQLModel, select
            from sqlmodel.ext.asyncio.session import AsyncSession

            from .db import get_session

            class Team(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str
                heroes: List["Hero"] = Relationship(back_populates="team")

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str
                team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                team: Optional[Team] = Relationship(back_populates="heroes")

            app = FastAPI()

            @app.get("/teams")
            async def read_teams(session: AsyncSession = Depends(get_session)):
                statement = select(Team).options(selectinload(Team.heroes))
                teams = (await session.exec(statement)).all()
                return [{"name": t.name, "heroes": [h.name for h in t.heroes]} for t in teams]
        ''', note="the relationship is loaded by the query"),
        Valid('''
            from typing import List

            from sqlalchemy import ForeignKey
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

            class Base(DeclarativeBase):
                pass

            class Author(Base):
                __tablename__ = "author"
                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str]
                books: Mapped[List["Book"]] = relationship(back_populates="author", lazy="selectin")

            class Book(Base):
                __tablename__ = "book"
                id: Mapped[int] = mapped_column(primary_key=True)
                title: Mapped[str]
                author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
                author: Mapped[Author] = relationship(back_populates="books")

            async def book_titles(session: AsyncSession, author_id: int) -> List[str]:
                author = await session.get(Author, author_id)
                return [book.title for book in author.books]

            async def author_name(session: AsyncSession, book_id: int) -> str:
                book = await session.get(Book, book_id)
                await session.refresh(book, ["author"])
                return book.author.name
        ''', note="declared eager, or loaded explicitly with refresh()"),
    )
    invalid = (
        Invalid('''
            from typing import List, Optional

            from sqlalchemy import NullPool
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import Field, Relationship, SQLModel
            from sqlmodel.ext.asyncio.session import AsyncSession

            class Team(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str
                heroes: List["Hero"] = Relationship(back_populates="team")

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str
                team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                team: Optional[Team] = Relationship(back_populates="heroes")

            engine = create_async_engine("sqlite+aiosqlite:///./heroes.db", poolclass=NullPool)

            async def create_db_and_tables() -> None:
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)

            async def create_team(name: str) -> int:
                async with AsyncSession(engine) as session:
                    team = Team(name=name)
                    session.add(team)
                    await session.commit()
                    return team.id

            async def rename_team(team_id: int, name: str) -> dict:
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    team = await session.get(Team, team_id)
                    team.name = name
                    await session.commit()
                    return {"name": team.name, "heroes": [h.name for h in team.heroes]}  # expect: SBA310
        ''', raises="sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_() here. Was IO attempted in an unexpected place?",
                run="import asyncio; asyncio.run(create_db_and_tables()); "
                    "asyncio.run(rename_team(asyncio.run(create_team('Preventers')), 'Avengers'))"),
        Invalid('''
            from typing import List, Optional

            from sqlalchemy import ForeignKey, select
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

            class Base(DeclarativeBase):
                pass

            class Author(Base):
                __tablename__ = "author"
                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str]
                books: Mapped[List["Book"]] = relationship(back_populates="author")

            class Book(Base):
                __tablename__ = "book"
                id: Mapped[int] = mapped_column(primary_key=True)
                author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("author.id"))
                author: Mapped[Optional[Author]] = relationship(back_populates="books")

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

            async def author_stats() -> list:
                async with SessionLocal() as session:
                    result = await session.execute(select(Author).order_by(Author.name))
                    return [
                        {"name": author.name, "books": len(author.books)}  # expect: SBA310
                        for author in result.scalars()
                    ]
        '''),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        lazy: Dict[ast.ClassDef, Dict[str, RelationshipDecl]] = {}
        for cls, declared in module_relationships(module).items():
            lazy_ones = {attr: decl for attr, decl in declared.items() if decl.loads_lazily}
            if lazy_ones:
                lazy[cls] = lazy_ones
        if not lazy:
            return
        attributes = {a for rels in lazy.values() for a in rels}
        for function in module.scopes.functions:
            if isinstance(function, ast.AsyncFunctionDef):
                yield from self._check_function(module, function, lazy, attributes)

    def _check_function(self, module: ModuleContext, function: ast.AsyncFunctionDef,
                        lazy: Dict[ast.ClassDef, Dict[str, RelationshipDecl]],
                        attributes: Set[str]) -> Iterator[Finding]:
        reads = _attribute_reads(module, function, attributes)
        if not reads:
            return
        tracker = LoadTracker(module, function, lazy.keys())
        refreshed = None  # the function's refresh calls, looked for when a read needs them
        seen: Set[Tuple[str, str]] = set()
        for read in reads:
            loaded = tracker.held(read.value)
            if loaded is None or loaded.shape != ONE or read.attr not in lazy[loaded.model]:
                continue
            holder = ast.unparse(read.value)
            if (holder, read.attr) in seen:
                continue
            refreshed = _refreshed(function) if refreshed is None else refreshed
            if _is_refreshed(refreshed, holder, read):
                continue
            seen.add((holder, read.attr))
            yield self._finding(module, function, read, holder, lazy[loaded.model][read.attr],
                                loaded)

    def _finding(self, module: ModuleContext, function: ast.AsyncFunctionDef,
                 read: ast.Attribute, holder: str, decl: RelationshipDecl,
                 loaded: Loaded) -> Finding:
        model, attr, via = decl.owner.name, decl.attribute, loaded.via
        declare = ('Relationship(..., sa_relationship_kwargs={"lazy": "selectin"})' if decl.sqlmodel
                   else 'relationship(..., lazy="selectin")')
        option = f"selectinload({model}.{attr})"
        load = (f"options=[{option}] on session.{via}()" if via in ("get", "get_one")
                else f".options({option}) on the select()")
        return self.report(
            module, read,
            f"{model}.{attr} is lazy-loaded from {holder}, loaded by {loaded.session_class}."
            f"{via}() in async def {function.name}()",
            f"{model}.{attr} (line {decl.stmt.lineno}) is declared without an eager lazy= "
            f"strategy, so it loads on first access with synchronous SQL; {holder} comes from "
            f"an async session's {via}() without loader options, so reading .{attr} fails with "
            f"{_greenlet_error(module)}.",
            f"Add {load}, or `await session.refresh({holder}, [\"{attr}\"])` before reading it, "
            f"or declare it eager: {declare}.",
            safe=False,
        )


def _attribute_reads(module: ModuleContext, function: ast.AsyncFunctionDef,
                     attributes: Set[str]) -> List[ast.Attribute]:
    """`x.attr` reads directly in `function` (not in nested functions), in source order."""
    reads = [node for node in walk(function)
             if isinstance(node, ast.Attribute) and node.attr in attributes
             and isinstance(node.ctx, ast.Load)
             and module.scopes.enclosing_function(node) is function]
    return sorted(reads, key=lambda node: (node.lineno, node.col_offset))


def _greenlet_error(module: ModuleContext) -> str:
    version = module.project.sqlalchemy_version
    described = module.project.environment.describe("SQLAlchemy")
    if version is None:
        return ("MissingGreenlet (\"greenlet_spawn has not been called\"; SQLAlchemy is not "
                "installed in the project's interpreter, so the exact text is not known)")
    helper = "await_()" if version >= dialects.SA_2_1 else "await_only()"
    return (f"MissingGreenlet \"greenlet_spawn has not been called; can't call {helper} here\" "
            f"on {described}")


def _refreshed(function: ast.AsyncFunctionDef) -> Dict[str, List[Tuple[int, Optional[Set[str]]]]]:
    """`session.refresh(obj, [names])` calls of `function`: object -> (line, names or None)."""
    found: Dict[str, List[Tuple[int, Optional[Set[str]]]]] = {}
    for node in walk(function):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "refresh" and node.args):
            continue
        names = argument(node, 1, "attribute_names")
        if names is not None:
            holder = ast.unparse(node.args[0])
            found.setdefault(holder, []).append((node.lineno, _string_items(names)))
    return found


def _string_items(expr: ast.expr) -> Optional[Set[str]]:
    if not isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return None
    items = {e.value for e in expr.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return items if len(items) == len(expr.elts) else None


def _is_refreshed(refreshed: Dict[str, List[Tuple[int, Optional[Set[str]]]]], holder: str,
                  read: ast.Attribute) -> bool:
    """Whether `holder.attr` was loaded by a refresh that names it (or names unknown) before."""
    return any(line <= read.lineno and (names is None or read.attr in names)
               for line, names in refreshed.get(holder, ()))
