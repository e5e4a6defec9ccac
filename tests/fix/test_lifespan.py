"""on-event-to-lifespan (SBA408): handlers become one lifespan that calls them; apps that already
have a lifespan, and handlers registered in other modules, are left to the user."""
from __future__ import annotations

from pathlib import Path

from app_fix_projects import again, findings, fix, fix_examples, run, write

from flake8_stability.fix.codemod import registry
from flake8_stability.rules.app.lifespan import OnEventDeprecatedOrIgnored

DB = '''
    STATE = []


    async def create_tables():
        STATE.append("tables")


    def close():
        STATE.append("closed")
'''
MAIN = '''
    """The app."""
    from fastapi import FastAPI

    from app.db import close, create_tables

    # the application
    app = FastAPI(
        title="Heroes",
    )


    @app.on_event("startup")  # tables first
    async def startup():
        await create_tables()


    @app.on_event("shutdown")
    def shutdown():
        close()


    @app.get("/")
    def root():
        return {"ok": True}
'''
EXPECTED = '''"""The app."""
from fastapi import FastAPI

from app.db import close, create_tables
from contextlib import asynccontextmanager


@asynccontextmanager
async def lifespan(app: FastAPI):
    await startup()
    yield
    shutdown()


# the application
app = FastAPI(
    title="Heroes",
    lifespan=lifespan,
)


async def startup():  # tables first
    await create_tables()


def shutdown():
    close()


@app.get("/")
def root():
    return {"ok": True}
'''
DRIVE = '''
import asyncio
import warnings
warnings.simplefilter("error", DeprecationWarning)
from app.main import app
from app.db import STATE

async def main():
    async with app.router.lifespan_context(app):
        print(STATE)
    print(STATE)

asyncio.run(main())
'''


def test_on_event_to_lifespan(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/main.py": MAIN})
    assert len(findings(tmp_path, "SBA408")) == 2
    applied = fix(tmp_path, "SBA408", "on-event-to-lifespan")
    main = tmp_path / "app/main.py"
    assert main.read_text() == EXPECTED
    assert applied.fixed == 2
    assert again(applied) == {str(main): EXPECTED}
    assert findings(tmp_path, "SBA408") == []
    proof = run(tmp_path, DRIVE)
    assert proof.returncode == 0, proof.stderr
    assert proof.stdout.split("\n")[:2] == ["['tables']", "['tables', 'closed']"]


def test_one_line_app_and_startup_only(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/main.py": '''
        import fastapi

        from app import db

        app = fastapi.FastAPI(title="x")


        @app.on_event("startup")
        def ready():
            db.STATE.append("ready")
    '''})
    fix(tmp_path, "SBA408", "on-event-to-lifespan")
    text = (tmp_path / "app/main.py").read_text()
    assert 'app = fastapi.FastAPI(title="x", lifespan=lifespan)\n' in text
    assert "async def lifespan(app: fastapi.FastAPI):\n    ready()\n    yield\n" in text
    proof = run(tmp_path, DRIVE)
    assert proof.returncode == 0, proof.stderr
    assert proof.stdout.startswith("['ready']")


def test_app_with_lifespan_is_skipped(tmp_path: Path) -> None:
    source = '''
        from contextlib import asynccontextmanager

        from fastapi import FastAPI


        @asynccontextmanager
        async def lifespan(app: FastAPI):
            yield

        app = FastAPI(lifespan=lifespan)


        @app.on_event("startup")
        async def create_tables():
            app.state.tables = True
    '''
    write(tmp_path, {"app/__init__.py": "", "app/main.py": source})
    applied = fix(tmp_path, "SBA408", "on-event-to-lifespan")
    assert applied.skipped == [(13, "app already has lifespan=: calling the handlers from it is "
                                    "a decision to make by hand")]
    assert set(applied.before.values()) == {(tmp_path / "app/main.py").read_text()}


def test_handlers_in_another_module_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": '''
            from fastapi import FastAPI

            from app.api import router

            app = FastAPI()
            app.include_router(router)


            @app.on_event("startup")
            async def startup():
                pass
        ''',
        "app/api.py": '''
            from fastapi import APIRouter

            router = APIRouter()


            @router.on_event("startup")
            async def warm_cache():
                pass
        ''',
    })
    applied = fix(tmp_path, "SBA408", "on-event-to-lifespan", write_back=False)
    reasons = dict(applied.skipped)
    assert reasons[9] == ("app/api.py also registers startup/shutdown handlers: with lifespan= "
                          "they would stop running")
    assert reasons[6] == ("router is not a FastAPI app created in this module by one "
                          "`router = FastAPI(...)`")
    assert all(o.module.code == applied.before[p] for p, o in applied.outcomes.items())


def test_starlette_keywords_are_not_converted(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/main.py": '''
        from starlette.applications import Starlette

        async def connect():
            pass

        app = Starlette(on_startup=[connect])
    '''})
    applied = fix(tmp_path, "SBA408", "on-event-to-lifespan", write_back=False)
    assert applied.skipped == [(6, "only @app.on_event(...) handlers are turned into a lifespan")]
    assert registry()["on-event-to-lifespan"].safe is False


def test_handlers_added_another_way_in_the_module_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/main.py": '''
        from fastapi import FastAPI

        from app.db import close

        app = FastAPI()
        app.router.on_shutdown.append(close)


        @app.on_event("startup")
        async def startup():
            pass
    '''})
    applied = fix(tmp_path, "SBA408", "on-event-to-lifespan", write_back=False)
    assert applied.skipped == [(9, "the module also registers handlers another way "
                                   "(add_event_handler, router.on_startup): with lifespan= they "
                                   "would stop running")]


def test_rule_examples(tmp_path: Path) -> None:
    """The deprecated handler is converted; a lifespan= app and Starlette(on_startup=) are not."""
    results = fix_examples(OnEventDeprecatedOrIgnored, "on-event-to-lifespan", tmp_path)
    assert all(left == len(applied.skipped) for applied, left in results)
    assert [(applied.fixed, [why for _, why in applied.skipped]) for applied, _ in results] == [
        (1, []),
        (0, ["app already has lifespan=: calling the handlers from it is a decision to make by "
             "hand"]),
        (0, ["only @app.on_event(...) handlers are turned into a lifespan"]),
    ]
