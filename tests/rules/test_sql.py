"""SBA314 and SBA315 beyond the documented examples: one flake8 run per project, several files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, List, Optional

from _ddl_support import files as _files
from _ddl_support import findings as _findings
from _ddl_support import reported as _reported
from flake8_runner import Flake8Run

Lint = Callable[..., Flake8Run]


def _texts(run: Flake8Run, code: str) -> List[str]:
    ordered = sorted(run.results, key=lambda r: (r.path, r.line))
    return [f"{r.code} {r.text}" for r in ordered if r.code == code]


def _interpreter(tmp_path: Path, sqlalchemy: Optional[str]) -> str:
    """A stand-in for the project's interpreter that reports one SQLAlchemy version (or none)."""
    dists = {"sqlmodel": "0.0.8"}
    if sqlalchemy:
        dists["sqlalchemy"] = sqlalchemy
    listing = json.dumps({"python": "3.11.7", "executable": "/fake/python", "distributions": dists})
    path = tmp_path / "fake-env" / "python"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{listing}'\n")
    path.chmod(0o755)
    return str(path)


SESSIONS = '''
    from typing import Annotated

    from fastapi import Depends, FastAPI
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
    SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    app = FastAPI()

    async def get_session():
        async with SessionLocal() as session:
            yield session

    SessionDep = Annotated[AsyncSession, Depends(get_session)]
    HEALTH_SQL = "SELECT 1"

    @app.get("/health")
    async def health(session: SessionDep) -> dict:
        await session.exec(HEALTH_SQL)
        return {"ok": True}

    @app.get("/heroes/{hero_id}")
    async def hero(hero_id: int, session: AsyncSession = Depends(get_session)):
        result = await session.execute(f"SELECT * FROM hero WHERE id = {hero_id}")
        return result.one()

    async def stream_names():
        async with SessionLocal() as session:
            async for name in await session.stream_scalars("SELECT name FROM hero"):
                yield name
'''

CONNECTIONS = '''
    import asyncio
    from contextlib import asynccontextmanager

    import sqlalchemy as sa
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
    sync_engine = sa.create_engine("postgresql+psycopg://app:secret@db/app")

    def count(table: str) -> int:
        with sync_engine.connect() as conn:
            return conn.scalar("SELECT count(*) FROM " + table)

    async def wait_for_db() -> None:
        for _ in range(30):
            try:
                async with engine.connect() as conn:
                    await conn.execute("SELECT 1")
                return
            except OSError:
                await asyncio.sleep(1)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with engine.connect() as conn:
            await conn.execute("SELECT 1")
        await wait_for_db()
        yield

    app = FastAPI(lifespan=lifespan)
'''

RECEIVERS_HEALTHY = '''
    import sqlite3

    import aiosqlite
    import asyncpg
    import psycopg
    from sqlalchemy import select, text
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
    from sqlmodel import Session, SQLModel, create_engine

    engine = create_async_engine("sqlite+aiosqlite:///./app.db")
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    sync_engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

    async def with_text() -> None:
        async with SessionLocal() as session:
            await session.execute(text("SELECT 1"))
            await session.execute(select(1))

    async def query_variable() -> None:
        query = "SELECT 1"
        query = text(query)
        async with engine.connect() as conn:
            await conn.execute(query)
            await conn.exec_driver_sql("SELECT 1")

    async def other_drivers(dsn: str) -> None:
        conn = await asyncpg.connect(dsn)
        await conn.execute("SELECT 1")
        async with aiosqlite.connect("app.db") as db:
            await db.execute("SELECT 1")
        async with await psycopg.AsyncConnection.connect(dsn) as pconn:
            await pconn.execute("SELECT 1")
        with sqlite3.connect("app.db") as lite:
            lite.execute("SELECT 1")

    def unknown(session, sql: str) -> None:
        session.execute("SELECT 1")
        with Session(sync_engine) as s:
            s.execute(sql)

    async def sa_async_exec() -> None:
        async with AsyncSession(engine) as session:
            await session.exec("SELECT 1")
'''


def test_sba314_on_sessions_and_connections(lint: Lint) -> None:
    run = lint(_files({"sessions.py": SESSIONS, "connections.py": CONNECTIONS,
                       "healthy.py": RECEIVERS_HEALTHY}))
    assert _reported(run, "SBA314", "sessions.py") == [
        "20 [runtime]", "25 [runtime]", "30 [runtime]"]
    assert _reported(run, "SBA314", "connections.py") == ["13 [runtime]", "19 [runtime]",
                                                          "27 [blocking]"]
    assert _reported(run, "SBA314", "healthy.py") == []
    assert _texts(run, "SBA314")[0] == (
        "SBA314 conn.scalar() given the plain string 'SELECT count(*) FROM ...': wrap it in text() "
        "[runtime]")


def test_sba314_on_sqlalchemy_1_4_and_unknown_versions(lint: Lint, tmp_path: Path) -> None:
    files = _files({"connections.py": CONNECTIONS})
    run = lint(files, "--stability-python", _interpreter(tmp_path, "1.4.54"))
    # 1.4 only deprecates strings on sync connections; AsyncConnection refuses them already.
    assert _reported(run, "SBA314", "connections.py") == ["13 [warning]", "19 [runtime]",
                                                          "27 [blocking]"]
    run = lint(files, "--stability-python", _interpreter(tmp_path, None))
    assert _reported(run, "SBA314", "connections.py") == ["13 [warning]", "19 [runtime]",
                                                          "27 [blocking]"]
    run = lint(files, "--stability-python", _interpreter(tmp_path, "1.3.24"))
    assert _reported(run, "SBA314", "connections.py") == []


