"""SBA304, SBA305, SBA306, SBA309 beyond their documented examples: multi-file projects through
flake8, and root causes, fixes and codemods in-process under other installed versions."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.environment import Environment
from flake8_stability.findings import Finding
from flake8_stability.rules import rule_for

CODES = ("SBA304", "SBA305", "SBA306", "SBA309")


def _project(files: Dict[str, str]) -> Dict[str, str]:
    return {name: textwrap.dedent(source).lstrip("\n") for name, source in files.items()}


def _marked(source: str, code: str) -> List[int]:
    lines = textwrap.dedent(source).lstrip("\n").splitlines()
    return [n for n, line in enumerate(lines, start=1) if code in line.partition("  # ")[2]]


def _findings(source: str, code: str, versions: Optional[Dict[str, str]] = None) -> List[Finding]:
    text = textwrap.dedent(source).lstrip("\n")
    project = ProjectContext(Path("."))
    project.__dict__["environment"] = Environment(distributions=versions or {})
    module = ModuleContext("app/db.py", text.splitlines(True), ast.parse(text), project)
    return sorted(rule_for(code)().check_module(module), key=lambda f: (f.line, f.col))


BROKEN = _project({
    "app/__init__.py": "",
    "app/db.py": '''
        import sqlalchemy as sa
        from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
        from sqlalchemy.orm import Session, scoped_session, sessionmaker

        engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
        sync_engine = sa.create_engine("sqlite:///./app.db")

        SessionLocal = sessionmaker(engine, expire_on_commit=False)  # SBA304
        ScopedSession = scoped_session(sessionmaker(bind=engine))  # SBA304
        LateFactory = sa.orm.sessionmaker(autoflush=False)
        LateFactory.configure(bind=engine)  # SBA304
        module_session = AsyncSession(sync_engine)  # SBA304 SBA309

        def make_session(bind: AsyncEngine):
            return Session(bind)  # SBA304

        async_factory = sessionmaker(engine, AsyncSession)  # SBA309
        strict_factory = sessionmaker(engine, class_=AsyncSession, expire_on_commit=True)  # SBA309
    ''',
    "app/routes.py": '''
        from contextlib import asynccontextmanager
        from typing import Annotated

        from fastapi import APIRouter, Depends
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
        from sqlmodel import select

        from .db import get_session
        from .models import Hero

        engine = create_async_engine("sqlite+aiosqlite:///./app.db")
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
        router = APIRouter()

        async def get_db():
            async with SessionLocal() as session:
                yield session

        LocalSession = Annotated[AsyncSession, Depends(get_db)]

        @asynccontextmanager
        async def session_scope():
            async with SessionLocal.begin() as session:
                yield session

        @router.get("/a")
        async def by_default(session: AsyncSession = Depends(get_db)):
            return (await session.exec(select(Hero))).all()  # SBA305

        @router.get("/b")
        async def by_alias(session: LocalSession):
            return (await session.exec(select(Hero))).all()  # SBA305

        @router.get("/c")
        async def by_annotation(session: AsyncSession = Depends(get_session)):
            return (await session.exec(select(Hero))).all()  # SBA305

        async def job():
            async with session_scope() as session:
                await session.exec(select(Hero))  # SBA305

        class HeroRepository:
            def __init__(self, session: AsyncSession):
                self.session = session

            async def first(self):
                return (await self.session.exec(select(Hero))).first()  # SBA305

        @router.get("/d")
        async def legacy(db: AsyncSession = Depends(get_db)):
            return db.query(Hero).filter(Hero.name == "x").order_by(Hero.id).all()  # SBA306
    ''',
})

HEALTHY = _project({
    "app/__init__.py": "",
    "app/settings.py": '''
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            database_url: str = "sqlite+aiosqlite:///./app.db"

        settings = Settings()
    ''',
    "app/db.py": '''
        from typing import Annotated, AsyncGenerator

        from fastapi import Depends
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel import SQLModel
        from sqlmodel.ext.asyncio.session import AsyncSession

        from .settings import settings

        engine = create_async_engine(settings.database_url)
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        OPTIONS = {"expire_on_commit": False}
        OtherFactory = async_sessionmaker(engine, **OPTIONS)

        async def init_db() -> None:
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)

        async def get_session() -> AsyncGenerator[AsyncSession, None]:
            async with SessionLocal() as session:
                yield session

        SessionDep = Annotated[AsyncSession, Depends(get_session)]
    ''',
    "app/routes.py": '''
        from typing import TYPE_CHECKING

        from fastapi import APIRouter
        from sqlmodel import select

        from .db import SessionDep, engine
        from .models import Hero

        if TYPE_CHECKING:
            from sqlmodel.ext.asyncio.session import AsyncSession

        router = APIRouter()

        @router.get("/heroes")
        async def list_heroes(session: SessionDep):
            return (await session.exec(select(Hero))).all()

        async def count(session: "AsyncSession") -> int:
            return len((await session.exec(select(Hero))).all())

        async def deferred() -> list:
            from sqlmodel.ext.asyncio.session import AsyncSession as Deferred

            async with Deferred(engine, expire_on_commit=False) as session:
                return (await session.exec(select(Hero))).all()

        async def legacy_count(session: SessionDep) -> int:
            return await session.run_sync(lambda sync: sync.query(Hero).count())

        async def unknown(session) -> list:
            return session.query(Hero).all() + (await session.exec(select(Hero))).all()
    ''',
    "app/sync_app.py": '''
        import sqlalchemy as sa
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
        from sqlmodel import Session, create_engine, select

        from .models import Hero

        engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
        LegacyFactory = sa.orm.sessionmaker(bind=engine, autoflush=False)
        async_engine = create_async_engine("sqlite+aiosqlite:///./app.db")
        OldStyle = sa.orm.sessionmaker(async_engine, AsyncSession, expire_on_commit=False)
        Configured = sa.orm.sessionmaker(class_=AsyncSession, expire_on_commit=False)
        Configured.configure(bind=async_engine)

        def get_session():
            with Session(engine) as session:
                yield session

        def heroes():
            with Session(engine) as session:
                return session.exec(select(Hero)).all()

        def legacy_heroes():
            with LegacyFactory() as db:
                return db.query(Hero).all()

        def sync_over_sync_engine():
            with Session(bind=async_engine.sync_engine) as session:
                return session.query(Hero).all()

        async def bound_to_connection():
            async with async_engine.connect() as conn:
                async with AsyncSession(bind=conn, expire_on_commit=False) as session:
                    return (await session.execute(sa.select(Hero))).scalars().all()

        if __debug__:
            either = engine
        else:
            either = async_engine
        EitherFactory = sa.orm.sessionmaker(either)
    ''',
})


def test_broken_project_reports_every_marked_line(lint) -> None:
    run = lint(BROKEN)
    assert "internal error" not in run.stderr, run.stderr
    for path, source in BROKEN.items():
        for code in CODES:
            assert run.lines_of(code, path) == _marked(source, code), (path, code)


def test_severities_of_the_broken_project(lint) -> None:
    run = lint(BROKEN, "--select", "SBA304")
    texts = {r.line: r.text for r in run.results if r.path.endswith("app/db.py")}
    assert texts[12].endswith("[blocking]"), texts[12]  # AsyncSession(sync_engine) at import
    assert texts[15].endswith("[runtime]"), texts[15]
    assert "postgresql+asyncpg://app:secret" not in "".join(texts.values())


def test_healthy_project_is_silent(lint) -> None:
    run = lint(HEALTHY)
    assert "internal error" not in run.stderr, run.stderr
    assert [r for r in run.results if r.code in CODES] == []


SYNC_FACTORY = '''
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.orm import sessionmaker

    engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
    SessionLocal = sessionmaker(bind=engine)
'''


def test_sba304_fix_follows_the_installed_sqlalchemy() -> None:
    (on_21,) = _findings(SYNC_FACTORY, "SBA304", {"sqlalchemy": "2.1.9"})
    assert "async_sessionmaker(engine, expire_on_commit=False)" in on_21.fix.description
    assert "SQLAlchemy 2.1.9" in on_21.root_cause
    assert on_21.fix.codemod == "async-sessionmaker" and not on_21.fix.safe
    (on_14,) = _findings(SYNC_FACTORY, "SBA304", {"sqlalchemy": "1.4.41"})
    legacy = "sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)"
    assert legacy in on_14.fix.description
    assert "needs SQLAlchemy 2.0" in on_14.fix.description
    (unknown,) = _findings(SYNC_FACTORY, "SBA304")
    assert "version is unknown" in unknown.fix.description


def test_sba304_codemod_only_for_a_plain_rename() -> None:
    findings = _findings('''
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session, scoped_session, sessionmaker

        engine = create_async_engine("sqlite+aiosqlite://")
        Scoped = scoped_session(sessionmaker(engine))
        session = Session(engine)
        reverse = AsyncSession(create_engine("postgresql://app:secret@db/app"))
    ''', "SBA304", {"sqlalchemy": "2.1.9"})
    assert [(f.line, f.fix.codemod) for f in findings] == [(6, None), (7, None), (8, None)]
    assert "secret" not in findings[2].message + findings[2].root_cause


def test_sba305_without_sqlmodel_suggests_execute_and_no_codemod() -> None:
    (finding,) = _findings('''
        from sqlalchemy.ext.asyncio import AsyncSession

        async def handler(session: AsyncSession):
            return await session.exec("select 1")
    ''', "SBA305", {"sqlalchemy": "2.1.9"})
    assert finding.fix.codemod is None
    assert "(await session.execute(stmt)).scalars()" in finding.fix.description
    assert "annotated as sqlalchemy.ext.asyncio.AsyncSession (line 3)" in finding.root_cause


def test_sba305_with_sqlmodel_names_the_factory() -> None:
    (finding,) = _findings('''
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite://")
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

        async def handler():
            async with SessionLocal() as session:
                return await session.exec("select 1")
    ''', "SBA305", {"sqlalchemy": "2.1.9", "sqlmodel": "0.0.50"})
    assert finding.fix.codemod == "sqlmodel-async-session"
    assert "class_=AsyncSession to the session factory (line 4)" in finding.fix.description
    assert "sqlmodel 0.0.50" in finding.root_cause
    assert [loc.line for loc in finding.related] == [4]


def test_sba306_fix_rewrites_the_query() -> None:
    findings = _findings('''
        from sqlalchemy.ext.asyncio import AsyncSession

        async def one(db: AsyncSession, email: str):
            return db.query(User).filter(User.email == email).first()

        async def by_id(db: AsyncSession, user_id: int):
            return db.query(User).get(user_id)

        async def counted(db: AsyncSession):
            return db.query(User).count()
    ''', "SBA306", {"sqlalchemy": "2.1.9"})
    fixes = [f.fix.description for f in findings]
    rewritten = "(await db.execute(select(User).where(User.email == email))).scalars().first()"
    assert rewritten in fixes[0]
    assert "await db.get(User, user_id)" in fixes[1]
    assert "select(Model).where(...)" in fixes[2]
    assert all(f.fix.codemod is None for f in findings)


def test_sba309_names_the_error_of_the_installed_version() -> None:
    source = '''
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite://")
        SessionLocal = async_sessionmaker(engine)
    '''
    (on_20,) = _findings(source, "SBA309", {"sqlalchemy": "2.0.44"})
    (on_21,) = _findings(source, "SBA309", {"sqlalchemy": "2.1.9"})
    assert "await_only()" in on_20.root_cause and "await_()" in on_21.root_cause
    assert on_21.fix.codemod == "expire-on-commit-false"
    assert on_21.severity.value == "warning"
