"""The event loop the server owns: SBA410 (running a loop while the app is imported or started)
and SBA411 (`uvicorn.run(app, reload=True)` with an app object)."""
from __future__ import annotations

import ast
from typing import Iterator, Optional, Tuple

from packaging.version import Version

from ...analysis.apps import App, app_named, created_app
from ...analysis.constants import int_value, is_true
from ...analysis.lifecycle import STARTUP, Reach
from ...context import ModuleContext, argument, keyword
from ...findings import Category, Finding, Severity
from ...project.reach import loaded_at_boot
from ..base import Invalid, Rule, Valid

# uvicorn 0.47 imports the app before it starts its loop (`config.load_app()` in `run`).
UVICORN_LOADS_FIRST = Version("0.47")
_LOOPS = {"asyncio.get_event_loop": "This event loop is already running",
          "asyncio.get_running_loop": "This event loop is already running",
          "asyncio.new_event_loop": "Cannot run the event loop while another loop is running"}
_RUN_ERROR = "asyncio.run() cannot be called from a running event loop"
_IN_LOOP = ("import asyncio\n"
            "async def main():\n"
            "    import app.main\n"
            "asyncio.run(main())")
_DRIVE = ("import asyncio\n"
          "from app.main import app\n"
          "async def _enter(app):\n"
          "    async with app.router.lifespan_context(app):\n"
          "        pass\n"
          "asyncio.run(_enter(app))")


def _loop_runner(module: ModuleContext, call: ast.Call) -> Optional[Tuple[str, str]]:
    """(`asyncio.run()`-like spelling, the RuntimeError it raises inside a running loop)."""
    if module.call_name(call) == "asyncio.run":
        return "asyncio.run()", _RUN_ERROR
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "run_until_complete"):
        return None
    loop = func.value
    if isinstance(loop, ast.Name):
        bindings = module.scopes.lookup(loop.id, loop)
        value = bindings[0].value if len(bindings) == 1 and bindings[0].kind == "assign" else None
        made = module.call_name(value) if isinstance(value, ast.Call) else None
        return (f"{loop.id}.run_until_complete()", _LOOPS[made]) if made in _LOOPS else None
    made = module.call_name(loop) if isinstance(loop, ast.Call) else None
    if made in _LOOPS:
        return f"{made}().run_until_complete()", _LOOPS[made]
    return None


