"""Engine options that the pool, the driver or SQLAlchemy reject: SBA311, SBA312, SBA313."""
from __future__ import annotations

import ast
import json
import re
from typing import FrozenSet, Iterator, Optional, Tuple

from ...analysis.engines import EngineCall
from ...analysis.fields import SettingsField, allowed_types, settings_field
from ...analysis.mappings import KnownDict, known_dict
from ...analysis.pools import EnginePool, engine_pool
from ...analysis.url_query import query_options
from ...analysis.urls import DatabaseURL
from ...context import ModuleContext, argument
from ...findings import Category, Finding, Severity
from ...knowledge import dialects
from ...knowledge import names as N
from ..base import Invalid, Valid
from . import DatabaseRule

# Server dialects whose drivers reject an unknown connect() keyword. mssql is left out: pyodbc
# writes unknown keywords into the ODBC connection string, and what the driver then does varies.
_SERVER_DIALECTS = frozenset({"postgresql", "mysql", "mariadb", "oracle"})
_SSLMODE_IN_QUERY = re.compile(r"([?&])sslmode=")
# What each driver raises at the first connection, checked with SQLAlchemy 1.4.54 to 2.1.9.
_UNEXPECTED = "TypeError: connect() got an unexpected keyword argument 'check_same_thread'"
_PSYCOPG = ("sqlalchemy.exc.ProgrammingError: (psycopg.ProgrammingError) invalid connection "
            "option \"check_same_thread\"")
_CHECK_SAME_THREAD_ERRORS = {
    "asyncpg": _UNEXPECTED,
    "pg8000": _UNEXPECTED,
    "aiomysql": _UNEXPECTED,
    "oracledb": _UNEXPECTED,
    "pymysql": "TypeError: Connection.__init__() got an unexpected keyword argument "
               "'check_same_thread'",
    "psycopg2": "sqlalchemy.exc.ProgrammingError: (psycopg2.ProgrammingError) invalid dsn: "
                "invalid connection option \"check_same_thread\"",
    "psycopg": _PSYCOPG,
    "psycopg_async": _PSYCOPG,
}
# pydantic_core's own URL classes, which pydantic's URL types build on.
_URL_TYPES = N.PYDANTIC_URL_TYPES | {"pydantic_core.Url", "pydantic_core.MultiHostUrl"}


def _origin(url: DatabaseURL) -> str:
    return f" The URL is {url.value.origin}." if url.value.origin else ""


def _listed(names: Tuple[str, ...]) -> str:
    return ", ".join(names)


