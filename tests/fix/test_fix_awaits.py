"""add-await (SBA307) on real findings."""
from __future__ import annotations

from fixdb_helpers import again, dedent, findings, fix, run, write

_SOURCE = '''
    from typing import Optional

    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlmodel import Field, SQLModel, select
    from sqlmodel.ext.asyncio.session import AsyncSession


    class Hero(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str


    engine = create_async_engine("sqlite+aiosqlite://")
    SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


    async def create_hero(name: str) -> list:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        async with SessionLocal() as session:
            session.add(Hero(name=name))
            session.commit()  # the write
            heroes = session.exec(select(Hero)).all()
            return [hero.name for hero in heroes]
'''

_FIXED = _SOURCE.replace("session.commit()  # the write", "await session.commit()  # the write"
                         ).replace("heroes = session.exec(select(Hero)).all()",
                                   "heroes = (await session.exec(select(Hero))).all()")

_RUN = "import asyncio, app.db as db; print(asyncio.run(db.create_hero('Deadpond')))"


def test_add_await(tmp_path):
    write(tmp_path, {"app/db.py": _SOURCE})
    assert "'coroutine' object has no attribute 'all'" in run(tmp_path, _RUN).stderr
    outcome, found = fix(tmp_path, "app/db.py", "SBA307", "add-await")
    assert len(found) == 2 and len(outcome.fixed) == 2
    assert outcome.module.code == dedent(_FIXED)
    assert findings(tmp_path, "SBA307") == []
    assert again(tmp_path, "app/db.py", "add-await", found) == dedent(_FIXED)
    after = run(tmp_path, _RUN)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "['Deadpond']"


def test_add_await_forms(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession


        async def report(session: AsyncSession):
            rows = list(session.execute(text("select 1")))
            first = session.execute(text("select 2"))[0]
            if session.get(dict, 1):
                return rows, first
            return session.scalar(text("select 3"))
    '''})
    outcome, found = fix(tmp_path, "app/db.py", "SBA307", "add-await")
    assert len(found) == 4 and len(outcome.fixed) == 4
    code = outcome.module.code
    assert 'rows = list(await session.execute(text("select 1")))' in code
    assert 'first = (await session.execute(text("select 2")))[0]' in code
    assert "if await session.get(dict, 1):" in code
    assert 'return await session.scalar(text("select 3"))' in code
    assert findings(tmp_path, "SBA307") == []


def test_add_await_skips_plain_functions_and_lambdas(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy.ext.asyncio import AsyncSession


        def save(session: AsyncSession) -> None:
            session.commit()


        async def save_all(sessions: list, session: AsyncSession) -> None:
            callbacks = [lambda: session.commit().send(None)]
            return callbacks
    '''})
    found = findings(tmp_path, "SBA307")
    source = (tmp_path / "app/db.py").read_text()
    offered = [f for f in found if f.fix.codemod == "add-await"]
    assert all(f.line == 5 or f.fix.codemod is None for f in found)
    assert found and all(f.fix.codemod is None for f in found if f.line == 5)
    from flake8_stability.fix.codemod import apply_codemod, registry
    outcome = apply_codemod(registry()["add-await"](), source, found)
    assert outcome.module.code == source
    assert outcome.fixed == []
    assert all("not directly inside an async def" in why for _, why in outcome.skipped)
    assert len(outcome.skipped) == len(found) >= len(offered)


def test_add_await_on_its_own_output_reports_the_target_fixed(tmp_path):
    write(tmp_path, {"app/db.py": _SOURCE})
    outcome, found = fix(tmp_path, "app/db.py", "SBA307", "add-await")
    from flake8_stability.fix.codemod import apply_codemod, registry
    second = apply_codemod(registry()["add-await"](), outcome.module.code, found)
    assert second.module.code == outcome.module.code
    assert len(second.fixed) == 2 and second.skipped == []