LEGACY = '''
    from contextlib import asynccontextmanager

    import sqlalchemy as sa
    from fastapi import FastAPI
    from sqlmodel import create_engine, select

    engine = create_engine("sqlite:///./app.db")
    metadata = sa.MetaData(bind=engine)
    users = sa.Table("users", metadata, autoload=True)
    query = sa.select([users.c.id, users.c.name])

    def legacy_calls(table: str):
        engine.scalar("SELECT 1")
        if not engine.has_table(table):
            return engine.table_names()
        return select([users.c.id])

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine.execute("SELECT 1")
        yield

    app = FastAPI(lifespan=lifespan)
'''

MODERN = '''
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel import Session, create_engine, select

    engine = create_engine("sqlite:///./app.db")
    async_engine = create_async_engine("sqlite+aiosqlite:///./app.db")
    metadata = sa.MetaData(schema="public")
    users = sa.Table("users", metadata, autoload_with=engine)
    columns = [users.c.id, users.c.name]

    def modern(table: str, client):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            conn.execute(sa.select(*columns))
        with Session(engine) as session:
            session.execute(select(users.c.id))
        client.execute("SELECT 1")
        client.table_names()
        return sa.inspect(engine).has_table(table), sa.select(users.c.id, users.c.name)
'''


def test_sba315_removed_1x_apis(lint: Lint) -> None:
    run = lint(_files({"legacy.py": LEGACY, "modern.py": MODERN}))
    assert _reported(run, "SBA315", "legacy.py") == [
        "8 [blocking]", "9 [blocking]", "10 [blocking]", "13 [runtime]", "14 [runtime]",
        "15 [runtime]", "16 [runtime]", "20 [blocking]"]
    assert _reported(run, "SBA315", "modern.py") == []
    assert _texts(run, "SBA315")[:3] == [
        "SBA315 MetaData(bind=engine): bound metadata was removed in SQLAlchemy 2.0 [blocking]",
        "SBA315 Table('users', ..., autoload=True): the autoload argument was removed in "
        "SQLAlchemy 2.0 [blocking]",
        "SBA315 select() given a list [users.c.id, users.c.name]: SQLAlchemy 2.0 takes the "
        "columns as separate arguments [blocking]",
    ]


def test_sba315_depends_on_the_installed_version(lint: Lint, tmp_path: Path) -> None:
    files = _files({"legacy.py": LEGACY})
    run = lint(files, "--stability-python", _interpreter(tmp_path, "1.4.54"))
    assert _reported(run, "SBA315", "legacy.py") == []
    run = lint(files, "--stability-python", _interpreter(tmp_path, None))
    assert set(_reported(run, "SBA315", "legacy.py")) == {
        "8 [warning]", "9 [warning]", "10 [warning]", "13 [warning]", "14 [warning]",
        "15 [warning]", "16 [warning]", "20 [warning]"}


def test_sba314_fix_safety_and_root_cause(tmp_path: Path) -> None:
    literal, by_id, formatted = _findings(tmp_path, "SBA314", '''
        from sqlmodel import Session, create_engine

        engine = create_engine("sqlite:///./app.db")

        def queries(hero_id: int) -> None:
            with Session(engine) as session:
                session.exec("SELECT id, name, secret_name, age FROM hero ORDER BY name")
                session.exec("SELECT * FROM hero WHERE id = :id", {"id": hero_id})
                session.exec(f"SELECT * FROM hero WHERE id = {hero_id}")
    ''')
    assert literal.fix.codemod == "wrap-text" and literal.fix.safe
    assert literal.fix.description == ("Use session.exec(text('SELECT id, name, secret_name, age "
                                       "FROM hero ORDER BY name')) with `from sqlalchemy import "
                                       "text`.")
    assert ("sqlalchemy.exc.ArgumentError: Textual SQL expression 'SELECT id, name, secret_n...' "
            "should be explicitly declared as text('SELECT id, name, secret_n...')"
            in literal.root_cause)
    assert "SQLAlchemy 2.1" in literal.root_cause
    assert not by_id.fix.safe, "text() would read :id as a bound parameter"
    assert not formatted.fix.safe and "bound parameters" in formatted.fix.description


def test_sba315_root_cause_and_fix(tmp_path: Path) -> None:
    execute, table = _findings(tmp_path, "SBA315", '''
        import sqlalchemy as sa

        engine = sa.create_engine("sqlite:///./app.db")

        def ping():
            return engine.execute("SELECT 1")

        def orders():
            return sa.Table("orders", sa.MetaData(), autoload=True)
    ''')
    assert "AttributeError: 'Engine' object has no attribute 'execute'" in execute.root_cause
    assert execute.fix.description.startswith(
        "Execute on a connection: `with engine.connect() as conn: conn.execute(text('SELECT 1'))`")
    assert execute.fix.codemod is None
    assert table.fix.description.startswith("Replace `autoload=True` with `autoload_with=engine`")
