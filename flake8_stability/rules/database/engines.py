"""Engines and the drivers their URLs load: SBA301, SBA302, SBA303."""
from __future__ import annotations

from typing import Iterator

from ...analysis.engines import EngineCall
from ...analysis.urls import DatabaseURL, redact
from ...context import ModuleContext
from ...findings import Category, Finding, Severity
from ...knowledge import dialects
from ..base import Invalid, Valid
from . import DatabaseRule


def _origin(url: DatabaseURL) -> str:
    return f" The URL is {url.value.origin}." if url.value.origin else ""


def _with_scheme(url: DatabaseURL, scheme: str) -> str:
    """The URL as shown to the user, with its scheme replaced."""
    return scheme + url.shown()[len(url.scheme):]


class SyncEngineWithAsyncDriver(DatabaseRule):
    code = "SBA301"
    name = "sync-engine-with-async-driver"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = "SQLAlchemy >= 1.4 (the asyncio extension)."
    summary = "create_engine() given a URL with an async driver"
    references = ("A02",)
    what = ("A synchronous engine (`create_engine`, also `sqlmodel.create_engine`) whose URL names "
            "an async driver such as `asyncpg`, `aiosqlite`, `aiomysql` or `asyncmy`.")
    why = ("The engine is created, but its first connection runs the async driver from sync code: "
           "`sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call "
           "await_only() here`, at the first query or at `create_all` during startup.")
    how_to_fix = ("In async code create the engine with `create_async_engine`. For sync code "
                  "(scripts, Alembic's offline mode) use a sync driver in the URL: "
                  "`postgresql+psycopg://`, `sqlite://`.")
    fix_safety = "Unsafe: switching the engine to async changes every call site that uses it."
    valid = (
        Valid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
        '''),
        Valid('''
            from sqlmodel import create_engine

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
        '''),
        Valid('''
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import AsyncEngine

            engine = AsyncEngine(create_engine("postgresql+asyncpg://app:secret@db/app"))
        ''', note="wrapped in AsyncEngine, the engine is async"),
    )
    invalid = (
        Invalid('''
            from sqlmodel import Session, create_engine, text

            engine = create_engine("sqlite+aiosqlite:///./app.db")  # expect: SBA301

            def ping():
                with Session(engine) as session:
                    session.exec(text("select 1"))
        ''', raises="sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called", run="ping()"),
        Invalid('''
            import sqlalchemy as sa

            DATABASE_URL = "postgresql+asyncpg://app:secret@db/app"
            engine = sa.create_engine(DATABASE_URL, pool_pre_ping=True)  # expect: SBA301
        '''),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for engine in module.engine_calls:
            url = engine.url
            if engine.is_async or url is None or url.driver not in dialects.ASYNC_DRIVERS:
                continue
            sync_driver = dialects.SYNC_DRIVER_FOR.get(url.dialect)
            yield self.report(
                module, engine.call,
                f"{engine.function}() is sync but its URL {url.shown()!r} loads the async driver "
                f"{url.driver}",
                f"A sync engine drives {url.driver} without an event loop; the first connection "
                f"fails with MissingGreenlet.{_origin(url)}",
                f"Use create_async_engine({url.shown()!r}) with AsyncSession in async code, or a "
                f"sync URL such as {_with_scheme(url, url.dialect + (f'+{sync_driver}' if sync_driver else ''))!r} "
                f"for sync code.",
                safe=False,
            )


class AsyncEngineWithSyncDriver(DatabaseRule):
    code = "SBA302"
    name = "async-engine-with-sync-driver"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = "SQLAlchemy >= 1.4 (the asyncio extension)."
    summary = "create_async_engine() given a URL whose driver is not async"
    references = ("A01",)
    codemod = "async-driver-url"
    what = ("`create_async_engine` (or `AsyncEngine(create_engine(...))`) with a URL that loads a "
            "synchronous DBAPI driver: `sqlite://`, `postgresql+psycopg2://`, `mysql+pymysql://`, "
            "or a bare `postgresql://` on SQLAlchemy < 2.1, where it means psycopg2.")
    why = ("SQLAlchemy checks the driver when the engine is created: `sqlalchemy.exc."
           "InvalidRequestError: The asyncio extension requires an async driver to be used. The "
           "loaded 'pysqlite' is not async.` A module-level engine takes the whole app down at import.")
    how_to_fix = ("Name an async driver in the URL: `postgresql+asyncpg://` (or `+psycopg://` on "
                  "SQLAlchemy >= 2.0), `sqlite+aiosqlite://`, `mysql+aiomysql://`, and depend on "
                  "that driver.")
    fix_safety = ("Safe: the `async-driver-url` codemod changes only the scheme of the URL "
                  "literal, in the engine call or in a module constant (or `os.getenv` default) "
                  "of the same file that nothing else in the file reads; a URL from settings or "
                  "another module is left to you. The new driver must be installed (SBA204 "
                  "checks that).")
    valid = (
        Valid('''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///./app.db", echo=False)
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
        '''),
        Valid('''
            import os

            from sqlalchemy.ext import asyncio as sa_async

            engine = sa_async.create_async_engine(os.environ["DATABASE_URL"])
        ''', note="a URL only known at run time is not judged",
              env={"DATABASE_URL": "postgresql+asyncpg://app:secret@db/app"}),
        Valid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+psycopg://app:secret@db/app")
        ''', note="psycopg 3 has an async dialect, picked by create_async_engine"),
    )
    invalid = (
        Invalid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("sqlite:///./app.db")  # expect: SBA302
        ''', raises="sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async driver to be used. The loaded 'pysqlite' is not async."),
        Invalid('''
            from pydantic_settings import BaseSettings
            from sqlalchemy.ext import asyncio as sa_async

            class Settings(BaseSettings):
                database_url: str = "sqlite:///./dev.db"

            settings = Settings()
            engine = sa_async.create_async_engine(settings.database_url)  # expect: SBA302
        ''', raises="sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async driver"),
        Invalid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            DB_URL = "postgresql+psycopg2://app:secret@db/app"

            def make_engine():
                return create_async_engine(DB_URL, pool_size=5)  # expect: SBA302
        ''', raises="sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async driver to be used. The loaded 'psycopg2' is not async.",
            run="make_engine()"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        sa_version = module.project.sqlalchemy_version
        for engine in module.engine_calls:
            url = engine.url
            if not engine.is_async or url is None or url.dialect not in dialects.KNOWN_DIALECTS:
                continue
            driver = url.effective_driver(sa_version)
            if driver is None:
                yield from self._unknown_version(module, engine, url)
                continue
            if dialects.is_async_capable(driver, sa_version) is not False:
                continue
            yield self._finding(module, engine, url, driver, self.severity_at(module, engine.call))

    def _finding(self, module: ModuleContext, engine: EngineCall, url: DatabaseURL, driver: str,
                 severity: Severity, assumption: str = "") -> Finding:
        sa = module.project.environment.describe("SQLAlchemy")
        implied = "" if url.driver else f" (a bare {url.dialect}:// means {driver} on {sa})"
        target = f"{url.dialect}+{dialects.ASYNC_DRIVER_FOR[url.dialect]}"
        return self.report(
            module, engine.call,
            f"{engine.function}() with {url.shown()!r}: driver {driver} is not async",
            f"The async engine needs an async DBAPI driver, but the URL loads {driver}{implied}; "
            f"SQLAlchemy raises InvalidRequestError \"The asyncio extension requires an async "
            f"driver to be used. The loaded '{driver}' is not async.\" when the engine is "
            f"created.{_origin(url)}{assumption}",
            f"Use {_with_scheme(url, target)!r} and depend on "
            f"{dialects.DRIVER_MODULES.get(dialects.ASYNC_DRIVER_FOR[url.dialect], 'the driver')}.",
            severity=severity, data={"scheme": target},
        )

    def _unknown_version(self, module: ModuleContext, engine: EngineCall,
                         url: DatabaseURL) -> Iterator[Finding]:
        if url.dialect != "postgresql":
            return
        yield self._finding(
            module, engine, url, "psycopg2", Severity.WARNING,
            f" As {module.project.why_unknown('SQLAlchemy')}, this assumes SQLAlchemy < 2.1 "
            "(on 2.1 a bare postgresql:// loads psycopg, which is async-capable).",
        )


class PostgresSchemeAlias(DatabaseRule):
    code = "SBA303"
    name = "postgres-scheme-alias"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = "SQLAlchemy >= 1.4, which removed the `postgres` alias."
    summary = "database URL uses the removed `postgres://` scheme"
    references = ("A14",)
    codemod = "postgres-scheme"
    what = ("An engine URL that starts with `postgres://` (Heroku, Render and Railway hand these "
            "out) instead of `postgresql://`.")
    why = ("SQLAlchemy removed the `postgres` alias in 1.4: `sqlalchemy.exc.NoSuchModuleError: "
           "Can't load plugin: sqlalchemy.dialects:postgres` when the engine is created.")
    how_to_fix = ("Write `postgresql+asyncpg://` (async) or `postgresql://` (sync). For URLs from "
                  "the environment, normalise them in a settings validator: "
                  "`url.replace(\"postgres://\", \"postgresql+asyncpg://\", 1)`.")
    fix_safety = ("Safe: the `postgres-scheme` codemod changes only the scheme of the URL literal "
                  "(in the engine call, or a module constant or `os.getenv` default of the same "
                  "file) to the one the finding names; a URL from the environment needs the "
                  "settings validator by hand.")
    valid = (
        Valid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
        '''),
        Valid('''
            import os

            from sqlalchemy.ext.asyncio import create_async_engine

            url = os.getenv("DATABASE_URL", "postgres://app:secret@db/app").replace(
                "postgres://", "postgresql+asyncpg://", 1
            )
            engine = create_async_engine(url)
        ''', note="the common normalisation of a platform URL"),
    )
    invalid = (
        Invalid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgres://app:secret@db/app")  # expect: SBA303
        ''', raises="sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:postgres"),
        Invalid('''
            import os

            from sqlmodel import create_engine

            DATABASE_URL = os.getenv("DATABASE_URL", "postgres://app:secret@localhost/app")
            engine = create_engine(DATABASE_URL)  # expect: SBA303
        ''', raises="sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:postgres"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        sa_version = module.project.sqlalchemy_version
        if sa_version is not None and sa_version < dialects.SA_1_4:
            return
        for engine in module.engine_calls:
            url = engine.url
            if url is None or url.dialect != "postgres":
                continue
            driver = url.driver or (dialects.ASYNC_DRIVER_FOR["postgresql"] if engine.is_async else None)
            scheme = "postgresql" + (f"+{driver}" if driver else "")
            yield self.report(
                module, engine.call,
                f"{engine.function}() with {url.shown()!r}: the postgres:// scheme was removed "
                f"in SQLAlchemy 1.4",
                f"SQLAlchemy looks up a dialect named 'postgres' and fails with NoSuchModuleError "
                f"\"Can't load plugin: sqlalchemy.dialects:postgres\" "
                f"({module.project.environment.describe('SQLAlchemy')}).{_origin(url)}",
                f"Use {redact(_with_scheme(url, scheme))!r}; normalise URLs that come from the "
                f"environment with .replace(\"postgres://\", \"{scheme}://\", 1).",
                severity=self.severity_at(module, engine.call), data={"scheme": scheme},
            )
