"""include-router-attribute (SBA404), router-prefix-slashes (SBA405), depends-uncall (SBA413):
real findings from the engine, the codemod applied, the finding gone and the app importing."""
from __future__ import annotations

from pathlib import Path

from app_fix_projects import again, asgi_get, findings, fix, fix_examples, run, write

from flake8_stability.fix.codemod import apply_codemod, registry
from flake8_stability.rules.app.routers import IncludeRouterWrongObject, RouterPrefixInvalid
from flake8_stability.rules.app.signatures import DependsCalled

USERS = '''
    from fastapi import APIRouter

    router = APIRouter(prefix="/users")


    @router.get("/")
    def read_users():
        return []
'''


def test_include_router_attribute(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/api/__init__.py": "",
        "app/api/users.py": USERS,
        "app/main.py": '''
            from fastapi import FastAPI

            from app.api import users

            app = FastAPI()
            app.include_router(users)  # the users API
        ''',
    })
    assert "_contains_router" in run(tmp_path, "import app.main").stderr
    applied = fix(tmp_path, "SBA404", "include-router-attribute")
    main = tmp_path / "app/main.py"
    assert main.read_text().endswith("app.include_router(users.router)  # the users API\n")
    assert again(applied) == {str(main): main.read_text()}
    assert findings(tmp_path, "SBA404") == []
    proof = run(tmp_path, "import app.main; print(sorted(app.main.app.openapi()['paths']))")
    assert proof.returncode == 0, proof.stderr
    assert "/users/" in proof.stdout


def test_include_router_attribute_skips_a_stale_finding(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/api/__init__.py": "",
        "app/api/users.py": USERS,
        "app/main.py": "from fastapi import FastAPI\n\nfrom app.api import users\n\n"
                       "app = FastAPI()\napp.include_router(users)\n",
    })
    (finding,) = findings(tmp_path, "SBA404")
    edited = "from fastapi import FastAPI\n\nfrom app.api import users as members\n\n" \
             "app = FastAPI()\napp.include_router(members)\n"
    outcome = apply_codemod(registry()["include-router-attribute"](), edited, [finding])
    assert outcome.module.code == edited
    assert outcome.skipped[0][1] == "`members` is not the module the finding names"


def test_router_prefix_slashes(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": '''
            from fastapi import APIRouter, FastAPI

            API_PREFIX = "/api/v1/"
            users = APIRouter(prefix='users/')  # single quotes stay
            items = APIRouter(prefix="/items//")
            health = APIRouter()
            app = FastAPI()
            app.include_router(users, prefix="/")
            app.include_router(items)
            app.include_router(health, prefix=API_PREFIX)
        ''',
    })
    applied = fix(tmp_path, "SBA405", "router-prefix-slashes")
    text = (tmp_path / "app/main.py").read_text()
    assert "users = APIRouter(prefix='/users')  # single quotes stay\n" in text
    assert 'items = APIRouter(prefix="/items")\n' in text
    assert 'app.include_router(users, prefix="")\n' in text
    assert applied.skipped == [(10, "the prefix is not a string literal at the call: fix the "
                                    "value where it is defined")]
    assert again(applied) == {str(tmp_path / "app/main.py"): text}
    assert [f.line for f in findings(tmp_path, "SBA405")] == [10]  # the constant, by hand
    fixed = text.replace('API_PREFIX = "/api/v1/"', 'API_PREFIX = "/api/v1"')
    (tmp_path / "app/main.py").write_text(fixed)
    assert findings(tmp_path, "SBA405") == []
    proof = run(tmp_path, "import app.main")
    assert proof.returncode == 0, proof.stderr


def test_router_prefix_slashes_blocking_before(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/main.py": '''
        from fastapi import APIRouter

        router = APIRouter(prefix="users")
    '''})
    assert "A path prefix must start with '/'" in run(tmp_path, "import app.main").stderr
    fix(tmp_path, "SBA405", "router-prefix-slashes")
    assert 'APIRouter(prefix="/users")' in (tmp_path / "app/main.py").read_text()
    assert run(tmp_path, "import app.main").returncode == 0


DB = '''
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    engine = create_async_engine("sqlite+aiosqlite://")
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


    async def get_db() -> AsyncIterator[AsyncSession]:
        async with SessionLocal() as session:
            yield session


    def get_settings(name: str):
        def read():
            return {"name": name}
        return read
'''


def test_depends_uncall(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/db.py": DB,
        "app/main.py": '''
            from typing import Annotated

            from fastapi import Depends, FastAPI
            from sqlalchemy.ext.asyncio import AsyncSession

            from app import db

            app = FastAPI()
            SessionDep = Annotated[AsyncSession, Depends(db.get_db( ))]


            @app.get("/ping")
            async def ping(session: SessionDep, settings=Depends(db.get_settings("x"))):
                return {"ok": session.is_active}


            @app.get("/pong")
            async def pong(session: AsyncSession = Depends(dependency=db.get_db())):
                return {"ok": session.is_active}
        ''',
    })
    assert "is not a callable object" in run(tmp_path, "import app.main").stderr
    applied = fix(tmp_path, "SBA413", "depends-uncall")
    text = (tmp_path / "app/main.py").read_text()
    assert "SessionDep = Annotated[AsyncSession, Depends(db.get_db)]\n" in text
    assert 'settings=Depends(db.get_settings("x"))' in text  # a factory: not reported
    assert "session: AsyncSession = Depends(dependency=db.get_db)" in text
    assert applied.fixed == 2 and applied.skipped == []
    assert again(applied) == {str(tmp_path / "app/main.py"): text}
    assert findings(tmp_path, "SBA413") == []
    proof = run(tmp_path, asgi_get("app.main", "/pong"))
    assert proof.returncode == 0, proof.stderr
    assert proof.stdout.strip() == '200 {"ok":true}'


def test_depends_uncall_skips_a_call_with_arguments(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/main.py": '''
        from fastapi import Depends, FastAPI

        from app.db import get_db

        app = FastAPI()


        @app.get("/ping")
        async def ping(session=Depends(get_db())):
            return {}
    '''})
    (finding,) = findings(tmp_path, "SBA413")
    edited = (tmp_path / "app/main.py").read_text().replace("get_db()", "get_db(1)")
    outcome = apply_codemod(registry()["depends-uncall"](), edited, [finding])
    assert outcome.module.code == edited
    assert "dependency factory" in outcome.skipped[0][1]


def test_rule_examples(tmp_path: Path) -> None:
    """Every Invalid example is fixed and its finding gone, except SBA405's constant prefix."""
    for rule, codemod in ((IncludeRouterWrongObject, "include-router-attribute"),
                          (RouterPrefixInvalid, "router-prefix-slashes"),
                          (DependsCalled, "depends-uncall")):
        folder = tmp_path / codemod
        folder.mkdir()
        results = fix_examples(rule, codemod, folder)
        assert all(left == len(applied.skipped) for applied, left in results)
        skipped = [why for applied, _ in results for _, why in applied.skipped]
        assert skipped == ([] if rule is not RouterPrefixInvalid else [
            "the prefix is not a string literal at the call: fix the value where it is defined"])
