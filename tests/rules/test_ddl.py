"""SBA308 and SBA317 beyond the documented examples: one flake8 run per project, several files."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

from _ddl_support import files as _files
from _ddl_support import findings as _findings
from _ddl_support import reported as _reported
from flake8_runner import Flake8Run

Lint = Callable[..., Flake8Run]


ASYNC_ENGINE = ('from sqlalchemy.ext.asyncio import create_async_engine\n'
                'engine = create_async_engine("sqlite+aiosqlite:///./app.db")\n')


def _async(source: str) -> str:
    """`source` after an async engine named `engine` (lines 1-2)."""
    return ASYNC_ENGINE + textwrap.dedent(source).lstrip("\n")


SBA308_BROKEN = {
    "module_level.py": _async('''
        from sqlmodel import SQLModel
        SQLModel.metadata.create_all(engine)
        SQLModel.metadata.drop_all(bind=engine)
    '''),
    "lifespan.py": '''
        from contextlib import asynccontextmanager

        import sqlalchemy.ext.asyncio as sa_async
        from fastapi import FastAPI
        from sqlmodel import SQLModel

        engine = sa_async.create_async_engine("postgresql+asyncpg://app:secret@db/app")

        def create_tables():
            SQLModel.metadata.create_all(engine)

        async def init_db():
            create_tables()

        async def reset_db():
            SQLModel.metadata.drop_all(engine)

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            await init_db()
            yield
            SQLModel.metadata.drop_all(engine)

        app = FastAPI(lifespan=lifespan)
    ''',
    "guarded.py": _async('''
        import logging
        from contextlib import asynccontextmanager
        from sqlmodel import SQLModel

        @asynccontextmanager
        async def lifespan(app):
            try:
                SQLModel.metadata.create_all(engine)
            except Exception:
                logging.exception("could not create the tables")
            yield
    '''),
    "kinds.py": '''
        from sqlalchemy import MetaData, inspect
        from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

        metadata = MetaData()

        def get_engine():
            return create_async_engine("sqlite+aiosqlite:///./app.db")

        def build(engine: AsyncEngine) -> None:
            metadata.create_all(bind=engine)

        async def reflect_all() -> None:
            metadata.reflect(get_engine())

        async def tables() -> list:
            async with get_engine().begin() as conn:
                metadata.create_all(conn)
                return inspect(conn).get_table_names()
    ''',
    "script.py": _async('''
        from sqlmodel import SQLModel

        if __name__ == "__main__":
            SQLModel.metadata.create_all(engine)
    '''),
}


def test_sba308_reports_sync_ddl_on_async_engines_with_boot_severity(lint: Lint) -> None:
    run = lint(_files(SBA308_BROKEN))
    assert _reported(run, "SBA308", "module_level.py") == ["4 [blocking]", "5 [blocking]"]
    assert _reported(run, "SBA308", "lifespan.py") == [
        "10 [blocking]", "16 [runtime]", "22 [runtime]"]
    assert _reported(run, "SBA308", "guarded.py") == ["10 [runtime]"]
    assert _reported(run, "SBA308", "kinds.py") == [
        "10 [runtime]", "13 [runtime]", "17 [runtime]", "18 [runtime]"]
    assert _reported(run, "SBA308", "script.py") == ["6 [runtime]"]


SBA308_HEALTHY = {
    "async_app.py": '''
        from contextlib import asynccontextmanager
        from typing import TYPE_CHECKING

        from fastapi import FastAPI
        from sqlalchemy import inspect
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel import SQLModel
        from sqlmodel.ext.asyncio.session import AsyncSession

        if TYPE_CHECKING:
            from sqlalchemy.engine import Connection

        engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

        def table_names(sync_conn: "Connection") -> list:
            return inspect(sync_conn).get_table_names()

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)
                await conn.run_sync(table_names)
            yield
            await engine.dispose()

        app = FastAPI(lifespan=lifespan)
    ''',
    "sync_app.py": '''
        import sqlalchemy as sa
        from sqlmodel import SQLModel, create_engine

        engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
        SQLModel.metadata.create_all(engine)
        names = sa.inspect(engine).get_table_names()
    ''',
    "sync_of_async.py": _async('''
        from sqlmodel import SQLModel

        def create_tables_offline():
            SQLModel.metadata.create_all(engine.sync_engine)
    '''),
    "unknown.py": '''
        from sqlmodel import SQLModel

        def create_tables(engine):
            SQLModel.metadata.create_all(engine)

        def deferred():
            from app.db import engine
            SQLModel.metadata.create_all(engine)
    ''',
    "not_metadata.py": _async('''
        from app.cache import registry

        registry.create_all(engine)
        registry.inspect(engine)
    '''),
}


def test_sba308_silent_on_healthy_code(lint: Lint) -> None:
    run = lint(_files(SBA308_HEALTHY))
    assert [r for r in run.results if r.code == "SBA308"] == []


def test_sba308_fix_and_codemod(tmp_path: Path) -> None:
    findings = _findings(tmp_path, "SBA308", _async('''
        from sqlalchemy import inspect
        from sqlmodel import SQLModel

        async def create_tables():
            SQLModel.metadata.create_all(engine, checkfirst=True)

        async def names():
            return inspect(engine).get_table_names()

        tables = SQLModel.metadata.create_all(engine)
    '''))
    create, inspection, module_level = findings
    assert create.fix.codemod == "run-sync-create-all" and create.fix.safe
    assert create.fix.description == (
        "Run it through the async connection: `async with engine.begin() as conn: "
        "await conn.run_sync(SQLModel.metadata.create_all)`.")
    assert "SQLAlchemy 2.1" in create.root_cause and "_run_ddl_visitor" in create.root_cause
    assert inspection.fix.codemod is None and not inspection.fix.safe
    assert "NoInspectionAvailable: Inspection on an AsyncEngine" in inspection.root_cause
    assert module_level.fix.codemod is None
    assert module_level.severity.value == "blocking"
    assert "inside an async function (the lifespan, before `yield`)" in module_level.fix.description


SBA317_BROKEN = {
    "app/main.py": '''
        from contextlib import asynccontextmanager

        from fastapi import FastAPI
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlmodel import SQLModel

        engine = create_async_engine("sqlite+aiosqlite:///./app.db")

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)
            yield

        app = FastAPI(lifespan=lifespan)
    ''',
    "app/db.py": '''
        from sqlmodel import SQLModel, create_engine

        engine = create_engine("sqlite:///./app.db")
        SQLModel.metadata.create_all(engine)
    ''',
    "app/base.py": '''
        from sqlalchemy import create_engine
        from sqlalchemy.ext.declarative import declarative_base

        Base = declarative_base()
        engine = create_engine("sqlite:///./app.db")

        def init():
            Base.metadata.create_all(engine)

        init()
    ''',
    "app/late.py": '''
        from sqlmodel import SQLModel, create_engine

        engine = create_engine("sqlite:///./app.db")
        SQLModel.metadata.create_all(engine)

        from app import models  # noqa: E402,F401
    ''',
    "scripts/seed.py": '''
        import sqlmodel

        def main() -> None:
            engine = sqlmodel.create_engine("sqlite:///./app.db")
            sqlmodel.SQLModel.metadata.create_all(engine)

        if __name__ == "__main__":
            main()
    ''',
    "app/models/__init__.py": "",
}


def test_sba317_reports_create_all_with_no_models_in_sight(lint: Lint) -> None:
    run = lint(_files(SBA317_BROKEN))
    assert _reported(run, "SBA317", "app/main.py") == ["12 [runtime]"]
    assert _reported(run, "SBA317", "app/db.py") == ["4 [warning]"]
    assert _reported(run, "SBA317", "app/base.py") == ["8 [runtime]"]
    assert _reported(run, "SBA317", "app/late.py") == ["4 [warning]"]
    assert _reported(run, "SBA317", "scripts/seed.py") == ["5 [runtime]"]


SBA317_HEALTHY = {
    "app/database.py": '''
        from sqlmodel import SQLModel, create_engine

        engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

        def create_db_and_tables():
            SQLModel.metadata.create_all(engine)
    ''',
    "app/main.py": '''
        from contextlib import asynccontextmanager

        from fastapi import FastAPI
        from sqlmodel import SQLModel

        from .database import engine

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            SQLModel.metadata.create_all(engine)
            yield

        app = FastAPI(lifespan=lifespan)
    ''',
    "app/absolute.py": '''
        from sqlmodel import SQLModel, create_engine

        import app.models  # noqa: F401

        engine = create_engine("sqlite://")
        SQLModel.metadata.create_all(engine)
    ''',
    "app/type_checking.py": '''
        from typing import TYPE_CHECKING

        from sqlmodel import SQLModel, create_engine

        if TYPE_CHECKING:
            from app.models import Hero

        engine = create_engine("sqlite://")
        SQLModel.metadata.create_all(engine)
    ''',
    "app/deferred.py": '''
        from fastapi import FastAPI
        from sqlmodel import SQLModel, create_engine

        engine = create_engine("sqlite://")
        app = FastAPI()

        @app.on_event("startup")
        def on_startup():
            from app import models  # noqa: F401
            SQLModel.metadata.create_all(engine)
    ''',
    "app/dynamic.py": '''
        import importlib
        import pkgutil

        from sqlmodel import SQLModel, create_engine

        for info in pkgutil.iter_modules(["app/models"]):
            importlib.import_module(f"app.models.{info.name}")

        engine = create_engine("sqlite://")
        SQLModel.metadata.create_all(engine)
    ''',
    "app/single.py": '''
        from typing import Optional

        from sqlalchemy import Column, Integer, String, Table
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
        from sqlmodel import Field, SQLModel, create_engine

        class HeroBase(SQLModel):
            name: str

        class Hero(HeroBase, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)

        engine = create_engine("sqlite://")
        SQLModel.metadata.create_all(engine)

        class Base(DeclarativeBase):
            pass

        class Timestamped(Base):
            __abstract__ = True

        class User(Timestamped):
            id: Mapped[int] = mapped_column(primary_key=True)

        Base.metadata.create_all(engine)
    ''',
    "app/table.py": '''
        import sqlalchemy as sa
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()
        audit = sa.Table("audit", Base.metadata, sa.Column("id", sa.Integer, primary_key=True))
        engine = sa.create_engine("sqlite://")
        Base.metadata.create_all(engine)
    ''',
    "src_layout.py": '''
        from sqlmodel import SQLModel, create_engine

        from shop import models  # noqa: F401  (src/shop)

        engine = create_engine("sqlite://")
        SQLModel.metadata.create_all(engine)
    ''',
    "tools/sibling.py": '''
        from sqlmodel import SQLModel, create_engine

        import tables  # noqa: F401  (tools/tables.py, next to this script)

        engine = create_engine("sqlite://")

        if __name__ == "__main__":
            SQLModel.metadata.create_all(engine)
    ''',
    "app/imported_base.py": '''
        from sqlalchemy import create_engine
        from sqlalchemy.orm import DeclarativeBase

        from somewhere import Base

        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine)
    ''',
    "src/shop/__init__.py": "",
    "tools/tables.py": "",
    "app/models/__init__.py": "",
}


def test_sba317_silent_when_models_are_defined_or_imported(lint: Lint) -> None:
    run = lint(_files(SBA317_HEALTHY))
    assert [f"{r.path}:{r.line}" for r in run.results if r.code == "SBA317"] == []


def test_sba317_message_names_when_it_runs(tmp_path: Path) -> None:
    finding, = _findings(tmp_path, "SBA317", '''
        from sqlmodel import SQLModel, create_engine

        engine = create_engine("sqlite:///./app.db")
        SQLModel.metadata.create_all(engine)
    ''', name="app/db.py")
    assert finding.message == ("SQLModel.metadata.create_all() runs before any table model is "
                               "defined or imported: it creates no tables")
    assert finding.root_cause.startswith("It runs while the module is imported;")
    assert "assumes no other module imports the models before it runs" in finding.root_cause
    assert finding.fix.codemod is None
