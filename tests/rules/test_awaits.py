"""SBA307, SBA316 and SBA310 beyond their documented examples, and the coroutine table."""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import sqlalchemy
from packaging.version import Version

from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.environment import Environment
from flake8_stability.findings import Finding, Severity
from flake8_stability.knowledge import async_api
from flake8_stability.rules import rule_for


def _source(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _marked(source: str, code: str) -> List[int]:
    """Lines ending with `# CODE` (the rule must report exactly these)."""
    return [n for n, line in enumerate(source.splitlines(), 1) if re.search(rf"#\s*{code}\b", line)]


def _project(files: Dict[str, str]) -> Dict[str, str]:
    return {name: _source(text) for name, text in files.items()}


def _assert_marked(run, files: Dict[str, str], code: str) -> None:
    assert "internal error" not in run.stderr, run.stderr
    for name, source in files.items():
        assert run.lines_of(code, name) == _marked(source, code), (name, run.results)


def _check(code: str, source: str, sqlalchemy_version: Optional[str] = "2.1.9",
           path: str = "app.py") -> List[Finding]:
    """Run one rule in-process, with the project's installed versions chosen by the test."""
    text = _source(source)
    project = ProjectContext(Path("."))
    dists = {"sqlalchemy": sqlalchemy_version} if sqlalchemy_version else {}
    project.__dict__["environment"] = Environment(distributions=dists)
    module = ModuleContext(path, text.splitlines(True), ast.parse(text), project)
    return sorted(rule_for(code)().check_module(module), key=lambda f: (f.line, f.col))


# -- the shipped table ---------------------------------------------------------------------------
def _installed_coroutines(cls: type) -> set:
    found = set()
    for name in dir(cls):
        value = getattr(cls, name, None)
        if name.startswith("__") or not callable(value):
            continue
        if inspect.iscoroutinefunction(inspect.unwrap(value)):
            found.add(name)
    return found


@pytest.mark.parametrize("canonical,module,name", [
    (async_api.ASYNC_SESSION, "sqlalchemy.ext.asyncio", "AsyncSession"),
    (async_api.ASYNC_ENGINE, "sqlalchemy.ext.asyncio", "AsyncEngine"),
    (async_api.ASYNC_CONNECTION, "sqlalchemy.ext.asyncio", "AsyncConnection"),
    (async_api.SQLMODEL_ASYNC_SESSION, "sqlmodel.ext.asyncio.session", "AsyncSession"),
])
def test_coroutine_table_matches_installed_classes(canonical: str, module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    installed = Version(sqlalchemy.__version__)
    assert async_api.coroutine_methods(canonical, installed) == _installed_coroutines(cls)


def test_sync_io_methods_are_the_twins_of_coroutines() -> None:
    installed = Version(sqlalchemy.__version__)
    session = async_api.coroutine_methods(async_api.SQLMODEL_ASYNC_SESSION, installed)
    twins = session & async_api.SYNC_SESSION_IO
    assert {"exec", "execute", "get", "commit", "refresh", "scalars"} <= twins
    assert not {"add", "add_all", "expunge", "begin", "begin_nested"} & session


# -- SBA307 --------------------------------------------------------------------------------------
SBA307_PROJECT = {
    "app/db.py": '''
        from typing import Annotated

        from fastapi import Depends
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel.ext.asyncio.session import AsyncSession

        engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

        async def get_session():
            async with SessionLocal() as session:
                yield session

        SessionDep = Annotated[AsyncSession, Depends(get_session)]

        async def shutdown() -> None:
            engine.dispose()  # SBA307
    ''',
    "app/crud.py": '''
        from typing import Annotated, Optional

        from fastapi import Depends
        from fastapi.encoders import jsonable_encoder
        from sqlmodel import Field, SQLModel, select
        from sqlmodel.ext.asyncio.session import AsyncSession

        from .db import get_session

        class Hero(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            name: str

        SessionDep = Annotated[AsyncSession, Depends(get_session)]

        async def misuses(session: SessionDep, hero: Hero):
            session.add(hero)
            session.commit()  # SBA307
            session.refresh(hero)  # SBA307
            heroes = session.exec(select(Hero)).all()  # SBA307
            first = session.exec(select(Hero))[0]  # SBA307
            for row in session.exec(select(Hero)):  # SBA307
                print(row)
            if session.get(Hero, 1) is None:  # SBA307
                return None
            names = list(session.exec(select(Hero)))  # SBA307
            data = jsonable_encoder(session.get(Hero, 2))  # SBA307
            model = Hero.model_validate(session.get(Hero, 3))  # SBA307
            pending = session.delete(hero)  # SBA307
            result = session.exec(select(Hero))  # SBA307
            print(result.first())
            return session.get(Hero, 4)  # SBA307
    ''',
    "app/lowlevel.py": '''
        import sqlalchemy as sa
        from sqlalchemy.ext import asyncio as sa_async

        engine = sa_async.create_async_engine("sqlite+aiosqlite:///./app.db")

        async def touch():
            async with engine.begin() as conn:
                conn.execute(sa.text("update counters set n = n + 1"))  # SBA307
                await conn.execute(sa.text("select 1"))

        def report(session: "sa_async.AsyncSession"):
            session.execute(sa.text("select 1")).scalar_one()  # SBA307

        async def deferred():
            from sqlalchemy.ext.asyncio import AsyncSession

            async with AsyncSession(engine) as session:
                session.rollback()  # SBA307

        engine.dispose()  # SBA307
    ''',
}

SBA307_HEALTHY = {
    "ok/async_app.py": '''
        import asyncio
        from typing import TYPE_CHECKING, Annotated, Awaitable, List, Optional

        from fastapi import Depends, FastAPI
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel import Field, SQLModel, select
        from sqlmodel.ext.asyncio.session import AsyncSession

        if TYPE_CHECKING:
            from sqlalchemy.ext.asyncio import AsyncConnection

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

        async def init_models() -> None:
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)

        async def reset(conn: "AsyncConnection") -> None:
            await conn.execute(text("delete from hero"))

        @app.post("/heroes")
        async def create(heroes: List[Hero], session: SessionDep):
            session.add_all(heroes)
            session.add(heroes[0])
            session.expunge(heroes[0])
            async with session.begin_nested():
                pass
            await session.commit()
            rows = await session.exec(select(Hero))
            pending = session.exec(select(Hero))
            again = await pending
            tasks = []
            tasks.append(session.get(Hero, 1))
            await asyncio.gather(*tasks)
            await asyncio.gather(session.get(Hero, 2), session.get(Hero, 3))
            task = asyncio.create_task(session.commit())
            await task
            lookups = [session.get(Hero, i) for i in range(3)]
            await asyncio.gather(*lookups)
            chosen = session.get(Hero, 4) if rows else None
            await chosen
            result = await session.exec(select(Hero))
            first = result.first()
            result = session.exec(select(Hero))
            return [first, await result, again]

        def total(session: AsyncSession) -> Awaitable:
            return session.scalar(text("select count(*) from hero"))

        close_later = lambda session: session.close()  # noqa: E731

        async def shutdown() -> None:
            await engine.dispose()

        if __name__ == "__main__":
            asyncio.run(engine.dispose())
            loop = asyncio.new_event_loop()
            loop.run_until_complete(engine.dispose())
    ''',
    "ok/sync_app.py": '''
        from sqlmodel import Session, SQLModel, create_engine, select

        engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

        def save(item) -> None:
            with Session(engine) as session:
                session.add(item)
                session.commit()
                session.refresh(item)
                print(session.exec(select(type(item))).all())
    ''',
    "ok/unknown.py": '''
        from app.db import SessionLocal, engine

        class Repository:
            def __init__(self, session):
                self.session = session

            async def save(self, item):
                self.session.add(item)
                self.session.commit()

        async def uses_import():
            engine.dispose()
            SessionLocal().commit()

        async def untyped(session):
            session.commit()
    ''',
}


def test_sba307_reports_every_kind_of_misuse(lint) -> None:
    files = _project({**SBA307_PROJECT, **SBA307_HEALTHY})
    run = lint(files)
    _assert_marked(run, files, "SBA307")


def test_sba307_messages_name_the_method_and_the_failure() -> None:
    findings = _check("SBA307", '''
        from sqlalchemy.ext.asyncio import AsyncSession

        async def load(session: AsyncSession, stmt):
            return session.execute(stmt).scalars().all()
    ''')
    (finding,) = findings
    assert finding.severity is Severity.RUNTIME
    assert finding.message == ("session.execute() is never awaited (AsyncSession.execute is a "
                               "coroutine): `.scalars()` is used on the coroutine")
    assert "SQLAlchemy 2.1.9" in finding.root_cause
    assert "AttributeError: 'coroutine' object has no attribute 'scalars'" in finding.root_cause
    assert finding.fix.description == (
        "Await it before using the result: `(await session.execute(stmt)).scalars()`.")
    assert finding.fix.codemod == "add-await"


def test_sba307_no_codemod_outside_async_def() -> None:
    (finding,) = _check("SBA307", '''
        from sqlmodel.ext.asyncio.session import AsyncSession

        def save(session: AsyncSession) -> None:
            session.commit()
    ''')
    assert finding.fix.codemod is None and not finding.fix.safe
    assert "RuntimeWarning: coroutine 'AsyncSession.commit' was never awaited" in finding.root_cause
    assert "async def" in finding.fix.description


@pytest.mark.parametrize("version,expected", [("2.1.9", 1), ("2.0.44", 0)])
def test_sba307_follows_the_installed_version(version: str, expected: int) -> None:
    findings = _check("SBA307", '''
        from sqlalchemy.ext.asyncio import AsyncSession

        async def wipe(session: AsyncSession, rows) -> None:
            session.delete_all(rows)
    ''', sqlalchemy_version=version)
    assert len(findings) == expected


def test_sba307_unknown_version_lowers_version_dependent_methods_only() -> None:
    findings = _check("SBA307", '''
        from sqlalchemy.ext.asyncio import AsyncSession

        async def load(session: AsyncSession, model) -> None:
            session.get_one(model, 1)
            session.commit()
    ''', sqlalchemy_version=None)
    severities = {f.message.split("(")[0]: f for f in findings}
    assert severities["session.get_one"].severity is Severity.WARNING
    assert "assumes a release from 2.0.0" in severities["session.get_one"].root_cause
    assert severities["session.commit"].severity is Severity.RUNTIME
    assert "1.4 and later" in severities["session.commit"].root_cause


# -- SBA316 --------------------------------------------------------------------------------------
SBA316_PROJECT = {
    "api/routes.py": '''
        from typing import Annotated

        from fastapi import APIRouter, Depends
        from sqlalchemy import text
        from sqlalchemy.orm import sessionmaker
        from sqlmodel import Session, SQLModel, create_engine, select

        from .models import Hero, User

        engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
        SessionLocal = sessionmaker(bind=engine, autoflush=False)

        def get_session():
            with Session(engine) as session:
                yield session

        SessionDep = Annotated[Session, Depends(get_session)]
        router = APIRouter()

        @router.get("/heroes")
        async def heroes(session: SessionDep):
            session.add(Hero(name="x"))
            session.commit()  # SBA316
            return session.exec(select(Hero)).all()

        @router.get("/users")
        async def users():
            with SessionLocal() as db:  # SBA316
                return db.query(User).all()

        @router.post("/reset")
        async def reset():
            SQLModel.metadata.drop_all(engine)  # SBA316
            SQLModel.metadata.create_all(bind=engine)

        @router.get("/ping")
        async def ping():
            with engine.begin() as conn:  # SBA316
                conn.execute(text("select 1"))
    ''',
}

SBA316_HEALTHY = {
    "api/healthy.py": '''
        import asyncio
        from contextlib import asynccontextmanager

        from fastapi import Depends, FastAPI
        from fastapi.concurrency import run_in_threadpool
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
        from sqlmodel import Session, SQLModel, create_engine, select

        from .models import Hero

        engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
        async_engine = create_async_engine("sqlite+aiosqlite:///./app.db")

        def get_session():
            with Session(engine) as session:
                yield session

        @asynccontextmanager
        async def startup(app: FastAPI):
            SQLModel.metadata.create_all(engine)
            yield

        app = FastAPI(lifespan=startup)

        @app.get("/heroes")
        def heroes(session: Session = Depends(get_session)):
            return session.exec(select(Hero)).all()

        def count() -> int:
            with Session(engine) as session:
                return len(session.exec(select(Hero)).all())

        @app.get("/count")
        async def count_heroes():
            via_pool = await run_in_threadpool(count)
            via_thread = await asyncio.to_thread(lambda: engine.connect().close())
            return via_pool, via_thread

        @app.get("/threaded")
        async def threaded():
            with Session(engine) as session:
                return await run_in_threadpool(session.exec, select(Hero))

        @app.get("/async")
        async def async_heroes():
            async with async_engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)
            async with AsyncSession(async_engine) as session:
                return (await session.execute(select(Hero))).scalars().all()

        @app.get("/wrong-class")
        async def wrong_class():
            with Session(async_engine) as session:
                return session.exec(select(Hero)).all()

        @app.get("/add-only")
        async def add_only(session: Session = Depends(get_session)):
            session.add(Hero(name="x"))
    ''',
    "api/events.py": '''
        from fastapi import FastAPI
        from sqlmodel import SQLModel, create_engine

        engine = create_engine("sqlite:///./app.db")

        async def create_tables():
            SQLModel.metadata.create_all(engine)

        app = FastAPI(on_startup=[create_tables])
    ''',
    "tests/test_api.py": '''
        from sqlmodel import Session, create_engine, text

        engine = create_engine("sqlite://")

        async def test_ping():
            with Session(engine) as session:
                session.exec(text("select 1"))
    ''',
}


def test_sba316_reports_each_async_function_once(lint) -> None:
    files = _project({**SBA316_PROJECT, **SBA316_HEALTHY})
    run = lint(files)
    _assert_marked(run, files, "SBA316")


def test_sba316_message_counts_the_other_calls() -> None:
    (finding,) = _check("SBA316", SBA316_PROJECT["api/routes.py"])[:1]
    assert finding.severity is Severity.WARNING and finding.fix.codemod is None
    assert finding.message == ("session.commit() (a sync sqlmodel.Session) blocks the event loop "
                               "inside async def heroes()")
    assert "more sync database calls at line 24" in finding.root_cause


# -- SBA310 --------------------------------------------------------------------------------------
SBA310_PROJECT = {
    "svc/teams.py": '''
        from typing import List, Optional

        from sqlalchemy.orm import selectinload
        from sqlmodel import Field, Relationship, SQLModel, select
        from sqlmodel.ext.asyncio.session import AsyncSession

        class Team(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            name: str
            heroes: List["Hero"] = Relationship(back_populates="team")
            eager_heroes: List["Hero"] = Relationship(sa_relationship_kwargs={"lazy": "selectin"})
            ordered: List["Hero"] = Relationship(sa_relationship_kwargs={"order_by": "Hero.name"})

        class Hero(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            name: str
            team_id: Optional[int] = Field(default=None, foreign_key="team.id")
            team: Optional[Team] = Relationship(back_populates="heroes")

        async def team_heroes(session: AsyncSession, team_id: int):
            team = await session.get(Team, team_id)
            print(team.eager_heroes)
            team.heroes.append(Hero(name="new"))  # SBA310
            return team.heroes

        async def all_teams(session: AsyncSession):
            result = await session.exec(select(Team))
            for team in result:
                print(team.ordered)  # SBA310
            statement = select(Team).where(Team.name != "").order_by(Team.name)
            teams = (await session.exec(statement)).all()
            return [len(t.heroes) for t in teams]  # SBA310

        async def hero_team(session: AsyncSession):
            hero = (await session.exec(select(Hero))).first()
            return hero.team.name  # SBA310

        async def loaded(session: AsyncSession, team_id: int):
            team = await session.get(Team, team_id, options=[selectinload(Team.heroes)])
            teams = (await session.exec(select(Team).options(selectinload(Team.heroes)))).all()
            other = await session.get(Team, team_id)
            await session.refresh(other, ["heroes"])
            return team.heroes, [t.heroes for t in teams], other.heroes
    ''',
    "svc/authors.py": '''
        from typing import List

        import sqlalchemy as sa
        from sqlalchemy import ForeignKey
        from sqlalchemy.ext.asyncio import AsyncAttrs, async_sessionmaker, create_async_engine
        from sqlalchemy.orm import (
            DeclarativeBase, Mapped, WriteOnlyMapped, mapped_column, relationship,
        )

        class Base(AsyncAttrs, DeclarativeBase):
            pass

        class Author(Base):
            __tablename__ = "author"
            id: Mapped[int] = mapped_column(primary_key=True)
            books: Mapped[List["Book"]] = relationship(back_populates="author", lazy="select")
            drafts: WriteOnlyMapped["Book"] = relationship(viewonly=True)
            reviews = relationship("Book", lazy="raise")
            legacy = relationship("Book", lazy=True)

        class Book(Base):
            __tablename__ = "book"
            id: Mapped[int] = mapped_column(primary_key=True)
            author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
            author: Mapped[Author] = relationship(back_populates="books", lazy="joined")

        engine = create_async_engine("sqlite+aiosqlite:///./app.db")
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

        async def report():
            async with SessionLocal() as session:
                author = await session.scalar(sa.select(Author).where(Author.id == 1))
                print(author.books)  # SBA310
                print(author.drafts, author.reviews, await author.awaitable_attrs.books)
                rows = await session.execute(sa.select(Author))
                for row in rows:
                    print(row.books)
                for item in rows.scalars().all():
                    print(item.legacy)  # SBA310
                one = (await session.execute(sa.select(Author))).scalar_one()
                book = await session.get(Book, 1)
                return one.books, book.author  # SBA310

        def sync_report(session):
            author = session.get(Author, 1)
            return author.books
    ''',
    "svc/elsewhere.py": '''
        from sqlmodel import select
        from sqlmodel.ext.asyncio.session import AsyncSession

        from .teams import Team

        async def imported_model(session: AsyncSession):
            team = await session.get(Team, 1)
            return team.heroes

        class Service:
            def __init__(self, session: AsyncSession) -> None:
                self.session = session

            async def unresolved(self):
                team = await self.session.get(Team, 1)
                return team.heroes
    ''',
}


def test_sba310_reports_lazy_reads_of_async_loaded_objects(lint) -> None:
    files = _project(SBA310_PROJECT)
    run = lint(files)
    _assert_marked(run, files, "SBA310")


@pytest.mark.parametrize("version,helper", [("2.1.9", "await_()"), ("2.0.44", "await_only()")])
def test_sba310_quotes_the_installed_versions_error(version: str, helper: str) -> None:
    findings = _check("SBA310", SBA310_PROJECT["svc/teams.py"], sqlalchemy_version=version)
    assert findings and all(f"can't call {helper} here\" on SQLAlchemy {version}" in f.root_cause
                            for f in findings)
    first = findings[0]
    assert first.message == ("Team.heroes is lazy-loaded from team, loaded by AsyncSession.get() "
                             "in async def team_heroes()")
    assert "options=[selectinload(Team.heroes)]" in first.fix.description
    assert 'sa_relationship_kwargs={"lazy": "selectin"}' in first.fix.description


def test_sba307_follows_variables_through_branches_and_loops() -> None:
    findings = _check("SBA307", '''
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession

        async def branches(session: AsyncSession, flag: bool):
            if flag:
                result = session.execute(text("select 1"))
            else:
                result = session.execute(text("select 2"))
            return (await result).all()

        async def rebound(session: AsyncSession):
            result = session.execute(text("select 1"))
            result = await session.execute(text("select 2"))
            return result.all()

        async def in_loop(session: AsyncSession, items):
            pending = None
            for item in items:
                if pending is not None:
                    await pending
                pending = session.execute(text("select 1"))

        async def streamed(session: AsyncSession):
            async for row in session.stream(text("select 1")):
                print(row)
    ''')
    assert [(f.line, f.message.split(": ", 1)[1]) for f in findings] == [
        (12, "it is assigned to `result`, which is never awaited"),
        (24, "the coroutine is iterated with async for"),
    ]
    assert "'async for' requires an object with __aiter__ method" in findings[1].root_cause


@pytest.mark.parametrize("declaration,reported", [
    ('Relationship(back_populates="team")', True),
    ('Relationship(sa_relationship_kwargs={"lazy": "select"})', True),
    ('Relationship(sa_relationship_kwargs=dict(lazy="selectin"))', False),
    ('Relationship(sa_relationship_kwargs={"lazy": "joined"})', False),
    ('Relationship(sa_relationship_kwargs={"lazy": "noload"})', False),
    ('Relationship(sa_relationship_kwargs={"lazy": "dynamic"})', False),
    ('Relationship(sa_relationship_kwargs=OPTIONS)', False),
    ('Relationship(sa_relationship=relationship(lazy="raise_on_sql"))', False),
    ('Relationship(sa_relationship=relationship(back_populates="team"))', True),
    ('Relationship(**EXTRA)', False),
])
def test_sba310_reads_the_declared_strategy(declaration: str, reported: bool) -> None:
    findings = _check("SBA310", f'''
        from typing import List, Optional

        from sqlalchemy.orm import relationship
        from sqlmodel import Field, Relationship, SQLModel
        from sqlmodel.ext.asyncio.session import AsyncSession

        OPTIONS = {{"lazy": "selectin"}}
        EXTRA = {{}}

        class Team(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            heroes: List["Hero"] = {declaration}

        async def heroes(session: AsyncSession):
            team = await session.get(Team, 1)
            return team.heroes
    ''')
    assert len(findings) == int(reported)


def test_sba310_needs_a_table_model() -> None:
    findings = _check("SBA310", '''
        from typing import List

        from sqlmodel import Relationship, SQLModel
        from sqlmodel.ext.asyncio.session import AsyncSession

        class TeamRead(SQLModel):
            heroes: List["Hero"] = Relationship()

        async def heroes(session: AsyncSession):
            team = await session.get(TeamRead, 1)
            return team.heroes
    ''')
    assert findings == []
