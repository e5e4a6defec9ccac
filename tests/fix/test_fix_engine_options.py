"""drop-invalid-pool-args (SBA311) and fix-connect-args (SBA312) on real findings."""
from __future__ import annotations

from fixdb_helpers import again, dedent, findings, fix, run, write

from flake8_stability.fix.codemod import apply_codemod, registry

_POOLS = '''
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    # The test engine copied the production pool settings.
    engine = sa.create_engine("sqlite://", pool_size=5, max_overflow=10, pool_pre_ping=True)

    bouncer = create_async_engine(
        "postgresql+asyncpg://app:secret@pgbouncer:6432/app",
        poolclass=sa.pool.NullPool,
        pool_recycle=1800,  # PgBouncer closes idle links
        pool_size=20,
        max_overflow=0,
    )
'''

_POOLS_FIXED = '''
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    # The test engine copied the production pool settings.
    engine = sa.create_engine("sqlite://", pool_size=5, pool_pre_ping=True)

    bouncer = create_async_engine(
        "postgresql+asyncpg://app:secret@pgbouncer:6432/app",
        poolclass=sa.pool.NullPool,
        pool_recycle=1800,  # PgBouncer closes idle links
    )
'''


def test_drop_invalid_pool_args(tmp_path):
    write(tmp_path, {"app/db.py": _POOLS})
    before = run(tmp_path, "import app.db")
    assert "TypeError: Invalid argument(s) 'max_overflow' sent to create_engine()" in \
        before.stderr
    outcome, found = fix(tmp_path, "app/db.py", "SBA311", "drop-invalid-pool-args")
    assert [f.severity.value for f in found] == ["blocking", "blocking"]
    assert len(outcome.fixed) == 2
    assert outcome.module.code == dedent(_POOLS_FIXED)
    assert findings(tmp_path, "SBA311") == []
    assert again(tmp_path, "app/db.py", "drop-invalid-pool-args", found) == dedent(_POOLS_FIXED)
    after = run(tmp_path, "import app.db; print(app.db.bouncer.pool.__class__.__name__)")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "NullPool"


def test_drop_invalid_pool_args_skips_arguments_passed_with_double_star(tmp_path):
    write(tmp_path, {"app/db.py": '''
        from sqlmodel import create_engine

        engine = create_engine("sqlite://", max_overflow=10)
    '''})
    found = findings(tmp_path, "SBA311")
    assert len(found) == 1
    source = dedent('''
        from sqlmodel import create_engine

        engine = create_engine("sqlite://", **{"max_overflow": 10})
    ''')
    outcome = apply_codemod(registry()["drop-invalid-pool-args"](), source, found)
    assert outcome.module.code == source and outcome.fixed == []
    assert "passed with **" in outcome.skipped[0][1]


_REFUSED = "127.0.0.1:1"  # nothing listens there: a driver that takes the options is refused

_CONNECT = f'''
    import asyncio

    from sqlalchemy import create_engine, text
    from sqlalchemy.ext.asyncio import create_async_engine

    DATABASE_URL = "postgresql+asyncpg://app:secret@{_REFUSED}/app?sslmode=require"
    CONNECT_ARGS = {{"sslmode": "require", "timeout": 10}}

    neon = create_async_engine(DATABASE_URL)
    pooled = create_async_engine(
        "postgresql+asyncpg://app:secret@{_REFUSED}/app",
        connect_args=CONNECT_ARGS,
    )
    legacy = create_engine(
        "postgresql+psycopg2://app:secret@{_REFUSED}/app",
        connect_args={{"check_same_thread": False, "connect_timeout": 5}},
    )
    tutorial = create_async_engine("postgresql+asyncpg://app:secret@{_REFUSED}/app",
                                   connect_args=dict(check_same_thread=False))


    async def ping(engine):
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
'''

_CONNECT_FIXED = _CONNECT.replace("/app?sslmode=require", "/app?ssl=require").replace(
    '{"sslmode": "require"', '{"ssl": "require"').replace(
    '{"check_same_thread": False, "connect_timeout": 5}', '{"connect_timeout": 5}').replace(
    "connect_args=dict(check_same_thread=False)", "connect_args=dict()")

_PROBE = '''
import asyncio, app.db as db
def connect(name):
    engine = getattr(db, name)
    if name == "legacy":
        return engine.connect()
    return asyncio.run(db.ping(engine))
for name in ("neon", "pooled", "legacy", "tutorial"):
    try:
        connect(name)
    except Exception as error:
        text = str(error).replace("\\n", " ")
        print(name, type(error).__name__, "refused" in text.lower() or "failed" in text.lower(),
              "unexpected keyword" in text or "invalid connection option" in text)
'''


def test_fix_connect_args(tmp_path):
    write(tmp_path, {"app/db.py": _CONNECT})
    before = run(tmp_path, _PROBE).stdout.splitlines()
    assert [line.split()[-1] for line in before] == ["True"] * 4, before
    outcome, found = fix(tmp_path, "app/db.py", "SBA312", "fix-connect-args")
    assert len(found) == 4 and len(outcome.fixed) == 4
    assert outcome.module.code == dedent(_CONNECT_FIXED)
    assert findings(tmp_path, "SBA312") == []
    assert again(tmp_path, "app/db.py", "fix-connect-args", found) == dedent(_CONNECT_FIXED)
    after = run(tmp_path, _PROBE)
    assert after.returncode == 0, after.stderr
    lines = after.stdout.splitlines()
    assert [line.split()[-2:] for line in lines] == [["True", "False"]] * 4, lines


def test_fix_connect_args_skips_a_url_from_the_environment(tmp_path):
    write(tmp_path, {"app/db.py": f'''
        import os

        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(os.getenv(
            "DATABASE_URL",
            "postgresql+asyncpg://app:secret@{_REFUSED}/app?sslmode=require",
        ))
    '''})
    before = (tmp_path / "app/db.py").read_text()
    outcome, found = fix(tmp_path, "app/db.py", "SBA312", "fix-connect-args")
    assert len(found) == 1 and outcome.fixed == []
    assert "environment or settings" in outcome.skipped[0][1]
    assert outcome.module.code == before


def test_fix_connect_args_edits_a_constant_only_when_no_other_engine_uses_it(tmp_path):
    write(tmp_path, {"app/db.py": f'''
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import create_async_engine

        connect_args = {{"sslmode": "require"}}
        DATABASE_URL = "postgresql+asyncpg://app:secret@{_REFUSED}/app?sslmode=require"
        SYNC_URL = DATABASE_URL.replace("+asyncpg", "+psycopg")

        engine = create_async_engine(DATABASE_URL)
        pooled = create_async_engine("postgresql+asyncpg://app@db/app", connect_args=connect_args)
    '''})
    outcome, found = fix(tmp_path, "app/db.py", "SBA312", "fix-connect-args")
    assert len(found) == 2
    assert [why for _, why in outcome.skipped] == [
        "the URL is not a string literal of this module used only here (it comes from the "
        "environment or settings, or other engines share it): write ssl= instead of sslmode= "
        "where it is set"]
    assert len(outcome.fixed) == 1
    assert 'connect_args = {"ssl": "require"}' in outcome.module.code
    assert "/app?sslmode=require" in outcome.module.code