class PoolOptionInvalidForDialect(DatabaseRule):
    code = "SBA311"
    name = "pool-option-invalid-for-dialect"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = ("Any SQLAlchemy version for NullPool, StaticPool, AssertionPool and "
                "SingletonThreadPool (in-memory SQLite); file SQLite only on SQLAlchemy 1.x, whose"
                " default is NullPool (QueuePool from 2.0).")
    summary = "pool keyword arguments that the engine's pool class does not take"
    references = ("A10",)
    codemod = "drop-invalid-pool-args"
    what = ("`create_engine` / `create_async_engine` given `pool_size`, `max_overflow`, "
            "`pool_timeout` or `pool_use_lifo` while its pool is `NullPool`, `StaticPool` or "
            "`AssertionPool` (they take none of them) or `SingletonThreadPool` (takes only "
            "`pool_size`). The pool is the explicit `poolclass=`, else the dialect's default: "
            "in-memory SQLite gets `SingletonThreadPool` (`StaticPool` with aiosqlite), file "
            "SQLite gets `NullPool` on SQLAlchemy 1.x and `QueuePool` from 2.0, server databases "
            "get `QueuePool`.")
    why = ("`create_engine` hands the pool only the arguments its class takes and rejects the "
           "rest when the engine is created: `TypeError: Invalid argument(s) 'pool_size',"
           "'max_overflow' sent to create_engine(), using configuration "
           "SQLiteDialect_pysqlite/NullPool/Engine.  Please check that the keyword arguments are "
           "appropriate for this combination of components.` A module-level engine stops the app "
           "at import.")
    how_to_fix = ("Drop the arguments the pool does not take. When one code path serves SQLite and "
                  "a server database, size the pool only for the server: `pool_kwargs = {} if "
                  "url.startswith(\"sqlite\") else {\"pool_size\": 10, \"max_overflow\": 20}`, "
                  "then `create_engine(url, **pool_kwargs)`. `pool_pre_ping` and `pool_recycle` "
                  "are taken by every pool.")
    fix_safety = ("Safe: the call cannot succeed with these arguments, and without them the engine "
                  "gets the same pool class. The `drop-invalid-pool-args` codemod removes exactly "
                  "the rejected keywords from the call; arguments passed with `**` and findings "
                  "whose pool class was assumed (SQLAlchemy version unknown) are left alone.")
    valid = (
        Valid('''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine(
                "postgresql+asyncpg://app:secret@db/app",
                pool_size=10,
                max_overflow=20,
                pool_timeout=30,
                pool_pre_ping=True,
            )
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
        '''),
        Valid('''
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.pool import NullPool

            # PgBouncer pools the connections; the app keeps none.
            engine = create_async_engine(
                "postgresql+asyncpg://app:secret@pgbouncer:6432/app",
                poolclass=NullPool,
                pool_pre_ping=True,
                pool_recycle=1800,
            )
        ''', note="pool_pre_ping and pool_recycle are taken by every pool"),
        Valid('''
            import os

            from sqlmodel import create_engine

            DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///./app.db")
            pool_kwargs = {} if DATABASE_URL.startswith("sqlite") else {"pool_size": 10, "max_overflow": 20}
            engine = create_engine(DATABASE_URL, **pool_kwargs)
        ''', note="pool sizing only for server databases"),
        Valid('''
            from sqlmodel import create_engine

            engine = create_engine(
                "sqlite:///./app.db", connect_args={"check_same_thread": False}, pool_size=5
            )
        ''', note="from SQLAlchemy 2.0 a file SQLite database uses QueuePool, which takes pool_size"),
    )
    invalid = (
        Invalid('''
            from sqlmodel import create_engine

            # The test engine copied the production pool settings.
            engine = create_engine("sqlite://", pool_size=5, max_overflow=10, pool_pre_ping=True)  # expect: SBA311
        ''', raises="TypeError: Invalid argument(s) 'max_overflow' sent to create_engine(), using configuration SQLiteDialect_pysqlite/SingletonThreadPool/Engine.  Please check that the keyword arguments are appropriate for this combination of components."),
        Invalid('''
            import sqlalchemy as sa
            from sqlalchemy.ext.asyncio import create_async_engine

            DATABASE_URL = "postgresql+asyncpg://app:secret@pgbouncer:6432/app"

            engine = create_async_engine(DATABASE_URL, poolclass=sa.pool.NullPool, pool_size=20, max_overflow=0)  # expect: SBA311
        ''', raises="TypeError: Invalid argument(s) 'pool_size','max_overflow' sent to create_engine(), using configuration PGDialect_asyncpg/NullPool/Engine."),
        Invalid('''
            from sqlalchemy.ext.asyncio import create_async_engine


            def make_test_engine():
                return create_async_engine("sqlite+aiosqlite:///:memory:", pool_size=1, pool_timeout=5)  # expect: SBA311
        ''', raises="TypeError: Invalid argument(s) 'pool_size','pool_timeout' sent to create_engine(), using configuration SQLiteDialect_aiosqlite/StaticPool/Engine.", run="make_test_engine()", note="inside a function: fails when the function runs"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for engine in module.engine_calls:
            pool = engine_pool(module, engine)
            if pool is not None and pool.rejected(engine):
                yield self._finding(module, engine, pool)

    def _finding(self, module: ModuleContext, engine: EngineCall, pool: EnginePool) -> Finding:
        rejected = pool.rejected(engine)
        severity, assumption = self.severity_at(module, engine.call), ""
        if not pool.explicit and module.project.sqlalchemy_version is None:
            severity = Severity.WARNING
            assumption = (f" As {module.project.why_unknown('SQLAlchemy')}, this assumes "
                          f"SQLAlchemy 1.4 to 2.1, where this URL gets {pool.pool_class}.")
        accepted = dialects.POOL_ACCEPTS[pool.pool_class]
        takes = (f"takes only {_listed(tuple(sorted(accepted)))}" if accepted
                 else f"takes none of {_listed(tuple(sorted(dialects.QUEUE_POOL_ARGS)))}")
        quoted = ",".join(f"'{name}'" for name in rejected)
        return self.report(
            module, engine.call,
            f"{engine.function}() passes {_listed(rejected)} to {pool.pool_class}, which does not "
            f"take {'it' if len(rejected) == 1 else 'them'}",
            f"{_pool_source(engine, pool)}. {pool.pool_class} {takes}, so {engine.function}() "
            f"raises TypeError \"Invalid argument(s) {quoted} sent to create_engine()\" when the "
            f"engine is created ({module.project.environment.describe('SQLAlchemy')}).{assumption}",
            f"Remove {_listed(tuple(f'{name}=' for name in rejected))} from the "
            f"{engine.function}() call{_pool_advice(pool)}.",
            severity=severity, data={"arguments": ",".join(rejected)},
        )


def _pool_source(engine: EngineCall, pool: EnginePool) -> str:
    if pool.explicit or engine.url is None:
        return f"The engine is created with poolclass={pool.pool_class}"
    url = engine.url
    return (f"{url.shown()!r} gets the dialect's default pool, {pool.pool_class}: {pool.reason}"
            f"{f' ({url.value.origin})' if url.value.origin else ''}")


def _pool_advice(pool: EnginePool) -> str:
    if pool.pool_class == "NullPool" and not pool.explicit:
        return ("; SQLAlchemy 2.0 and later pool file SQLite databases with QueuePool, which "
                "takes them")
    if pool.pool_class in ("NullPool", "StaticPool", "AssertionPool"):
        return f"; {pool.pool_class} keeps no sized set of connections, so it has nothing to size"
    return f"; {pool.pool_class} keeps one connection per thread and is sized by pool_size alone"


class ConnectArgInvalidForDriver(DatabaseRule):
    code = "SBA312"
    name = "connect-arg-invalid-for-driver"
    severity = Severity.RUNTIME
    category = Category.DATABASE
    versions = ("Any SQLAlchemy version: the driver (asyncpg, psycopg2, psycopg 3) rejects the "
                "option.")
    summary = "connect arguments or URL options the database driver does not take"
    references = ("A11", "A12")
    codemod = "fix-connect-args"
    what = ("`connect_args={\"check_same_thread\": False}` (a sqlite3 option from the tutorials) "
            "on an engine whose URL is PostgreSQL, MySQL, MariaDB or Oracle; and libpq's "
            "`sslmode` given to asyncpg, in the URL's query string (`?sslmode=require`, as Neon, "
            "Supabase and RDS hand out) or in `connect_args`. `connect_args` is read from a dict "
            "literal, `dict(...)`, or a module constant holding one.")
    why = ("SQLAlchemy passes `connect_args`, and for asyncpg the URL's query options, to the "
           "driver's `connect()` as keyword arguments. The engine is created, and the first "
           "connection (often `create_all` at startup) fails: asyncpg with `TypeError: connect() "
           "got an unexpected keyword argument 'sslmode'` (or `'check_same_thread'`), psycopg2 "
           "with `sqlalchemy.exc.ProgrammingError: (psycopg2.ProgrammingError) invalid dsn: "
           "invalid connection option \"check_same_thread\"`, psycopg 3 with `(psycopg."
           "ProgrammingError) invalid connection option \"check_same_thread\"`.")
    how_to_fix = ("Pass `check_same_thread` only to SQLite: `connect_args={\"check_same_thread\": "
                  "False} if url.startswith(\"sqlite\") else {}`. For asyncpg write `ssl=` where "
                  "libpq takes `sslmode=`, with the same value: `?ssl=require` or "
                  "`connect_args={\"ssl\": \"require\"}`.")
    fix_safety = ("Safe: the server driver never took `check_same_thread`, and asyncpg's `ssl` "
                  "takes libpq's `sslmode` values (`disable`, `allow`, `prefer`, `require`, "
                  "`verify-ca`, `verify-full`) with the same meaning. The `fix-connect-args` "
                  "codemod removes the `check_same_thread` entry from the `connect_args` dict (at "
                  "the call, `dict(...)`, or the module constant it names) and renames `sslmode` "
                  "to `ssl` in the dict or in the URL's string literal; a URL read from the "
                  "environment or settings is left to change there.")
    valid = (
        Valid('''
            import os

            from sqlmodel import create_engine

            DATABASE_URL = os.environ["DATABASE_URL"]
            connect_args = {"check_same_thread": False} if DATABASE_URL.startswith("sqlite") else {}
            engine = create_engine(DATABASE_URL, connect_args=connect_args)
        ''', note="the tutorial option, only for SQLite",
              env={"DATABASE_URL": "sqlite:///./app.db"}),
        Valid('''
            from sqlmodel import create_engine

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
        '''),
        Valid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(
                "postgresql+asyncpg://app:secret@ep-quiet-sun.eu-central-1.aws.neon.tech/app?ssl=require",
                connect_args={"server_settings": {"application_name": "api"}},
            )
        '''),
        Valid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+psycopg://app:secret@db/app?sslmode=require")
        ''', note="psycopg is libpq-based and takes sslmode"),
    )
    invalid = (
        Invalid('''
            import asyncio

            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app:secret@ep-quiet-sun.eu-central-1.aws.neon.tech/app?sslmode=require")  # expect: SBA312


            async def ping():
                async with engine.connect() as conn:
                    await conn.execute(text("select 1"))
        ''', raises="TypeError: connect() got an unexpected keyword argument 'sslmode'", run="asyncio.run(ping())"),
        Invalid('''
            import asyncio

            from sqlmodel import SQLModel
            from sqlalchemy.ext.asyncio import create_async_engine

            # The SQLite tutorial's option, kept after the move to PostgreSQL.
            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app", connect_args={"check_same_thread": False})  # expect: SBA312


            async def init_db():
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
        ''', raises="TypeError: connect() got an unexpected keyword argument 'check_same_thread'", run="asyncio.run(init_db())"),
        Invalid('''
            from sqlalchemy import create_engine

            DATABASE_URL = "postgresql+psycopg2://app:secret@localhost/app"
            engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})  # expect: SBA312
        ''', raises='sqlalchemy.exc.ProgrammingError: (psycopg2.ProgrammingError) invalid dsn: invalid connection option "check_same_thread"',
            run="engine.connect()", note="psycopg2 rejects the option before it connects"),
        Invalid('''
            import asyncio

            from sqlmodel import SQLModel
            from sqlalchemy.ext.asyncio import create_async_engine

            CONNECT_ARGS = {"sslmode": "require", "timeout": 10}
            engine = create_async_engine("postgresql+asyncpg://app:secret@db/app", connect_args=CONNECT_ARGS)  # expect: SBA312


            async def init_db():
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
        ''', raises="TypeError: connect() got an unexpected keyword argument 'sslmode'", run="asyncio.run(init_db())", note="a dict held in a module constant"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for engine in module.engine_calls:
            url = engine.url
            if url is None:
                continue
            given = engine.keyword("connect_args")
            args = known_dict(module, given.value) if given is not None else None
            server = url.dialect in _SERVER_DIALECTS
            if server and args is not None and "check_same_thread" in args.keys:
                yield self._check_same_thread(module, engine, url, args)
            if engine.is_async and url.driver == "asyncpg":
                yield from self._asyncpg_sslmode(module, engine, url, args)

    def _asyncpg_sslmode(self, module: ModuleContext, engine: EngineCall, url: DatabaseURL,
                         args: Optional[KnownDict]) -> Iterator[Finding]:
        options = query_options(module, url, engine.url_expr)
        if "sslmode" in options:
            yield self._sslmode_in_url(module, engine, url, options["sslmode"])
        if args is not None and "sslmode" in args.keys:
            yield self._sslmode_in_connect_args(module, engine, args)

    def _check_same_thread(self, module: ModuleContext, engine: EngineCall, url: DatabaseURL,
                           args: KnownDict) -> Finding:
        driver = url.effective_driver(module.project.sqlalchemy_version)
        error = _CHECK_SAME_THREAD_ERRORS.get(driver or "")
        name = driver or url.dialect
        fails = f"fails with {error}" if error else f"is rejected by the {name} driver"
        source = f" from {args.origin}" if args.origin else ""
        return self.report(
            module, engine.call,
            f"{engine.function}({url.shown()!r}) passes connect_args check_same_thread, an option "
            f"only SQLite's driver takes",
            f"check_same_thread is a sqlite3.connect() option. SQLAlchemy passes connect_args"
            f"{source} to the {name} driver's connect(), so the first connection "
            f"{fails} ({module.project.environment.describe('SQLAlchemy')}).{_origin(url)}",
            f"Remove \"check_same_thread\" from {args.origin or 'connect_args'}; if this code also "
            f"runs on SQLite, pass it only there: connect_args={{\"check_same_thread\": False}} if "
            f"url.startswith(\"sqlite\") else {{}}.",
            data={"option": "check_same_thread", "where": "connect_args"},
        )

    def _sslmode_in_url(self, module: ModuleContext, engine: EngineCall, url: DatabaseURL,
                        value: Optional[str]) -> Finding:
        fixed = ""
        if url.value.complete:
            fixed = f": {_SSLMODE_IN_QUERY.sub(_ssl_option, url.shown())!r}"
        return self.report(
            module, engine.call,
            f"{engine.function}({url.shown()!r}) gives asyncpg the URL option sslmode, which "
            f"asyncpg calls ssl",
            f"SQLAlchemy's asyncpg dialect passes the URL's query options to asyncpg.connect() as "
            f"keyword arguments, and asyncpg has no sslmode (libpq's name for it): the first "
            f"connection fails with TypeError: connect() got an unexpected keyword argument "
            f"'sslmode' ({_versions(module)}).{_origin(url)}",
            f"Write ssl={value or '<same value>'} instead of sslmode={value or '...'} in the URL"
            f"{fixed}.",
            data={"option": "sslmode", "where": "url", "new": "ssl"},
        )

    def _sslmode_in_connect_args(self, module: ModuleContext, engine: EngineCall,
                                 args: KnownDict) -> Finding:
        value = args.keys["sslmode"]
        shown = "<same value>"
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            shown = json.dumps(value.value)
        source = f" from {args.origin}" if args.origin else ""
        return self.report(
            module, engine.call,
            f"{engine.function}() passes connect_args sslmode to asyncpg, which calls it ssl",
            f"SQLAlchemy passes connect_args{source} to asyncpg.connect() as keyword arguments, "
            f"and asyncpg has no sslmode (libpq's name for it): the first connection fails with "
            f"TypeError: connect() got an unexpected keyword argument 'sslmode' "
            f"({_versions(module)}).",
            f"In {args.origin or 'connect_args'}, write \"ssl\": {shown} instead of "
            f"\"sslmode\": {shown}.",
            data={"option": "sslmode", "where": "connect_args", "new": "ssl"},
        )


def _ssl_option(match: "re.Match[str]") -> str:
    return match.group(1) + "ssl="


def _versions(module: ModuleContext) -> str:
    environment = module.project.environment
    return f"{environment.describe('SQLAlchemy')}, {environment.describe('asyncpg')}"


class DsnObjectAsUrl(DatabaseRule):
    code = "SBA313"
    name = "dsn-object-as-url"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = "pydantic >= 2.0: URL types are no longer `str`."
    summary = "a pydantic URL object (`PostgresDsn`, `AnyUrl`, ...) given as an engine URL"
    references = ("A15",)
    codemod = "str-dsn"
    what = ("`create_engine`, `create_async_engine` or `make_url` given a settings field whose "
            "annotation is a pydantic URL type (`PostgresDsn`, `AnyUrl`, `MySQLDsn`, ..., also "
            "inside `Optional[...]` or `Annotated[...]`), with pydantic 2 installed.")
    why = ("On pydantic 2 URL types are objects, no longer `str` subclasses as on pydantic 1, and "
           "SQLAlchemy accepts only a string or its own `URL`: `sqlalchemy.exc.ArgumentError: "
           "Expected string or URL object, got PostgresDsn('postgresql+asyncpg://u:p@h/db')` "
           "(`got MultiHostUrl(...)` or `Url(...)` on pydantic 2.9 and earlier) when the engine "
           "is created, at import for a module-level engine.")
    how_to_fix = ("Convert the field where SQLAlchemy gets it: "
                  "`create_async_engine(str(settings.database_url))`; "
                  "`settings.database_url.unicode_string()` works too.")
    fix_safety = ("Safe: the `str-dsn` codemod wraps the argument in `str(...)` (not when the "
                  "file rebinds `str`); `str()` returns the URL text pydantic validated, as the "
                  "settings hold it "
                  "(already normalised: `sqlite:///./app.db` reads back as `sqlite:///app.db`, "
                  "the same relative file).")
    valid = (
        Valid('''
            from pydantic import PostgresDsn
            from pydantic_settings import BaseSettings
            from sqlalchemy.ext.asyncio import create_async_engine


            class Settings(BaseSettings):
                database_url: PostgresDsn = "postgresql+asyncpg://app:secret@db/app"


            settings = Settings()
            engine = create_async_engine(str(settings.database_url), pool_pre_ping=True)
        '''),
        Valid('''
            from pydantic_settings import BaseSettings, SettingsConfigDict
            from sqlalchemy.ext.asyncio import create_async_engine


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env")

                database_url: str = "sqlite+aiosqlite:///./app.db"


            settings = Settings()
            engine = create_async_engine(settings.database_url)
        ''', note="a plain str field"),
        Valid('''
            from pydantic import PostgresDsn, computed_field
            from pydantic_core import MultiHostUrl
            from pydantic_settings import BaseSettings
            from sqlmodel import create_engine


            class Settings(BaseSettings):
                POSTGRES_SERVER: str = "localhost"
                POSTGRES_USER: str = "postgres"
                POSTGRES_PASSWORD: str = ""
                POSTGRES_DB: str = "app"

                @computed_field
                @property
                def SQLALCHEMY_DATABASE_URI(self) -> PostgresDsn:
                    return MultiHostUrl.build(
                        scheme="postgresql+psycopg",
                        username=self.POSTGRES_USER,
                        password=self.POSTGRES_PASSWORD,
                        host=self.POSTGRES_SERVER,
                        path=self.POSTGRES_DB,
                    )


            settings = Settings()
            engine = create_engine(str(settings.SQLALCHEMY_DATABASE_URI))
        ''', note="the full-stack FastAPI template"),
    )
    invalid = (
        Invalid('''
            from pydantic import PostgresDsn
            from pydantic_settings import BaseSettings
            from sqlalchemy.ext.asyncio import create_async_engine


            class Settings(BaseSettings):
                DATABASE_URL: PostgresDsn = "postgresql+asyncpg://app:secret@db/app"


            settings = Settings()
            engine = create_async_engine(settings.DATABASE_URL, echo=False)  # expect: SBA313
        ''', raises="sqlalchemy.exc.ArgumentError: Expected string or URL object, got PostgresDsn('postgresql+asyncpg://app:secret@db/app')"),
        Invalid('''
            from functools import lru_cache
            from typing import Optional

            from pydantic import AnyUrl
            from pydantic_settings import BaseSettings, SettingsConfigDict
            from sqlalchemy import make_url
            from sqlmodel import create_engine


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="APP_")

                database_url: Optional[AnyUrl] = "sqlite:///./app.db"


            @lru_cache
            def get_settings() -> Settings:
                return Settings()


            def make_engine():
                url = make_url(get_settings().database_url)  # expect: SBA313
                return create_engine(url)
        ''', raises="sqlalchemy.exc.ArgumentError: Expected string or URL object, got AnyUrl('sqlite:///app.db')", run="make_engine()", note="inside a function: fails when the function runs"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        pydantic = module.project.pydantic_version
        if pydantic is not None and pydantic.major < 2:
            return  # pydantic 1 URL types are str subclasses
        for call, function, expr in _url_arguments(module):
            field = settings_field(module, expr) if expr is not None else None
            types = allowed_types(module, field.annotation) if field is not None else None
            if field is not None and types and types <= _URL_TYPES:
                yield self._finding(module, call, function, expr, field, types)

    def _finding(self, module: ModuleContext, call: ast.Call, function: str, expr: ast.expr,
                 field: SettingsField, types: FrozenSet[str]) -> Finding:
        severity, assumption = self.severity_at(module, call), ""
        if module.project.pydantic_version is None:
            severity = Severity.WARNING
            assumption = (" pydantic is not installed in the project's interpreter; this assumes "
                          "pydantic 2 (on pydantic 1 URL types are str subclasses and this works).")
        kind = " | ".join(sorted(name.rsplit(".", 1)[1] for name in types))
        source = ast.unparse(expr)
        return self.report(
            module, call,
            f"{function}() given {source}, a pydantic {kind} object, not a str",
            f"{field.cls.name}.{field.attr} is annotated {ast.unparse(field.annotation)} "
            f"(line {field.annotation.lineno}); on "
            f"{module.project.environment.describe('pydantic')} URL types are objects, not str, "
            f"and SQLAlchemy raises ArgumentError \"Expected string or URL object, got ...\" "
            f"when {function}() runs.{assumption}",
            f"Pass str({source}) to {function}().",
            severity=severity,
        )


def _url_arguments(module: ModuleContext) -> Iterator[Tuple[ast.Call, str, Optional[ast.expr]]]:
    """Every (call, function name, URL argument) handed to SQLAlchemy as a URL."""
    for engine in module.engine_calls:
        yield engine.call, engine.function, engine.url_expr
    for call in module.calls:
        if module.call_name(call) == N.MAKE_URL:
            yield call, "make_url", argument(call, 0, "name_or_url")
