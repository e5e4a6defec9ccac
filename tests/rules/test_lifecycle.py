"""When code runs: at import, at app startup, as a script, or only when called from elsewhere."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional

from flake8_stability.analysis.lifecycle import IMPORT, SCRIPT, STARTUP, Reach
from flake8_stability.context import ModuleContext, ProjectContext


def _module(code: str) -> ModuleContext:
    tree = ast.parse(code)
    return ModuleContext("app.py", code.splitlines(True), tree, ProjectContext(Path(".")))


def _reaches(source: str) -> Dict[str, Optional[Reach]]:
    """Reach of each `mark("name")` call in `source`, by name."""
    code = textwrap.dedent(source)
    module = _module(code)
    found = {}
    for call in module.calls:
        if isinstance(call.func, ast.Name) and call.func.id == "mark":
            found[call.args[0].value] = module.lifecycle.reach(call)  # type: ignore
    return found


def _phases(source: str) -> Dict[str, Optional[str]]:
    return {name: reach.phase if reach else None for name, reach in _reaches(source).items()}


def test_lifespan_before_yield_is_startup_and_after_is_shutdown() -> None:
    assert _phases('''
        from contextlib import asynccontextmanager
        from fastapi import FastAPI

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            mark("before")
            try:
                yield
            finally:
                mark("after")

        app = FastAPI(lifespan=lifespan)
    ''') == {"before": STARTUP, "after": None}


def test_helpers_called_from_startup_are_startup_transitively() -> None:
    reaches = _reaches('''
        from contextlib import asynccontextmanager
        from fastapi import FastAPI

        def create_tables():
            mark("deep")

        async def init_db():
            create_tables()

        def unrelated():
            mark("unrelated")

        @asynccontextmanager
        async def app_lifespan(app):
            await init_db()
            yield
            unrelated()

        app = FastAPI(lifespan=app_lifespan)
    ''')
    deep = reaches["deep"]
    assert deep is not None and deep.phase == STARTUP and deep.at_boot
    assert deep.calls == (("init_db", 16), ("create_tables", 9))
    assert deep.describe() == (
        "during app startup: the lifespan function `app_lifespan` (line 15) "
        "calls `init_db()` (line 16), which calls `create_tables()` (line 9)")
    assert reaches["unrelated"] is None


def test_startup_handlers_in_every_spelling() -> None:
    assert _phases('''
        from fastapi import FastAPI

        def on_list():
            mark("on_startup list")

        def handler():
            mark("add_event_handler")

        def shutdown():
            mark("shutdown")

        app = FastAPI(on_startup=[on_list])
        app.add_event_handler("startup", handler)
        app.add_event_handler("shutdown", shutdown)

        @app.on_event("startup")
        async def on_startup():
            mark("decorator")

        @app.on_event("shutdown")
        async def on_shutdown():
            mark("shutdown decorator")
    ''') == {"on_startup list": STARTUP, "add_event_handler": STARTUP, "shutdown": None,
             "decorator": STARTUP, "shutdown decorator": None}


def test_lifespan_assigned_to_the_router_or_only_named_lifespan() -> None:
    assert _phases('''
        from contextlib import asynccontextmanager

        async def lifespan(app):
            mark("named generator")
            yield

        @asynccontextmanager
        async def custom(app):
            mark("assigned")
            yield

        def lifespan_helper():
            mark("not a lifespan")

        app.router.lifespan_context = custom
    ''') == {"named generator": STARTUP, "assigned": STARTUP, "not a lifespan": None}


def test_import_time_calls_and_the_main_guard() -> None:
    reaches = _reaches('''
        import asyncio

        mark("module body")

        class Settings:
            mark("class body")

        def init():
            mark("called at import")

        async def main():
            mark("script")

        def never():
            mark("never")

        init()

        if __name__ == "__main__":
            mark("guard")
            asyncio.run(main())
    ''')
    assert {k: v.phase if v else None for k, v in reaches.items()} == {
        "module body": IMPORT, "class body": IMPORT, "called at import": IMPORT,
        "script": SCRIPT, "never": None, "guard": SCRIPT}
    assert reaches["called at import"].describe() == (  # type: ignore[union-attr]
        "while the module is imported: the module body calls `init()` (line 18)")
    assert not reaches["script"].at_boot  # type: ignore[union-attr]


def test_caught_failures_do_not_stop_startup() -> None:
    assert _phases('''
        import contextlib
        from contextlib import asynccontextmanager

        def helper():
            mark("helper of a guarded call")

        @asynccontextmanager
        async def lifespan(app):
            try:
                mark("in try")
            except Exception:
                mark("in handler")
            with contextlib.suppress(Exception):
                mark("suppressed")
            try:
                helper()
            except OSError:
                pass
            try:
                mark("try without handler")
            finally:
                pass
            yield
    ''') == {"in try": None, "in handler": STARTUP, "suppressed": None,
             "helper of a guarded call": None, "try without handler": STARTUP}


def test_nested_functions_and_lambdas_are_not_run_by_their_parent() -> None:
    assert _phases('''
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def lifespan(app):
            def later():
                mark("nested, never called")
            callback = lambda: mark("lambda")
            yield
    ''') == {"nested, never called": None, "lambda": None}


def test_run_sync_callbacks_and_recursion() -> None:
    assert _phases('''
        from contextlib import asynccontextmanager

        def build(sync_conn):
            mark("run_sync callback")

        def ping_pong(n):
            mark("recursive")
            ping_pong(n - 1)

        @asynccontextmanager
        async def lifespan(app):
            async with engine.begin() as conn:
                await conn.run_sync(build)
            ping_pong(3)
            yield
    ''') == {"run_sync callback": STARTUP, "recursive": STARTUP}


def test_import_reach_wins_over_startup_reach() -> None:
    reaches = _reaches('''
        from contextlib import asynccontextmanager

        def shared():
            mark("shared")

        @asynccontextmanager
        async def lifespan(app):
            shared()
            yield

        shared()
    ''')
    assert reaches["shared"] is not None and reaches["shared"].phase == IMPORT


def test_app_calls() -> None:
    module = _module("from fastapi import FastAPI as F\nimport starlette.applications as sa\n"
                     "app = F()\nother = sa.Starlette()\n")
    assert [c.lineno for c in module.lifecycle.app_calls] == [3, 4]


# -- across files: the project seeds functions other boot-time modules call ----------------------
_SESSION = ("from sqlalchemy.ext.asyncio import create_async_engine\n"
            "from sqlmodel import SQLModel\n\n"
            "engine = create_async_engine('sqlite+aiosqlite:///./app.db')\n\n"
            "def create_tables():\n    SQLModel.metadata.create_all(engine)\n\n"
            "async def init_db():\n    create_tables()\n")
_LIFESPAN_MAIN = ("from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\n"
                  "from app.db import init_db\n\n"
                  "@asynccontextmanager\nasync def lifespan(app: FastAPI):\n"
                  "    await init_db()\n    yield\n\napp = FastAPI(lifespan=lifespan)\n")
_HERO = ("from typing import Optional\nfrom sqlmodel import Field, SQLModel\n\n"
         "class Hero(SQLModel, table=True):\n"
         "    id: Optional[int] = Field(default=None, primary_key=True)\n")


def _db_project(main: str = _LIFESPAN_MAIN, **more: str) -> Dict[str, str]:
    files = {"app/__init__.py": "", "app/main.py": main, "app/db/session.py": _SESSION,
             "app/db/__init__.py": "from app.db.session import engine, init_db\n"}
    files.update({path.replace("__", "/") + ".py": text for path, text in more.items()})
    return files


def _ddl(lint, files: Dict[str, str]) -> list:
    run = lint(files, "--select", "SBA308,SBA317")
    return sorted((r.path, r.line, r.code, r.text.rsplit("[", 1)[-1].rstrip("]"))
                  for r in run.results)


def test_a_function_another_modules_lifespan_calls_runs_at_startup(
        lint, tmp_path: Path) -> None:
    found = _ddl(lint, _db_project())
    assert found == [("./app/db/session.py", 7, "SBA308", "blocking"),
                     ("./app/db/session.py", 7, "SBA317", "runtime")]
    startup = ("import asyncio\nfrom app.main import app\nasync def boot():\n"
               "    async with app.router.lifespan_context(app):\n        pass\n"
               "asyncio.run(boot())\n")
    done = subprocess.run([sys.executable, "-c", startup], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert "AttributeError: 'AsyncEngine' object has no attribute '_run_ddl_visitor'" in done.stderr


def test_models_loaded_at_boot_are_registered_before_startup(lint) -> None:
    models_first = "import app.models  # noqa: F401\nfrom app.db import"
    main = _LIFESPAN_MAIN.replace("from app.db import", models_first)
    found = _ddl(lint, _db_project(main, app__models=_HERO))
    assert found == [("./app/db/session.py", 7, "SBA308", "blocking")]


def test_calls_from_scripts_or_without_a_target_do_not_make_it_boot_time(lint) -> None:
    script = "import asyncio\n\nfrom app.db import init_db\n\nasyncio.run(init_db())\n"
    no_lifespan = "from fastapi import FastAPI\n\napp = FastAPI()\n"
    found = _ddl(lint, _db_project(no_lifespan, scripts__init_db=script, app__models=_HERO))
    assert found == [("./app/db/session.py", 7, "SBA308", "runtime")]
    files = _db_project()
    files["app/main.py"] = files["app/main.py"].replace("app = FastAPI", "application = FastAPI")
    files["pyproject.toml"] = "[project]\nname = 'x'\n[tool.flake8-stability]\ntarget = 'x:y'\n"
    assert [f[3] for f in _ddl(lint, files) if f[2] == "SBA308"] == ["runtime"]
