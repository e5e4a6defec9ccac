"""SBA311, SBA312, SBA313 beyond the documented examples: through real flake8 (one project of
several files per run) and, for other installed versions, in process."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from packaging.version import Version

from flake8_stability.analysis.pools import sqlite_memory
from flake8_stability.analysis.url_query import query_options
from flake8_stability.analysis.urls import DatabaseURL
from flake8_stability.analysis.values import StrValue
from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.environment import Environment
from flake8_stability.findings import Finding, Severity
from flake8_stability.rules import rule_for

CODES = ("SBA311", "SBA312", "SBA313")
NEW_STACK = {"sqlalchemy": "2.1.9", "pydantic": "2.14.4", "asyncpg": "0.30.0"}


def _code(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


def findings(source: str, code: str,
             versions: Optional[Dict[str, str]] = None) -> List[Finding]:
    """Run one rule in process, with the given installed distributions."""
    text = _code(source)
    project = ProjectContext(Path.cwd())
    installed = NEW_STACK if versions is None else versions
    project.environment = Environment(distributions=dict(installed))  # type: ignore[misc]
    module = ModuleContext("snippet.py", text.splitlines(True), ast.parse(text), project)
    return list(rule_for(code)().check_module(module))


# -- through flake8 ---------------------------------------------------------------------------

FLAGGED = {
    "pool_alias.py": '''
        import sqlalchemy as sa

        engine = sa.create_engine(
            "postgresql+psycopg://app@db/app", poolclass=sa.pool.StaticPool, pool_use_lifo=True
        )
    ''',
    "pool_class_via_name.py": '''
        import os

        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.pool.impl import NullPool

        POOL = NullPool
        engine = create_async_engine(os.environ["DATABASE_URL"], poolclass=POOL, max_overflow=5)
    ''',
    "pool_env_default.py": '''
        import os

        from sqlmodel import create_engine

        DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///:memory:")
        engine = create_engine(DATABASE_URL, pool_timeout=10)
    ''',
    "pool_singleton.py": '''
        from sqlalchemy import create_engine
        from sqlalchemy.pool import SingletonThreadPool

        ok = create_engine("sqlite:///./app.db", poolclass=SingletonThreadPool, pool_size=5)
        bad = create_engine("sqlite:///./app.db", poolclass=SingletonThreadPool, max_overflow=5)
        memory_mode = create_engine("sqlite:///file:db?mode=memory&uri=true", max_overflow=5)
    ''',
    "connect_settings.py": '''
        from pydantic_settings import BaseSettings
        from sqlalchemy import create_engine


        class Settings(BaseSettings):
            database_url: str = "postgresql+psycopg2://app:secret@localhost/app"


        settings = Settings()
        engine = create_engine(settings.database_url, connect_args=dict(check_same_thread=False))
    ''',
    "connect_fstring.py": '''
        import os

        from sqlalchemy.ext.asyncio import create_async_engine

        HOST = os.environ["DB_HOST"]
        PASSWORD = os.environ["DB_PASSWORD"]
        engine = create_async_engine(
            f"postgresql+asyncpg://app:{PASSWORD}@{HOST}/app?sslmode=require"
        )
    ''',
    "connect_both.py": '''
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(
            "postgresql+asyncpg://app:secret@db/app?sslmode=require",
            connect_args={"sslmode": "require"},
        )
    ''',
    "connect_mysql.py": '''
        from sqlmodel import create_engine

        engine = create_engine(
            "mysql+pymysql://app:secret@db/app", connect_args={"check_same_thread": False}
        )
    ''',
    "dsn_alias.py": '''
        from typing import Annotated, Optional

        from pydantic import PostgresDsn, UrlConstraints
        from pydantic_settings import BaseSettings
        from sqlalchemy.ext.asyncio import create_async_engine

        AsyncDsn = Annotated[PostgresDsn, UrlConstraints(allowed_schemes=["postgresql+asyncpg"])]


        class BaseConfig(BaseSettings):
            database_url: Optional[AsyncDsn] = None
            replica_url: "PostgresDsn | None" = None


        class Settings(BaseConfig):
            debug: bool = False


        settings = Settings()
        DATABASE_URL = settings.database_url
        engine = create_async_engine(url=DATABASE_URL)
        replica = create_async_engine(settings.replica_url)
    ''',
}
FLAGGED_LINES = {
    "pool_alias.py": {"SBA311": [3]},
    "pool_class_via_name.py": {"SBA311": [7]},
    "pool_env_default.py": {"SBA311": [6]},
    "pool_singleton.py": {"SBA311": [5, 6]},
    "connect_settings.py": {"SBA312": [10]},
    "connect_fstring.py": {"SBA312": [7]},
    "connect_both.py": {"SBA312": [3, 3]},
    "connect_mysql.py": {"SBA312": [3]},
    "dsn_alias.py": {"SBA313": [21, 22]},
}

HEALTHY = {
    "async_app.py": '''
        from typing import Annotated, AsyncIterator

        from fastapi import Depends
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel import SQLModel
        from sqlmodel.ext.asyncio.session import AsyncSession

        engine = create_async_engine(
            "postgresql+asyncpg://app:secret@db/app?ssl=require",
            pool_size=10, max_overflow=20, pool_timeout=30, pool_use_lifo=True, pool_pre_ping=True,
            connect_args={"server_settings": {"application_name": "api"}, "timeout": 10},
        )
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


        async def init_db() -> None:
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)


        async def get_session() -> AsyncIterator[AsyncSession]:
            async with SessionLocal() as session:
                yield session


        SessionDep = Annotated[AsyncSession, Depends(get_session)]
    ''',
    "sync_sqlite.py": '''
        import sqlalchemy as sa
        from sqlmodel import Session, create_engine

        engine = create_engine(
            "sqlite:///./app.db", connect_args={"check_same_thread": False}, pool_size=5
        )
        shared = sa.create_engine(
            "sqlite:///file::memory:?cache=shared&uri=true", pool_size=5, max_overflow=5
        )
        memory_mode = sa.create_engine("sqlite:///file:db?mode=memory&uri=true", pool_size=5)
        server = sa.create_engine("postgresql+psycopg://app@db/app", poolclass=None, pool_size=5)


        def get_session():
            with Session(engine) as session:
                yield session
    ''',
    "branches.py": '''
        import os

        from sqlalchemy import create_engine
        from sqlalchemy.pool import QueuePool

        DATABASE_URL = "postgresql+psycopg://app:secret@db/app"
        TESTING = os.getenv("TESTING") == "1"

        connect_args = {"check_same_thread": False} if DATABASE_URL.startswith("sqlite") else {}
        engine = create_engine(DATABASE_URL, connect_args=connect_args)

        POOL_OPTIONS = {"poolclass": QueuePool}
        memory = create_engine("sqlite://", max_overflow=5, **POOL_OPTIONS)
        pool_kwargs = {} if TESTING else {"pool_size": 5, "max_overflow": 5}
        test_engine = create_engine("sqlite://" if TESTING else DATABASE_URL, **pool_kwargs)
    ''',
    "mutated_args.py": '''
        import os

        from sqlalchemy import create_engine

        DATABASE_URL = "postgresql+psycopg://app:secret@db/app"
        CONNECT_ARGS = {"check_same_thread": False}
        if not DATABASE_URL.startswith("sqlite"):
            CONNECT_ARGS.pop("check_same_thread")
        engine = create_engine(DATABASE_URL, connect_args=CONNECT_ARGS)

        OTHER_ARGS = {"check_same_thread": False}
        if os.getenv("DB") == "pg":
            OTHER_ARGS = {}
        other = create_engine(DATABASE_URL, connect_args=OTHER_ARGS)
    ''',
    "drivers.py": '''
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import create_async_engine

        SQLITE_ARGS = {"check_same_thread": False}
        mssql = create_engine("mssql+pyodbc://app@db/app", connect_args=SQLITE_ARGS)
        sqlite_async = create_async_engine("sqlite+aiosqlite:///./app.db", connect_args=SQLITE_ARGS)
        psycopg = create_async_engine("postgresql+psycopg://app@db/app?sslmode=require")
        libpq = create_engine("postgresql+psycopg2://db/app", connect_args={"sslmode": "require"})
        asyncpg_ssl = create_async_engine("postgresql+asyncpg://db/app", connect_args={"ssl": True})
    ''',
    "dsn_healthy.py": '''
        from typing import TYPE_CHECKING, Union

        from pydantic import BaseModel, PostgresDsn, field_validator
        from pydantic.v1 import BaseSettings as V1Settings, PostgresDsn as V1Dsn
        from pydantic_settings import BaseSettings
        from sqlalchemy import create_engine, make_url
        from sqlalchemy.ext.asyncio import create_async_engine

        if TYPE_CHECKING:
            from sqlalchemy.engine import Engine


        class Settings(BaseSettings):
            database_url: PostgresDsn = "postgresql+asyncpg://app:secret@db/app"
            either_url: Union[PostgresDsn, str] = "postgresql+asyncpg://app:secret@db/app"
            plain_url: str = "postgresql+asyncpg://app:secret@db/app"
            checked_url: PostgresDsn = "postgresql+asyncpg://app:secret@db/app"

            @field_validator("checked_url")
            @classmethod
            def as_text(cls, value: PostgresDsn) -> str:
                return str(value)


        class LegacySettings(V1Settings):
            database_url: V1Dsn = "postgresql+asyncpg://app:secret@db/app"


        class Options(BaseModel):
            database_url: PostgresDsn = "postgresql+asyncpg://app:secret@db/app"


        settings = Settings()
        engine = create_async_engine(str(settings.database_url))
        other = create_async_engine(settings.database_url.unicode_string())
        text_url = create_async_engine(f"{settings.database_url}")
        either = create_async_engine(settings.either_url)
        plain = create_async_engine(settings.plain_url)
        checked = create_async_engine(settings.checked_url)
        legacy = create_async_engine(LegacySettings().database_url)
        options = create_async_engine(Options().database_url)


        def sync_engine() -> "Engine":
            from sqlmodel import create_engine as make_engine

            url = make_url(str(settings.database_url)).set(drivername="postgresql+psycopg")
            return make_engine(url)
    ''',
}


def test_flagged_through_flake8(lint) -> None:
    run = lint({name: _code(source) for name, source in FLAGGED.items()})
    assert "internal error" not in run.stderr, run.stderr
    for name, expected in FLAGGED_LINES.items():
        for code in CODES:
            assert run.lines_of(code, name) == expected.get(code, []), (name, code, run.results)


def test_healthy_code_is_silent_through_flake8(lint) -> None:
    run = lint({name: _code(source) for name, source in HEALTHY.items()})
    assert "internal error" not in run.stderr, run.stderr
    reported = [r for r in run.results if r.code in CODES]
    assert reported == [], reported


# -- SBA311 by SQLAlchemy version ------------------------------------------------------------

FILE_SQLITE = '''
    from sqlalchemy import create_engine

    engine = create_engine("sqlite:///./app.db", pool_size=5, max_overflow=10, pool_recycle=300)
'''
MEMORY_SQLITE = '''
    from sqlalchemy import create_engine

    engine = create_engine("sqlite:///:memory:", pool_size=1, max_overflow=2)
'''


def test_file_sqlite_uses_nullpool_on_sqlalchemy_1_4() -> None:
    [finding] = findings(FILE_SQLITE, "SBA311", {"sqlalchemy": "1.4.54"})
    assert finding.severity is Severity.BLOCKING
    assert finding.message == ("create_engine() passes pool_size, max_overflow to NullPool, "
                               "which does not take them")
    assert "SQLAlchemy 1.4.54" in finding.root_cause
    assert "'pool_size','max_overflow'" in finding.root_cause
    assert finding.fix.codemod == "drop-invalid-pool-args"
    assert "SQLAlchemy 2.0" in finding.fix.description


@pytest.mark.parametrize("version", ["2.0.44", "2.1.9"])
def test_file_sqlite_is_pooled_from_sqlalchemy_2(version: str) -> None:
    assert findings(FILE_SQLITE, "SBA311", {"sqlalchemy": version}) == []


def test_unknown_sqlalchemy_version() -> None:
    assert findings(FILE_SQLITE, "SBA311", {}) == []
    [finding] = findings(MEMORY_SQLITE, "SBA311", {})
    assert finding.severity is Severity.WARNING
    assert "not installed" in finding.root_cause and "assumes" in finding.root_cause
    assert "max_overflow" in finding.message and "pool_size" not in finding.message


def test_explicit_pool_inside_a_function_is_runtime() -> None:
    source = '''
        from sqlalchemy import NullPool
        from sqlalchemy.ext.asyncio import create_async_engine


        def make_engine(url: str):
            return create_async_engine(url, poolclass=NullPool, pool_size=5)
    '''
    [finding] = findings(source, "SBA311", {})
    assert finding.severity is Severity.RUNTIME
    assert "poolclass=NullPool" in finding.root_cause


@pytest.mark.parametrize("url,version,memory", [
    ("sqlite://", None, True),
    ("sqlite:///", None, True),
    ("sqlite:///:memory:", None, True),
    ("sqlite:///./app.db", None, False),
    ("sqlite:////var/data/app.db", None, False),
    ("sqlite:///file::memory:?cache=shared&uri=true", None, False),
    ("sqlite:///file:db?mode=memory&uri=true", "1.4.54", True),
    ("sqlite:///file:db?mode=memory&uri=true", "2.1.9", True),
    ("sqlite:///file:db?mode=memory&uri=true", None, None),
    ("sqlite:///file:db?mode=memory&uri=true", "2.2.0", None),
])
def test_sqlite_memory_follows_sqlalchemy(url: str, version: Optional[str],
                                          memory: Optional[bool]) -> None:
    parsed = DatabaseURL.parse(StrValue(url, True))
    assert sqlite_memory(parsed, Version(version) if version else None) is memory


@pytest.mark.parametrize("prefix,memory", [
    ("sqlite:///", None),
    ("sqlite://", None),
    ("sqlite:///:mem", None),
    ("sqlite:///./data/", False),
])
def test_sqlite_memory_of_a_url_prefix(prefix: str, memory: Optional[bool]) -> None:
    assert sqlite_memory(DatabaseURL.parse(StrValue(prefix, False)), Version("2.1.9")) is memory


# -- SBA312 ----------------------------------------------------------------------------------

def test_check_same_thread_names_the_error_of_the_installed_default_driver() -> None:
    source = '''
        from sqlalchemy import create_engine

        engine = create_engine(
            "postgresql://app:secret@db/app", connect_args={"check_same_thread": False}
        )
    '''
    [new] = findings(source, "SBA312", {"sqlalchemy": "2.1.9"})
    assert "(psycopg.ProgrammingError)" in new.root_cause
    [old] = findings(source, "SBA312", {"sqlalchemy": "2.0.44"})
    assert "(psycopg2.ProgrammingError) invalid dsn" in old.root_cause
    [unknown] = findings(source, "SBA312", {})
    assert "rejected by the postgresql driver" in unknown.root_cause
    for finding in (new, old, unknown):
        assert finding.severity is Severity.RUNTIME
        assert "secret" not in finding.message + finding.root_cause + finding.fix.description
        assert finding.fix.codemod == "fix-connect-args"


def test_sslmode_fix_keeps_the_value_and_hides_the_password() -> None:
    source = '''
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(
            "postgresql+asyncpg://app:secret@db/app?sslmode=verify-full&x=1"
        )
    '''
    [finding] = findings(source, "SBA312")
    assert "ssl=verify-full instead of sslmode=verify-full" in finding.fix.description
    assert "'postgresql+asyncpg://app:***@db/app?ssl=verify-full&x=1'" in finding.fix.description
    assert "secret" not in finding.message + finding.root_cause + finding.fix.description


def test_sync_engine_with_asyncpg_is_left_to_sba301() -> None:
    source = '''
        from sqlalchemy import create_engine

        engine = create_engine("postgresql+asyncpg://app:secret@db/app?sslmode=require")
    '''
    assert findings(source, "SBA312") == []


@pytest.mark.parametrize("url,options", [
    ('f"postgresql+asyncpg://{u}:{p}@{h}/db?sslmode=require"', {"sslmode": "require"}),
    ('f"postgresql+asyncpg://{u}@{h}/db?ssl=require&sslmode={mode}"',
     {"ssl": "require", "sslmode": None}),
    ('f"postgresql+asyncpg://{u}@{h}/db?{extra}sslmode=require"', {}),
    ('"postgresql+asyncpg://" + host + "/db?application_name=api"', {"application_name": "api"}),
    ('f"postgresql+asyncpg://{u}@{h}/db"', {}),
])
def test_query_options_of_partly_known_urls(url: str, options: Dict[str, Optional[str]]) -> None:
    text = f"import os\nu = p = h = host = mode = extra = os.environ['X']\nurl = {url}\n"
    project = ProjectContext(Path.cwd())
    module = ModuleContext("snippet.py", text.splitlines(True), ast.parse(text), project)
    expr = module.tree.body[-1].value  # type: ignore[attr-defined]
    parsed = DatabaseURL.parse(module.values.string(expr))
    assert parsed is not None
    assert query_options(module, parsed, expr) == options


# -- SBA313 by pydantic version --------------------------------------------------------------

DSN = '''
    from pydantic import PostgresDsn
    from pydantic_settings import BaseSettings
    from sqlmodel import create_engine


    class Settings(BaseSettings):
        database_url: PostgresDsn = "postgresql+psycopg://app:secret@db/app"


    settings = Settings()
    engine = create_engine(settings.database_url)
'''


def test_dsn_on_pydantic_2_is_blocking() -> None:
    [finding] = findings(DSN, "SBA313")
    assert finding.severity is Severity.BLOCKING
    assert finding.message == ("create_engine() given settings.database_url, a pydantic "
                               "PostgresDsn object, not a str")
    assert "pydantic 2.14.4" in finding.root_cause
    assert finding.fix.description == "Pass str(settings.database_url) to create_engine()."
    assert finding.fix.codemod == "str-dsn"


def test_dsn_on_pydantic_1_is_a_str() -> None:
    assert findings(DSN, "SBA313", {"sqlalchemy": "1.4.54", "pydantic": "1.10.27"}) == []


def test_dsn_with_unknown_pydantic_is_a_warning() -> None:
    [finding] = findings(DSN, "SBA313", {"sqlalchemy": "2.1.9"})
    assert finding.severity is Severity.WARNING
    assert "assumes pydantic 2" in finding.root_cause


def test_dsn_read_through_self_inside_a_method_is_runtime() -> None:
    source = '''
        from pydantic import MySQLDsn
        from pydantic_settings import BaseSettings
        from sqlalchemy.ext.asyncio import create_async_engine


        class Settings(BaseSettings):
            database_url: MySQLDsn = "mysql+aiomysql://app:secret@db/app"

            def engine(self):
                return create_async_engine(self.database_url, pool_recycle=3600)
    '''
    [finding] = findings(source, "SBA313")
    assert finding.severity is Severity.RUNTIME
    assert finding.fix.description == "Pass str(self.database_url) to create_async_engine()."
