"""wrap-text (SBA314) on real findings."""
from __future__ import annotations

from fixdb_helpers import again, dedent, findings, fix, run, write

from flake8_stability.fix.codemod import apply_codemod, registry

_SOURCE = '''
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("sqlite+aiosqlite://")
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    TABLES = 'SELECT count(*) FROM sqlite_master'


    async def health() -> dict:
        async with SessionLocal() as session:
            one = (await session.execute('SELECT 1')).scalar_one()  # keep quotes
        async with engine.connect() as conn:
            tables = await conn.scalar(
                TABLES
            )
        return {"one": one, "tables": tables}
'''

_FIXED = '''
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy import text

    engine = create_async_engine("sqlite+aiosqlite://")
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    TABLES = 'SELECT count(*) FROM sqlite_master'


    async def health() -> dict:
        async with SessionLocal() as session:
            one = (await session.execute(text('SELECT 1'))).scalar_one()  # keep quotes
        async with engine.connect() as conn:
            tables = await conn.scalar(
                text(TABLES)
            )
        return {"one": one, "tables": tables}
'''

_RUN = "import asyncio, app.db as db; print(asyncio.run(db.health()))"


def test_wrap_text(tmp_path):
    write(tmp_path, {"app/db.py": _SOURCE})
    assert "Textual SQL expression 'SELECT 1' should be explicitly declared as text('SELECT 1')" \
        in run(tmp_path, _RUN).stderr
    outcome, found = fix(tmp_path, "app/db.py", "SBA314", "wrap-text")
    assert len(found) == 2 and len(outcome.fixed) == 2
    assert outcome.module.code == dedent(_FIXED)
    assert findings(tmp_path, "SBA314") == []
    assert again(tmp_path, "app/db.py", "wrap-text", found) == dedent(_FIXED)
    after = run(tmp_path, _RUN)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "{'one': 1, 'tables': 0}"


def test_wrap_text_uses_an_imported_text_and_keeps_findings_safety(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlmodel import Session, create_engine, text

        engine = create_engine("sqlite://")


        def check(table: str) -> None:
            with Session(engine) as session:
                session.exec("SELECT 1")
                session.exec(f"SELECT count(*) FROM {table}")
    '''})
    outcome, found = fix(tmp_path, "app/db.py", "SBA314", "wrap-text")
    assert [f.fix.safe for f in found] == [True, False]
    assert len(outcome.fixed) == 2
    code = outcome.module.code
    assert code.count("from sqlmodel import Session, create_engine, text") == 1
    assert "from sqlalchemy import text" not in code
    assert 'session.exec(text("SELECT 1"))' in code
    assert 'session.exec(text(f"SELECT count(*) FROM {table}"))' in code
    after = run(tmp_path, "import app.db as db; db.check('sqlite_master')")
    assert after.returncode == 0, after.stderr


def test_wrap_text_skips_where_text_is_another_name(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy.ext.asyncio import AsyncSession


        async def search(session: AsyncSession, text: str):
            return await session.execute("SELECT 1")
    '''})
    source = (tmp_path / "app/db.py").read_text()
    outcome, found = fix(tmp_path, "app/db.py", "SBA314", "wrap-text")
    assert len(found) == 1 and outcome.fixed == []
    assert outcome.skipped[0][1] == "the name text is bound to something else where the call is"
    assert outcome.module.code == source
    assert apply_codemod(registry()["wrap-text"](), source, found).module.code == source
