"""run-sync-create-all (SBA308) on real findings."""
from __future__ import annotations

from fixdb_helpers import again, dedent, findings, fix, run, write

_MAIN = '''
    from contextlib import asynccontextmanager
    from typing import Optional

    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel import Field, SQLModel


    class Hero(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str


    engine = create_async_engine("sqlite+aiosqlite:///./app.db")


    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Create the tables before serving.
        SQLModel.metadata.create_all(engine, checkfirst=True)
        yield
        await engine.dispose()


    app = FastAPI(lifespan=lifespan)
'''

_FIXED = _MAIN.replace(
    "        SQLModel.metadata.create_all(engine, checkfirst=True)\n",
    "        async with engine.begin() as conn:\n"
    "            await conn.run_sync(SQLModel.metadata.create_all, checkfirst=True)\n")

_BOOT = ("import asyncio, app.main as m\n"
         "async def boot():\n"
         "    async with m.lifespan(m.app):\n"
         "        print('started')\n"
         "asyncio.run(boot())")


def test_run_sync_create_all_in_the_lifespan(tmp_path):
    write(tmp_path, {"app/main.py": _MAIN})
    before = run(tmp_path, _BOOT)
    assert "AttributeError: 'AsyncEngine' object has no attribute '_run_ddl_visitor'" in \
        before.stderr
    outcome, found = fix(tmp_path, "app/main.py", "SBA308", "run-sync-create-all")
    assert [f.severity.value for f in found] == ["blocking"]
    assert len(outcome.fixed) == 1
    assert outcome.module.code == dedent(_FIXED)
    assert findings(tmp_path, "SBA308") == []
    assert again(tmp_path, "app/main.py", "run-sync-create-all", found) == dedent(_FIXED)
    assert run(tmp_path, "import app.main").returncode == 0
    after = run(tmp_path, _BOOT)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "started"
    assert (tmp_path / "app.db").exists()


def test_run_sync_create_all_picks_a_free_connection_name(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy import MetaData
        from sqlalchemy.ext.asyncio import create_async_engine

        metadata = MetaData()
        engine = create_async_engine("sqlite+aiosqlite://")


        async def reset(conn=None):
            metadata.drop_all(bind=engine)
            return conn
    '''})
    outcome, _ = fix(tmp_path, "app/db.py", "SBA308", "run-sync-create-all")
    assert len(outcome.fixed) == 1
    assert ("    async with engine.begin() as connection:\n"
            "        await connection.run_sync(metadata.drop_all)\n") in outcome.module.code
    assert findings(tmp_path, "SBA308") == []
    after = run(tmp_path, "import asyncio, app.db as db; asyncio.run(db.reset())")
    assert after.returncode == 0, after.stderr


def test_run_sync_create_all_is_not_offered_outside_async_functions(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlmodel import SQLModel

        engine = create_async_engine("sqlite+aiosqlite://")


        def init_db():
            SQLModel.metadata.create_all(engine)
    '''})
    found = findings(tmp_path, "SBA308")
    assert len(found) == 1 and found[0].fix.codemod is None
    from flake8_stability.fix.codemod import apply_codemod, registry
    source = (tmp_path / "app/db.py").read_text()
    outcome = apply_codemod(registry()["run-sync-create-all"](), source, found)
    assert outcome.module.code == source and outcome.fixed == []
    assert "needs an async context" in outcome.skipped[0][1]


def test_run_sync_create_all_keeps_crlf_comments_and_two_space_indents(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlmodel import SQLModel

        engine = create_async_engine("sqlite+aiosqlite://")


        async def init_db():
          # tables first
          SQLModel.metadata.create_all(engine)  # at boot
          return 1
    '''})
    found = findings(tmp_path, "SBA308")
    from flake8_stability.fix.codemod import apply_codemod, registry
    source = (tmp_path / "app/db.py").read_text().replace("\n", "\r\n")
    code = apply_codemod(registry()["run-sync-create-all"](), source, found).module.code
    assert code.endswith(
        "async def init_db():\r\n"
        "  # tables first\r\n"
        "  async with engine.begin() as conn:\r\n"
        "    await conn.run_sync(SQLModel.metadata.create_all)  # at boot\r\n"
        "  return 1\r\n")
    assert "\n" not in code.replace("\r\n", "")
