"""The session codemods on real findings: async-sessionmaker (SBA304), sqlmodel-async-session
(SBA305), expire-on-commit-false (SBA309)."""
from __future__ import annotations

from fixdb_helpers import again, dedent, findings, fix, run, write

_SBA304 = '''
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.orm import sessionmaker

    engine = create_async_engine("sqlite+aiosqlite://")
    # One factory for the whole app.
    SessionLocal = sessionmaker(
        bind=engine,
        autoflush=False,
    )


    async def ping():
        async with SessionLocal() as session:
            return (await session.execute(text("select 1"))).scalar_one()
'''

_SBA304_FIXED = '''
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("sqlite+aiosqlite://")
    # One factory for the whole app.
    SessionLocal = async_sessionmaker(
        bind=engine,
        autoflush=False,
        expire_on_commit=False,
    )


    async def ping():
        async with SessionLocal() as session:
            return (await session.execute(text("select 1"))).scalar_one()
'''

_PING = "import asyncio, app.db as db; print(asyncio.run(db.ping()))"


def test_async_sessionmaker_fixes_the_factory(tmp_path):
    write(tmp_path, {"app/db.py": _SBA304})
    before = run(tmp_path, _PING)
    assert "does not support the asynchronous context manager protocol" in before.stderr
    outcome, found = fix(tmp_path, "app/db.py", "SBA304", "async-sessionmaker")
    assert len(outcome.fixed) == 1 and not outcome.skipped
    assert outcome.module.code == dedent(_SBA304_FIXED)
    assert findings(tmp_path, "SBA304") == []
    assert again(tmp_path, "app/db.py", "async-sessionmaker", found) == dedent(_SBA304_FIXED)
    after = run(tmp_path, _PING)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "1"


def test_async_sessionmaker_keeps_a_sessionmaker_still_used(tmp_path):
    write(tmp_path, {"app/db.py": '''
        import sqlalchemy as sa
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine("sqlite+aiosqlite://")
        sync_engine = sa.create_engine("sqlite://")
        SessionLocal = sa.orm.sessionmaker(engine)
        SyncSession = sa.orm.sessionmaker(sync_engine)
    '''})
    outcome, _ = fix(tmp_path, "app/db.py", "SBA304", "async-sessionmaker")
    assert len(outcome.fixed) == 1
    code = outcome.module.code
    assert "SessionLocal = async_sessionmaker(engine, expire_on_commit=False)" in code
    assert "SyncSession = sa.orm.sessionmaker(sync_engine)" in code
    assert "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine" in code
    assert run(tmp_path, "import app.db").returncode == 0


def test_async_sessionmaker_is_not_offered_for_scoped_or_reverse_bindings(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlalchemy.orm import scoped_session, sessionmaker

        engine = create_async_engine("sqlite+aiosqlite://")
        Scoped = scoped_session(sessionmaker(engine))
        sync_engine = create_engine("sqlite://")
        Reverse = async_sessionmaker(sync_engine)
    '''})
    found = findings(tmp_path, "SBA304")
    assert len(found) == 2
    assert all(finding.fix.codemod is None for finding in found)


def test_async_sessionmaker_skips_a_call_it_cannot_find(tmp_path):
    write(tmp_path, {"app/db.py": _SBA304})
    found = findings(tmp_path, "SBA304")
    from flake8_stability.fix.codemod import apply_codemod, registry
    shifted = "\n" + dedent(_SBA304)  # the finding's line no longer holds the call
    outcome = apply_codemod(registry()["async-sessionmaker"](), shifted, found)
    assert outcome.module.code == shifted
    assert [why for _, why in outcome.skipped] == [
        "no sessionmaker(...) call at the finding's position"]


_SBA305 = {
    "app/__init__.py": "",
    "app/models.py": '''
        from typing import Optional

        from sqlmodel import Field, SQLModel


        class Hero(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            name: str
    ''',
    "app/db.py": '''
        from fastapi import Depends
        from sqlalchemy.ext.asyncio import (
            AsyncSession,
            async_sessionmaker,
            create_async_engine,
        )
        from sqlmodel import SQLModel, select

        from app.models import Hero

        engine = create_async_engine("sqlite+aiosqlite://")
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


        async def get_session():
            async with SessionLocal() as session:
                yield session


        async def list_heroes(session: AsyncSession = Depends(get_session)):
            return (await session.exec(select(Hero))).all()


        async def main():
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)
            async with SessionLocal() as session:
                session.add(Hero(name="Deadpond"))
                await session.commit()
            async for session in get_session():
                return [hero.name for hero in await list_heroes(session)]
    ''',
}

_SBA305_FIXED = '''
    from fastapi import Depends
    from sqlalchemy.ext.asyncio import (
        async_sessionmaker,
        create_async_engine,
    )
    from sqlmodel import SQLModel, select

    from app.models import Hero
    from sqlmodel.ext.asyncio.session import AsyncSession

    engine = create_async_engine("sqlite+aiosqlite://")
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)
'''

_HEROES = "import asyncio, app.db as db; print(asyncio.run(db.main()))"


def test_sqlmodel_async_session_switches_the_class(tmp_path):
    write(tmp_path, _SBA305)
    assert "'AsyncSession' object has no attribute 'exec'" in run(tmp_path, _HEROES).stderr
    outcome, found = fix(tmp_path, "app/db.py", "SBA305", "sqlmodel-async-session")
    assert len(found) == 1 and len(outcome.fixed) == 1
    assert outcome.module.code.startswith(dedent(_SBA305_FIXED))
    assert "async def list_heroes(session: AsyncSession = Depends(get_session)):" in \
        outcome.module.code
    assert findings(tmp_path, "SBA305") == []
    code = outcome.module.code
    assert again(tmp_path, "app/db.py", "sqlmodel-async-session", found) == code
    after = run(tmp_path, _HEROES)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "['Deadpond']"


def test_sqlmodel_async_session_fixes_a_constructor(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
        from sqlmodel import select

        engine = create_async_engine("sqlite+aiosqlite://")


        async def one():
            async with AsyncSession(engine, expire_on_commit=False) as session:
                return (await session.exec(select(1))).one()
    '''})
    outcome, _ = fix(tmp_path, "app/db.py", "SBA305", "sqlmodel-async-session")
    assert len(outcome.fixed) == 1
    assert outcome.module.code.splitlines()[:2] == [
        "from sqlalchemy.ext.asyncio import create_async_engine",
        "from sqlmodel import select"]
    assert "from sqlmodel.ext.asyncio.session import AsyncSession" in outcome.module.code
    assert findings(tmp_path, "SBA305") == []
    after = run(tmp_path, "import asyncio, app.db as db; print(asyncio.run(db.one()))")
    assert after.returncode == 0, after.stderr


