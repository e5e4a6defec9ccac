"""Startup and shutdown code: SBA408 (`on_event` handlers deprecated, ignored next to
`lifespan=`, removed from Starlette 1.0) and SBA409 (a lifespan that is not an async context
manager factory)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Set, Tuple, Union

from packaging.version import Version

from ...analysis.apps import API_ROUTER, FASTAPI, STARLETTE, App, app_named, created_app
from ...analysis.definitions import definition
from ...analysis.lifecycle import IMPORT
from ...analysis.values import own_nodes
from ...context import ModuleContext
from ...findings import Category, Finding, Location, Severity
from ..base import Invalid, Rule, Valid

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]
STARLETTE_1 = Version("1.0")
_EVENTS = ("startup", "shutdown")
_HANDLER_KEYWORDS = ("on_startup", "on_shutdown")
_ASYNC_CM = "contextlib.asynccontextmanager"
_SYNC_CM = "contextlib.contextmanager"
_DRIVE = ("import asyncio\n"
          "async def _enter(app):\n"
          "    async with app.router.lifespan_context(app):\n"
          "        pass\n"
          "asyncio.run(_enter(app))")
_LIFESPAN_FIX = ("Move the code into one lifespan: `@asynccontextmanager async def lifespan(app): "
                 "<startup>; yield; <shutdown>` and pass `FastAPI(lifespan=lifespan)`.")


def _starlette(module: ModuleContext) -> Tuple[Optional[bool], str]:
    """Whether the installed Starlette is >= 1.0 (None: unknown), and how to say so."""
    version = module.project.version("starlette")
    if version is None:
        return None, f"assuming Starlette >= 1.0 ({module.project.why_unknown('starlette')})"
    return version >= STARLETTE_1, module.project.environment.describe("starlette")


class OnEventDeprecatedOrIgnored(Rule):
    code = "SBA408"
    name = "on-event-deprecated-or-ignored"
    severity = Severity.WARNING
    category = Category.APP
    versions = ("FastAPI >= 0.93, which added `lifespan=`; Starlette >= 1.0 also removed "
                "`on_startup` and `on_event` from Starlette apps.")
    summary = "startup/shutdown handlers registered with `on_event` / `on_startup`"
    references = ("E08",)
    codemod = "on-event-to-lifespan"
    triggers = ("on_event", "on_startup", "on_shutdown", "add_event_handler")
    what = ("`@app.on_event(\"startup\")` / `\"shutdown\"` handlers and `FastAPI(on_startup=[...])`"
            ": deprecated in FastAPI, never run when the same app is given `lifespan=`, and gone "
            "from Starlette 1.0 (`Starlette(on_startup=...)`, `Starlette.on_event`, "
            "`add_event_handler` on an app).")
    why = ("FastAPI warns `DeprecationWarning: on_event is deprecated, use lifespan event "
           "handlers instead.` When the app also has `lifespan=`, FastAPI uses that lifespan "
           "instead of the default one that calls the handlers, so they silently never run "
           "(tables never created, clients never opened). On Starlette >= 1.0 `Starlette("
           "on_startup=[...])` raises `TypeError: Starlette.__init__() got an unexpected keyword "
           "argument 'on_startup'` and `@app.on_event(...)` on a Starlette app raises "
           "`AttributeError: 'Starlette' object has no attribute 'on_event'` at import.")
    how_to_fix = ("Put startup and shutdown code into one `@asynccontextmanager async def "
                  "lifespan(app)` (startup before `yield`, shutdown after it) and pass "
                  "`lifespan=lifespan`; with an existing lifespan, call the handlers from it.")
    fix_safety = ("Unsafe (applied with --unsafe): the `on-event-to-lifespan` codemod adds one "
                  "`@asynccontextmanager async def lifespan(app)` that calls the startup "
                  "handlers before `yield` and the shutdown handlers after it, each in their "
                  "order, passes `lifespan=lifespan` to `FastAPI(...)` and drops the "
                  "`@app.on_event` decorators (the functions stay). With lifespan=, handlers "
                  "that other code registers at run time (libraries calling "
                  "add_event_handler) stop running. It skips apps that already have "
                  "lifespan= or on_startup=, apps created in another module, handlers with "
                  "other decorators, and projects where another module registers handlers.")
    valid = (
        Valid({"app/__init__.py": "", "app/main.py": '''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI
            from sqlmodel import SQLModel
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                async with engine.begin() as conn:
                    await conn.run_sync(SQLModel.metadata.create_all)
                yield
                await engine.dispose()

            app = FastAPI(lifespan=lifespan)
        '''}),
        Valid({"app/__init__.py": "", "app/main.py": '''
            from contextlib import asynccontextmanager

            from starlette.applications import Starlette

            @asynccontextmanager
            async def lifespan(app):
                app.state.ready = True
                yield

            app = Starlette(lifespan=lifespan)
        '''}),
    )
    invalid = (
        Invalid({"app/__init__.py": "", "app/main.py": '''
            from fastapi import FastAPI

            from app.db import create_tables

            app = FastAPI()

            @app.on_event("startup")  # expect: SBA408
            async def startup():
                await create_tables()
        ''', "app/db.py": '''
            async def create_tables():
                pass
        '''}),
        Invalid({"app/__init__.py": "", "app/main.py": '''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                yield

            app = FastAPI(lifespan=lifespan)

            @app.on_event("startup")  # expect: SBA408
            async def create_tables():
                app.state.tables = True
        '''}, raises="AttributeError: 'State' object has no attribute 'tables'",
            run="import asyncio\nfrom app.main import app\n"
                "async def _enter(app):\n    async with app.router.lifespan_context(app):\n"
                "        pass\nasyncio.run(_enter(app))\napp.state.tables"),
        Invalid({"app/__init__.py": "", "app/main.py": '''
            from starlette.applications import Starlette

            async def connect():
                pass

            app = Starlette(on_startup=[connect])  # expect: SBA408
        '''}, raises="TypeError: Starlette.__init__() got an unexpected keyword argument 'on_startup'",
            run="import app.main"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for func in module.scopes.functions:
            for decorator in func.decorator_list:
                app = self._decorated_app(module, decorator)
                if app is not None:
                    yield from self._on_event(module, decorator, func, app)
        for call in module.calls:
            yield from self._add_event_handler(module, call)
            app = created_app(module, call)
            if app is not None:
                yield from self._handler_keywords(module, app)

    def _decorated_app(self, module: ModuleContext, decorator: ast.expr) -> Optional[App]:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "on_event" and len(decorator.args) == 1):
            return None
        event = module.values.string(decorator.args[0])
        if event is None or not event.complete or event.text not in _EVENTS:
            return None
        return app_named(module, decorator.func.value)

    def _on_event(self, module: ModuleContext, decorator: ast.expr, func: Function,
                  app: App) -> Iterator[Finding]:
        if app.kind == STARLETTE:
            yield from self._removed(module, decorator, "Starlette.on_event()",
                                     "AttributeError: 'Starlette' object has no attribute "
                                     "'on_event'", runs=func)
            return
        fastapi = module.project.environment.describe("fastapi")
        lifespan = app.keyword("lifespan") if app.kind == FASTAPI else None
        if lifespan is not None:
            yield self.report(
                module, decorator,
                f"on_event handler {func.name}() never runs: the app has lifespan= "
                f"(line {app.call.lineno})",
                f"FastAPI ({fastapi}) calls on_event handlers only from its default lifespan; "
                f"the app's own lifespan= replaces it, so {func.name}() is registered but "
                f"never called at startup or shutdown.",
                f"Call {func.name}() from the lifespan function (before its yield for startup, "
                f"after it for shutdown) and remove the @on_event decorator.",
            )
            return
        yield self.report(
            module, decorator,
            f"@on_event handler {func.name}() is deprecated; use a lifespan",
            f"FastAPI ({fastapi}) warns \"DeprecationWarning: on_event is deprecated, use "
            f"lifespan event handlers instead.\" and the handler stops running as soon as the "
            f"app is given lifespan=.",
            _LIFESPAN_FIX, safe=False,
        )

    def _add_event_handler(self, module: ModuleContext, call: ast.Call) -> Iterator[Finding]:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "add_event_handler"):
            return
        app = app_named(module, func.value)
        if app is None or app.kind == API_ROUTER:
            return
        yield from self._removed(module, call, f"{app.kind}.add_event_handler()",
                                 f"AttributeError: '{app.kind}' object has no attribute "
                                 f"'add_event_handler'")

    def _handler_keywords(self, module: ModuleContext, app: App) -> Iterator[Finding]:
        for keyword in _HANDLER_KEYWORDS:
            if app.keyword(keyword) is None:
                continue
            if app.kind == STARLETTE:
                yield from self._removed(module, app.call, f"Starlette({keyword}=...)",
                                         f"TypeError: Starlette.__init__() got an unexpected "
                                         f"keyword argument '{keyword}'")
            elif app.kind == FASTAPI and app.keyword("lifespan") is not None:
                yield self.report(
                    module, app.call,
                    f"FastAPI({keyword}=...) handlers never run: the app also has lifespan=",
                    f"FastAPI ({module.project.environment.describe('fastapi')}) runs "
                    f"{keyword} handlers only from its default lifespan, which lifespan= "
                    f"replaces.",
                    f"Call the {keyword} handlers from the lifespan function and drop "
                    f"{keyword}=.",
                )
            else:
                yield self.report(
                    module, app.call,
                    f"{app.kind}({keyword}=...) is deprecated; use a lifespan",
                    f"FastAPI ({module.project.environment.describe('fastapi')}) documents "
                    f"{keyword} as deprecated in favour of lifespan=; the handlers stop "
                    f"running as soon as the app is given lifespan=.",
                    _LIFESPAN_FIX,
                )

    def _removed(self, module: ModuleContext, node: ast.AST, api: str, error: str,
                 runs: Optional[ast.AST] = None) -> Iterator[Finding]:
        """`runs`: the statement that executes `node` (a decorator runs with its `def`)."""
        removed, starlette = _starlette(module)
        if removed is False:
            yield self.report(
                module, node, f"{api} is deprecated and removed in Starlette 1.0",
                f"{starlette} still accepts it with a deprecation warning; upgrading to "
                f"Starlette >= 1.0 fails with {error}.", _LIFESPAN_FIX)
            return
        severity = Severity.WARNING
        if removed:
            at_import = module.scopes.runs_at_import(runs or node)
            severity = Severity.BLOCKING if at_import else Severity.RUNTIME
        yield self.report(
            module, node, f"{api} was removed in Starlette 1.0",
            f"Starlette 1.0 removed on_startup/on_shutdown and event handlers ({starlette}): "
            f"{error}.", _LIFESPAN_FIX, severity=severity)


@dataclass(frozen=True)
class _Shape:
    """What is wrong with a lifespan function: the error, when it shows, and how bad it is."""

    error: str
    when: str  # "startup", "shutdown" or "deprecated"
    fix: str


def _decorators(module: ModuleContext, func: Function) -> Optional[Set[str]]:
    """The context-manager decorators of `func`; None when it has any other decorator."""
    names = {module.qualname(d) for d in func.decorator_list}
    return names if names <= {_ASYNC_CM, _SYNC_CM} else None


def _yields(func: Function) -> List[ast.AST]:
    return [node for node in own_nodes(func) if isinstance(node, (ast.Yield, ast.YieldFrom))]


def _straight_yields(module: ModuleContext, func: Function) -> int:
    """Yields that all run one after the other: not in branches, loops or `except` blocks."""
    count = 0
    for node in _yields(func):
        child: ast.AST = node
        for ancestor in module.scopes.ancestors(node):
            if ancestor is func:
                count += 1
                break
            if isinstance(ancestor, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp,
                                     ast.BoolOp, ast.ExceptHandler, ast.Lambda)):
                break
            if isinstance(ancestor, ast.Try) and child in ancestor.orelse:
                break
            child = ancestor
    return count


def _lifespan_function(module: ModuleContext,
                       expr: ast.expr) -> Optional[Tuple[ModuleContext, Function]]:
    """The function `expr` names and the module defining it: a function of this module, or a
    top-level function imported from another module of the project."""
    return definition(module, expr, "def")  # type: ignore[return-value]


class LifespanWrongShape(Rule):
    code = "SBA409"
    name = "lifespan-wrong-shape"
    severity = Severity.BLOCKING
    category = Category.APP
    versions = "Any Starlette version."
    summary = "lifespan= given a function that is not an async context manager factory"
    references = ("E09",)
    triggers = ("lifespan",)
    what = ("The function passed as `lifespan=` to FastAPI, Starlette or APIRouter (defined in "
            "the module or imported from another module of the project) is not "
            "`@asynccontextmanager async def lifespan(app): ...; yield; ...`: an `async def` "
            "without `yield`, `@asynccontextmanager` on a plain `def` or on a function without "
            "`yield`, `@contextmanager` (sync), no parameter for the app, or two `yield`s in a "
            "row; on Starlette, a generator without the decorator.")
    why = ("The lifespan runs when the server starts (`Waiting for application startup.`) and "
           "the wrong shape fails there: `TypeError: 'coroutine' object does not support the "
           "asynchronous context manager protocol` (async def without yield), `TypeError: "
           "'coroutine' object is not an async iterator`, `TypeError: 'generator' object is "
           "not an async iterator`, `TypeError: '_GeneratorContextManager' object does not "
           "support the asynchronous context manager protocol`, `TypeError: lifespan() takes 0 "
           "positional arguments but 1 was given`; uvicorn then logs `Application startup "
           "failed. Exiting.` A second `yield` fails at shutdown with `RuntimeError: generator "
           "didn't stop`. Starlette wraps bare generators with `async generator function "
           "lifespans are deprecated, use an @contextlib.asynccontextmanager function instead`.")
    how_to_fix = ("`from contextlib import asynccontextmanager`, then `@asynccontextmanager async "
                  "def lifespan(app): <startup>; yield; <shutdown>` with exactly one `yield`.")
    fix_safety = "Safe: the startup and shutdown code stays as it is, around one yield."
    valid = (
        Valid({"app/__init__.py": "", "app/main.py": '''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")

            @asynccontextmanager
            async def lifespan(app: FastAPI):
                try:
                    yield {"engine": engine}
                finally:
                    await engine.dispose()

            app = FastAPI(lifespan=lifespan)
        '''}),
        Valid({"app/__init__.py": "", "app/main.py": '''
            from fastapi import FastAPI

            async def lifespan(app: FastAPI):
                app.state.cache = {}
                yield
                app.state.cache.clear()

            app = FastAPI(lifespan=lifespan)
        '''}, note="FastAPI wraps a bare async generator in asynccontextmanager itself"),
    )
    invalid = (
        Invalid('''
            from fastapi import FastAPI

            async def lifespan(app: FastAPI):  # expect: SBA409
                app.state.ready = True

            app = FastAPI(lifespan=lifespan)
        ''', raises="TypeError: 'coroutine' object does not support the asynchronous context manager protocol",
            run=_DRIVE),
        Invalid('''
            from contextlib import contextmanager

            from fastapi import FastAPI

            @contextmanager
            def lifespan(app: FastAPI):  # expect: SBA409
                yield

            app = FastAPI(lifespan=lifespan)
        ''', raises="TypeError: '_GeneratorContextManager' object does not support the asynchronous context manager protocol",
            run=_DRIVE),
        Invalid('''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI

            @asynccontextmanager
            async def lifespan():  # expect: SBA409
                yield

            app = FastAPI(lifespan=lifespan)
        ''', raises="TypeError: lifespan() takes 0 positional arguments but 1 was given",
            run=_DRIVE),
        Invalid('''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI

            @asynccontextmanager
            async def lifespan(app: FastAPI):  # expect: SBA409
                yield
                yield

            app = FastAPI(lifespan=lifespan)
        ''', raises="RuntimeError: generator didn't stop", run=_DRIVE),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        seen: Set[int] = set()
        for call in module.calls:
            app = created_app(module, call)
            expr = app.keyword("lifespan") if app else None
            found = _lifespan_function(module, expr) if expr is not None else None
            if app is None or expr is None or found is None or id(found[1]) in seen:
                continue
            seen.add(id(found[1]))
            shape = self._shape(found[0], found[1], app)
            if shape is not None:
                yield self._finding(module, found, app, shape, expr)

    def _shape(self, module: ModuleContext, func: Function, app: App) -> Optional[_Shape]:
        decorators = _decorators(module, func)
        if decorators is None or len(decorators) > 1:
            return None
        is_async, has_yield = isinstance(func, ast.AsyncFunctionDef), bool(_yields(func))
        if _SYNC_CM in decorators:
            return _Shape("TypeError: '_GeneratorContextManager' object does not support the "
                          "asynchronous context manager protocol", "startup",
                          "Replace @contextmanager with @asynccontextmanager and make the "
                          "function `async def`.")
        if _ASYNC_CM in decorators:
            if not has_yield and is_async:
                return _Shape("TypeError: 'coroutine' object is not an async iterator",
                              "startup", "Add a `yield` between the startup and shutdown code.")
            if not has_yield:
                return None
            if not is_async:
                return _Shape("TypeError: 'generator' object is not an async iterator",
                              "startup", "Make the function `async def`.")
        elif not has_yield:
            if not is_async:
                return None
            return _Shape("TypeError: 'coroutine' object does not support the asynchronous "
                          "context manager protocol", "startup",
                          "Decorate it with @asynccontextmanager and put a `yield` between the "
                          "startup and shutdown code.")
        elif app.kind == STARLETTE:
            kind = "async generator" if is_async else "generator"
            return _Shape(f"StarletteDeprecationWarning: {kind} function lifespans are "
                          f"deprecated, use an @contextlib.asynccontextmanager function "
                          f"instead", "deprecated", "Decorate it with @asynccontextmanager"
                          + ("." if is_async else " and make it `async def`."))
        return self._call_shape(module, func)

    def _call_shape(self, module: ModuleContext, func: Function) -> Optional[_Shape]:
        args = func.args
        if not args.posonlyargs and not args.args and args.vararg is None:
            return _Shape(f"TypeError: {func.name}() takes 0 positional arguments but 1 was "
                          f"given", "startup", f"Give it the app parameter: "
                          f"`async def {func.name}(app: FastAPI):`.")
        if _straight_yields(module, func) > 1:
            return _Shape("RuntimeError: generator didn't stop", "shutdown",
                          "Keep one `yield`; put the shutdown code after it (in a `finally:` to "
                          "run it also after errors).")
        return None

    def _finding(self, module: ModuleContext, found: Tuple[ModuleContext, Function], app: App,
                 shape: _Shape, expr: ast.expr) -> Finding:
        defining, func = found
        reach = module.lifecycle.reach(app.call)
        at_import = reach is not None and reach.phase == IMPORT
        if shape.when == "startup":
            severity = Severity.BLOCKING if at_import else Severity.WARNING
            when = "at startup"
            after = " uvicorn then logs \"Application startup failed. Exiting.\""
        else:
            severity = Severity.WARNING
            when = ("at shutdown, after the app has served"
                    if shape.when == "shutdown" else "each time the app starts")
            after = ""
        assumed = "" if at_import else (" The app is not created at import; this assumes it "
                                        "is the one served.")
        local = defining is module
        where = "" if local else f" (defined in {Path(defining.path).name}, line {func.lineno})"
        return self.report(
            module, func if local else expr,
            f"lifespan {func.name}(){where} is not an async context manager factory: "
            f"{shape.error.split(': ', 1)[1]}",
            f"{app.kind}(lifespan={func.name}) (line {app.call.lineno}) enters "
            f"`async with {func.name}(app)` when the server starts; this function fails "
            f"{when} with {shape.error}.{after}{assumed}",
            shape.fix,
            severity=severity,
            related=() if local else (Location(defining.path, func.lineno, func.col_offset,
                                               "the lifespan function"),),
        )