class EventLoopRunAtImport(Rule):
    code = "SBA410"
    name = "event-loop-run-at-import"
    severity = Severity.BLOCKING
    category = Category.APP
    versions = ("Any uvicorn version with --reload, --workers or `fastapi dev`; uvicorn < 0.47 "
                "also for a plain `uvicorn main:app`.")
    summary = "asyncio.run() / run_until_complete() while the app is imported or started"
    references = ("E10",)
    triggers = ("asyncio",)
    what = ("`asyncio.run(...)`, `loop.run_until_complete(...)` or `asyncio.get_event_loop()."
            "run_until_complete(...)` that runs while a module the app loads is imported (at "
            "module level, or in a function the module body calls), or during app startup (in "
            "the lifespan or a startup handler). Code under `if __name__ == \"__main__\":` and "
            "modules the app does not import are scripts, and left alone.")
    why = ("Inside a running event loop Python refuses to start another: `RuntimeError: "
           "asyncio.run() cannot be called from a running event loop` (and `RuntimeWarning: "
           "coroutine 'init_db' was never awaited`), or `RuntimeError: This event loop is "
           "already running`. The lifespan always runs inside the server's loop. uvicorn < "
           "0.47 imports the app inside its loop too; uvicorn >= 0.47 imports it before the "
           "loop starts for a plain `uvicorn main:app`, but with `--reload`, `--workers N` or "
           "`fastapi dev` each server process imports it inside its loop. Objects created in "
           "the throwaway loop (connection pools, clients) are also bound to a closed loop.")
    how_to_fix = ("Await the coroutine where a loop is already running: in the lifespan "
                  "(`@asynccontextmanager async def lifespan(app): await init_db(); yield`), "
                  "or keep `asyncio.run(...)` for scripts under `if __name__ == \"__main__\":`.")
    fix_safety = "Safe: the same coroutine runs once at startup, awaited by the server's loop."
    valid = (
        Valid({"app/__init__.py": "", "app/main.py": '''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI

            from app.db import init_db

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                await init_db()
                yield

            app = FastAPI(lifespan=lifespan)
        ''', "app/db.py": '''
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel import SQLModel

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            async def init_db():
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
        '''}),
        Valid({"app/__init__.py": "", "app/main.py": '''
            from fastapi import FastAPI

            app = FastAPI()
        ''', "scripts/seed.py": '''
            import asyncio

            async def seed():
                print("seeding")

            asyncio.run(seed())
        ''', "app/cli.py": '''
            import asyncio

            async def main():
                print("maintenance")

            if __name__ == "__main__":
                asyncio.run(main())
        '''}, note="a script the app never imports, and a __main__ block"),
    )
    invalid = (
        Invalid({"app/__init__.py": "", "app/main.py": '''
            import asyncio

            from fastapi import FastAPI

            from app.db import init_db

            asyncio.run(init_db())  # expect: SBA410
            app = FastAPI()
        ''', "app/db.py": '''
            async def init_db():
                pass
        '''}, raises=f"RuntimeError: {_RUN_ERROR}", run=_IN_LOOP),
        Invalid({"app/__init__.py": "", "app/main.py": '''
            import asyncio
            from contextlib import asynccontextmanager

            from fastapi import FastAPI

            async def create_tables():
                pass

            def init_db():
                loop = asyncio.get_event_loop()
                loop.run_until_complete(create_tables())  # expect: SBA410

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                init_db()
                yield

            app = FastAPI(lifespan=lifespan)
        '''}, raises="RuntimeError: This event loop is already running", run=_DRIVE),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for call in module.calls:
            runner = _loop_runner(module, call)
            reach = module.lifecycle.reach(call) if runner else None
            if runner is None or reach is None or not reach.at_boot:
                continue
            judged = self._severity(module, reach)
            if judged is not None:
                yield self._finding(module, call, runner, reach, *judged)

    def _severity(self, module: ModuleContext, reach: Reach) -> Optional[Tuple[Severity, str]]:
        """How bad it is, and what was assumed; None when the app does not load the module."""
        model = module.project.model
        boot = loaded_at_boot(model) if module.module_name else None
        if boot is None:
            if not module.lifecycle.app_calls:
                return None
            return Severity.WARNING, " (the ASGI target is unknown; this assumes the app here is served)"
        if module.module_name not in boot:
            return None
        if reach.phase == STARTUP:
            return Severity.BLOCKING, ""
        uvicorn = module.project.version("uvicorn")
        if uvicorn is None:
            return Severity.WARNING, (f" ({module.project.why_unknown('uvicorn')}; it fails "
                                      f"whenever the module is imported inside the loop)")
        described = module.project.environment.describe("uvicorn")
        if uvicorn < UVICORN_LOADS_FIRST:
            return Severity.BLOCKING, f" ({described} imports the app inside its running loop)"
        return Severity.WARNING, (f" ({described} imports the app before its loop starts for a "
                                  f"plain `uvicorn TARGET`, but each process of --reload, "
                                  f"--workers N and `fastapi dev` imports it inside its loop)")

    def _finding(self, module: ModuleContext, call: ast.Call, runner: Tuple[str, str],
                 reach: Reach, severity: Severity, assumed: str) -> Finding:
        spelling, error = runner
        if reach.phase == STARTUP:
            context = "Startup code runs inside the server's running event loop"
        else:
            context = "When the module is imported inside a running event loop"
        return self.report(
            module, call,
            f"{spelling} runs {reach.describe()}: it fails inside a running event loop",
            f"{context}, {spelling} raises RuntimeError: {error}{assumed}.",
            "Await the coroutine instead: in the lifespan (`@asynccontextmanager async def "
            "lifespan(app): await ...; yield`) or in the async function that runs at startup; "
            "keep asyncio.run() for scripts under `if __name__ == \"__main__\":`.",
            severity=severity,
        )


class ReloadNeedsImportString(Rule):
    code = "SBA411"
    name = "reload-needs-import-string"
    severity = Severity.WARNING
    category = Category.APP
    versions = "Any uvicorn version that supports --reload and --workers."
    summary = "uvicorn.run() given an app object with reload=True or workers > 1"
    references = ("E11",)
    triggers = ("uvicorn",)
    what = ("`uvicorn.run(app, reload=True)` or `uvicorn.run(app, workers=4)` where `app` is "
            "the application object rather than an import string such as `\"app.main:app\"`.")
    why = ("Reload and worker processes import the app themselves, so uvicorn needs its import "
           "string. It checks before serving: it logs `WARNING:  You must pass the application "
           "as an import string to enable 'reload' or 'workers'.` and exits (`SystemExit: 3` "
           "with uvicorn 0.54), so `python main.py` never serves. Starting with the `uvicorn` "
           "command instead never runs this line.")
    how_to_fix = ("Pass the import string: `uvicorn.run(\"app.main:app\", reload=True)`. Keep "
                  "the call under `if __name__ == \"__main__\":` so that the reloader's import "
                  "of the module does not start another server.")
    fix_safety = ("Safe when the string names the same module the script defines the app in; "
                  "the module is then imported again by that name.")
    valid = (
        Valid({"app/__init__.py": "", "app/main.py": '''
            import uvicorn
            from fastapi import FastAPI

            app = FastAPI()

            if __name__ == "__main__":
                uvicorn.run("app.main:app", host="0.0.0.0", port=8000, reload=True)
        '''}),
        Valid({"app/__init__.py": "", "app/main.py": '''
            import uvicorn
            from fastapi import FastAPI

            app = FastAPI()

            if __name__ == "__main__":
                uvicorn.run(app, host="0.0.0.0", port=8000, workers=1)
        '''}, note="an app object without reload or extra workers is fine"),
    )
    invalid = (
        Invalid('''
            import uvicorn
            from fastapi import FastAPI

            app = FastAPI()

            def main():
                uvicorn.run(app, host="127.0.0.1", port=8000, reload=True)  # expect: SBA411

            if __name__ == "__main__":
                main()
        ''', raises="SystemExit: 3", run="main()"),
        Invalid({"app/__init__.py": "", "app/main.py": '''
            from fastapi import FastAPI

            app = FastAPI()
        ''', "run.py": '''
            import uvicorn

            from app.main import app

            WORKERS = 4

            if __name__ == "__main__":
                uvicorn.run(app, workers=WORKERS)  # expect: SBA411
        '''}),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for call in module.calls:
            if module.call_name(call) != "uvicorn.run":
                continue
            target = argument(call, 0, "app")
            found = self._app(module, target) if target is not None else None
            option = self._option(module, call)
            if found is not None and option is not None:
                yield self._finding(module, call, found, option)

    def _option(self, module: ModuleContext, call: ast.Call) -> Optional[str]:
        reload = keyword(call, "reload")
        if reload is not None and is_true(module, reload.value):
            return "reload=True"
        workers = keyword(call, "workers")
        count = int_value(module, workers.value) if workers is not None else None
        return f"workers={count}" if count is not None and count > 1 else None

    def _app(self, module: ModuleContext, expr: ast.expr) -> Optional[Tuple[App, str]]:
        """The app object passed, and the import string that names it."""
        local = app_named(module, expr)
        if local is not None and isinstance(expr, ast.Name):
            return local, f"{module.module_name or '<module>'}:{expr.id}"
        dotted = module.qualname(expr)
        if dotted is None or module.module_name is None or "." not in dotted:
            return None
        owner, _, name = dotted.rpartition(".")
        model = module.project.model
        info = model.project_module(owner)
        if info is None or info.tree is None:
            return None
        other = model.context(info)
        for stmt in info.tree.body:
            if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                    and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)):
                app = created_app(other, stmt.value)
                return (app, f"{owner}:{name}") if app is not None else None
        return None

    def _finding(self, module: ModuleContext, call: ast.Call, found: Tuple[App, str],
                 option: str) -> Finding:
        app, target = found
        uvicorn = module.project.environment.describe("uvicorn")
        return self.report(
            module, call,
            f"uvicorn.run() given the {app.kind} object with {option}: uvicorn exits, it "
            f"needs the import string {target!r}",
            f"With {option} uvicorn starts processes that import the app themselves; given "
            f"an object, uvicorn ({uvicorn}) logs \"You must pass the application as an import "
            f"string to enable 'reload' or 'workers'.\" and exits without serving.",
            f"Use uvicorn.run({target!r}, {option}) under `if __name__ == \"__main__\":`.",
        )