def test_sqlmodel_async_session_skips_a_session_made_elsewhere(tmp_path):
    write(tmp_path, {
        "app/db.py": '''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite://")
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


            async def get_session():
                async with SessionLocal() as session:
                    yield session
        ''',
        "app/routes.py": '''
            from typing import Annotated

            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlmodel import select

            from app.db import get_session

            SessionDep = Annotated[AsyncSession, Depends(get_session)]


            async def one(session: SessionDep):
                return (await session.exec(select(1))).one()
        ''',
    })
    found = findings(tmp_path, "SBA305", "app/routes.py")
    assert len(found) == 1
    before = (tmp_path / "app/routes.py").read_text()
    outcome, _ = fix(tmp_path, "app/routes.py", "SBA305", "sqlmodel-async-session")
    assert outcome.fixed == [] and len(outcome.skipped) == 1
    assert "annotation" in outcome.skipped[0][1]
    assert outcome.module.code == before


_SBA309 = '''
    from typing import Optional

    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlmodel import Field, SQLModel
    from sqlmodel.ext.asyncio.session import AsyncSession


    class Hero(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str


    engine = create_async_engine("sqlite+aiosqlite://")
    SessionLocal = async_sessionmaker(engine, class_=AsyncSession)  # request-scoped
    Explicit = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=True)


    async def create_hero(name: str) -> int:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        async with SessionLocal() as session:
            hero = Hero(name=name)
            session.add(hero)
            await session.commit()
            return hero.id


    async def count() -> int:
        async with AsyncSession(
            engine
        ) as session:
            return len((await session.exec(Hero.__table__.select())).all())
'''

_CREATE = "import asyncio, app.db as db; print(asyncio.run(db.create_hero('Deadpond')))"


def test_expire_on_commit_false(tmp_path):
    write(tmp_path, {"app/db.py": _SBA309})
    assert "MissingGreenlet" in run(tmp_path, _CREATE).stderr
    outcome, found = fix(tmp_path, "app/db.py", "SBA309", "expire-on-commit-false")
    assert len(found) == 3 and len(outcome.fixed) == 3
    code = outcome.module.code
    expected = dedent(_SBA309).replace(
        "class_=AsyncSession)  # request-scoped",
        "class_=AsyncSession, expire_on_commit=False)  # request-scoped").replace(
        "expire_on_commit=True", "expire_on_commit=False").replace(
        "AsyncSession(\n        engine\n    )",
        "AsyncSession(\n        engine, expire_on_commit=False\n    )")
    assert code == expected
    assert findings(tmp_path, "SBA309") == []
    assert again(tmp_path, "app/db.py", "expire-on-commit-false", found) == code
    after = run(tmp_path, _CREATE)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "1"


def test_expire_on_commit_false_skips_double_star_options(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite://")
        OPTIONS = {"autoflush": False}


        async def get_session():
            async with AsyncSession(engine) as session:
                yield session
    '''})
    found = findings(tmp_path, "SBA309")
    assert len(found) == 1
    from flake8_stability.fix.codemod import apply_codemod, registry
    source = (tmp_path / "app/db.py").read_text().replace(
        "AsyncSession(engine)", "AsyncSession(engine, **OPTIONS)")
    outcome = apply_codemod(registry()["expire-on-commit-false"](), source, found)
    assert outcome.module.code == source and outcome.fixed == []
    assert "**options" in outcome.skipped[0][1]


def test_sqlmodel_async_session_switches_a_named_legacy_class(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
        from sqlalchemy.orm import sessionmaker
        from sqlmodel import select

        engine = create_async_engine("sqlite+aiosqlite://")
        SessionLocal = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


        async def one():
            async with SessionLocal() as session:
                return (await session.exec(select(1))).one()
    '''})
    outcome, _ = fix(tmp_path, "app/db.py", "SBA305", "sqlmodel-async-session")
    assert len(outcome.fixed) == 1
    code = outcome.module.code
    assert "SessionLocal = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)" \
        in code
    assert "from sqlmodel.ext.asyncio.session import AsyncSession" in code
    assert findings(tmp_path, "SBA305") == []
    after = run(tmp_path, "import asyncio, app.db as db; print(asyncio.run(db.one()))")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "1"


def test_async_sessionmaker_is_not_offered_on_sqlalchemy_1_4(tmp_path):
    from stack_venvs import build

    python = str(build(("SQLAlchemy==1.4.54", "typing-extensions==4.12.2")))
    write(tmp_path, {"app/db.py": _SBA304})
    found = findings(tmp_path, "SBA304", python=python)
    assert len(found) == 1
    assert found[0].fix.codemod is None
    assert "async_sessionmaker needs SQLAlchemy 2.0, SQLAlchemy 1.4.54 is installed" in \
        found[0].fix.description
