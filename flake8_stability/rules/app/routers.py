"""Router wiring: SBA403 (routes the app never serves), SBA404 (something else than a router
given to include_router) and SBA405 (path prefixes FastAPI rejects)."""
from __future__ import annotations

import ast
import dataclasses
from typing import Iterator, List, Optional, Tuple

from packaging.version import Version

from ...context import ModuleContext, keyword
from ...findings import Category, Finding, Location, Severity
from ...project.model import ProjectModel
from ...project.reach import loaded_at_boot
from ...project.routers import (ROUTER_CLASSES, CallResult, ClassValue, FunctionValue, Include,
                                ModuleValue, Registration, RouterGraph, RouterObject, Value,
                                is_test, router_graph)
from ..base import Invalid, ProjectRule, Rule, Valid

# From FastAPI 0.137.0 an included router is kept by reference (`_IncludedRouter`): routes
# added to it later are served. Before, include_router copied the routes it had at that time.
INCLUDE_BY_REFERENCE = Version("0.137.0")

_USERS = '''
    from fastapi import APIRouter

    router = APIRouter(prefix="/users", tags=["users"])


    @router.get("/")
    def read_users():
        return [{"name": "Rick"}]
'''
_ITEMS = '''
    from fastapi import APIRouter

    router = APIRouter(prefix="/items", tags=["items"])


    @router.get("/")
    def read_items():
        return []
'''


def _fastapi(model: ProjectModel) -> Optional[Version]:
    return model.environment.version("fastapi")


def _target(model: ProjectModel) -> str:
    target = model.layout.target
    assert target is not None
    return f"{target.module}:{target.attribute}"


class RouterNeverIncluded(ProjectRule):
    code = "SBA403"
    name = "router-never-included"
    severity = Severity.RUNTIME
    category = Category.APP
    versions = "Any FastAPI version."
    summary = "router with routes that the app never includes: its paths answer 404"
    references = ("E05",)
    what = ("An `APIRouter` with routes that is not reachable from the ASGI target's app: no "
            "`include_router` (or `mount`) chain leads from the app to it, across modules, "
            "re-exports, aliases, lists of routers included in a loop and nested routers. With "
            "FastAPI before 0.137 also a route added to a router after the router was included "
            "(include_router copied the routes it had then). Silent when the app is not known "
            "or any `include_router` argument of the project cannot be resolved.")
    why = ("Nothing fails at boot: the routes are simply not served. Every request gets "
           "`404 {\"detail\":\"Not Found\"}` and the paths are missing from `/docs` and "
           "`/openapi.json`.")
    how_to_fix = ("Include the router where the other routers are included "
                  "(`api_router.include_router(login.router)`, or `app.include_router(router)`), "
                  "and include child routers into their parent before the parent is included.")
    fix_safety = ("Including a router changes the API: check its prefix, tags and dependencies "
                  "(authentication) before exposing its routes.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api.main import api_router
                from app.core.config import settings

                app = FastAPI(title="Full stack")
                app.include_router(api_router, prefix=settings.API_V1_STR)
            ''',
            "app/core/__init__.py": "",
            "app/core/config.py": '''
                from pydantic_settings import BaseSettings


                class Settings(BaseSettings):
                    API_V1_STR: str = "/api/v1"


                settings = Settings()
            ''',
            "app/api/__init__.py": "",
            "app/api/main.py": '''
                from fastapi import APIRouter

                from app.api.routes import items, users

                api_router = APIRouter()
                api_router.include_router(users.router)
                api_router.include_router(items.router)
            ''',
            "app/api/routes/__init__.py": "",
            "app/api/routes/users.py": _USERS,
            "app/api/routes/items.py": _ITEMS,
        }, note="nested api_router included once in main.py (full-stack template)"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.routers import items, users
                from app.routers.health import get_router

                app = FastAPI()
                for router in [users.router, items.router]:
                    app.include_router(router)
                app.include_router(get_router())
            ''',
            "app/routers/__init__.py": "",
            "app/routers/users.py": _USERS,
            "app/routers/items.py": _ITEMS,
            "app/routers/health.py": '''
                from fastapi import APIRouter


                def get_router() -> APIRouter:
                    router = APIRouter()

                    @router.get("/health")
                    def health():
                        return {"status": "ok"}

                    return router
            ''',
        }, note="routers collected in a list and included in a loop; a router factory"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api.main import api_router

                app = FastAPI()
                app.include_router(api_router, prefix="/api/v1")
            ''',
            "app/api/__init__.py": "",
            "app/api/main.py": '''
                from fastapi import APIRouter

                from app.api.routes import items, login, users

                api_router = APIRouter()
                api_router.include_router(users.router)
                api_router.include_router(items.router)
            ''',
            "app/api/routes/__init__.py": "",
            "app/api/routes/users.py": _USERS,
            "app/api/routes/items.py": _ITEMS,
            "app/api/routes/login.py": '''
                from fastapi import APIRouter

                router = APIRouter(tags=["login"])  # expect: SBA403


                @router.post("/login/access-token")
                def login_access_token():
                    return {"access_token": "x", "token_type": "bearer"}
            ''',
        }, raises="LookupError: /api/v1/login/access-token is not served",
           run="import app.main\n"
               "if '/api/v1/login/access-token' not in app.main.app.openapi()['paths']:\n"
               "    raise LookupError('/api/v1/login/access-token is not served')",
           note="the login router is imported but never included"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api import api_router

                app = FastAPI()
            ''',
            "app/api/__init__.py": '''
                from fastapi import APIRouter

                from .users import router as users_router

                api_router = APIRouter(prefix="/api")  # expect: SBA403
                api_router.include_router(users_router)
            ''',
            "app/api/users.py": _USERS,
        }, raises="LookupError: /api/users/ is not served",
           run="import app.main\n"
               "if '/api/users/' not in app.main.app.openapi()['paths']:\n"
               "    raise LookupError('/api/users/ is not served')",
           note="a parent router that collects the others but is never included itself"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        graph = router_graph(model)
        if graph.app is None:
            return
        if graph.complete:
            yield from self._unreached(model, graph)
        yield from self._late(model, graph)

    def _unreached(self, model: ProjectModel, graph: RouterGraph) -> Iterator[Finding]:
        reachable = graph.reachable()
        roots = {r.router for r in graph.registrations} | {
            router for include in graph.includes if include.parent is not None
            for router in [include.parent]}
        for router in sorted(roots, key=lambda r: (r.module, r.call.lineno)):
            if router.kind != "router" or router.scoped or router in reachable \
                    or graph.included(router) or is_test(router.info):
                continue
            routes = graph.served_routes(router)
            if routes:
                yield self._never(model, graph, router, routes)

    def _never(self, model: ProjectModel, graph: RouterGraph, router: RouterObject,
               routes: List[Registration]) -> Finding:
        own = [r for r in routes if r.router == router]
        through = "" if len(own) == len(routes) else (
            f" ({len(routes) - len(own)} of them through the routers it includes)")
        related = tuple(Location(str(r.info.path), r.node.lineno, r.node.col_offset, r.label)
                        for r in routes[:10])
        return self.report_in(
            router.info, router.call,
            f"APIRouter {router.label} is never included into the app {_target(model)}: "
            f"its {len(routes)} route(s) answer 404",
            f"No include_router() or mount() chain leads from the app {_target(model)} "
            f"({model.layout.target.origin}) to {router.label}, so its {len(routes)} route(s)"
            f"{through} are not served and are missing from /docs.",
            f"Include it where the other routers are included: "
            f"`{_parent_hint(graph)}.include_router({_spelled(router)})` after "
            f"`{_import(router)}`.",
            related=related, safe=False,
        )

    def _late(self, model: ProjectModel, graph: RouterGraph) -> Iterator[Finding]:
        version = _fastapi(model)
        if version is not None and version >= INCLUDE_BY_REFERENCE:
            return
        reachable = graph.reachable()
        for include in graph.includes:
            if include.method != "include_router" or include.parent not in reachable:
                continue
            context = model.context(include.info)
            if not context.scopes.runs_at_import(include.call):
                continue
            for child in include.routers:
                for later in _added_after(graph, include, child, context):
                    yield self._after(model, include, child, later, version)

    def _after(self, model: ProjectModel, include: Include, child: RouterObject,
               later: Registration, version: Optional[Version]) -> Finding:
        known = (f"FastAPI {version} copies" if version is not None else
                 "FastAPI before 0.137 copies (assumed: the installed FastAPI version is "
                 "unknown)")
        return self.report_in(
            later.info, later.node,
            f"{later.label} is added to {child.name} after {child.name} was included at line "
            f"{include.call.lineno}: it is never served",
            f"{known} the routes a router has when include_router() runs; {later.label} is "
            f"registered later, at line {later.node.lineno}, so the app never gets it.",
            f"Move `{ast.unparse(include.call)}` below the last route of {child.name} (or "
            f"upgrade to FastAPI >= 0.137, which keeps included routers by reference).",
            severity=Severity.RUNTIME if version is not None else Severity.WARNING,
            related=(Location(str(include.info.path), include.call.lineno,
                              include.call.col_offset, "included here"),), safe=False,
        )


def _added_after(graph: RouterGraph, include: Include, child: RouterObject,
                 context: ModuleContext) -> Iterator[Registration]:
    """Routes (and routers) added to `child` at import time in the including module, below
    the include."""
    for registration in graph.routes(child):
        if registration.info.path == include.info.path \
                and registration.node.lineno > include.call.lineno \
                and _at_import(context, registration.node):
            yield registration
    for later in graph.includes:
        if later.parent == child and later.info.path == include.info.path \
                and later.call.lineno > include.call.lineno \
                and context.scopes.runs_at_import(later.call) and later.routers:
            yield Registration(child, later.info, later.call,
                               f"include_router() at line {later.call.lineno}")


def _at_import(context: ModuleContext, node: ast.AST) -> bool:
    """Whether `node` runs at import (a decorator runs where its function is defined)."""
    parent = context.scopes.parent(node)
    if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
            and node in parent.decorator_list:
        node = parent
    return context.scopes.runs_at_import(node)


def _spelled(router: RouterObject) -> str:
    package, _, last = router.module.rpartition(".")
    return f"{last}.{router.name}" if package else router.name


def _import(router: RouterObject) -> str:
    package, _, last = router.module.rpartition(".")
    return f"from {package} import {last}" if package else f"from {last} import {router.name}"


def _parent_hint(graph: RouterGraph) -> str:
    """The name routers are usually included into: the router the app includes, else app."""
    assert graph.app is not None
    for include in graph.includes:
        if include.parent == graph.app and len(include.routers) == 1 \
                and include.routers[0].kind == "router" and graph.children(include.routers[0]):
            return include.routers[0].name
    return graph.app.name


def _subject(value: Value) -> Optional[Tuple[str, str]]:
    """(what it is, how Python names it in the AttributeError) for a value that is not a
    router; None for routers and values that may be one."""
    if isinstance(value, ModuleValue):
        return f"the module {value.info.name}", f"module '{value.info.name}'"
    if isinstance(value, FunctionValue):
        if value.node.decorator_list:
            return None  # a decorator may turn it into another object
        return (f"the function {value.node.name} (not called)", "'function' object")
    if isinstance(value, ClassValue):
        if any(not (isinstance(b, ast.Name) and b.id == "object") for b in value.node.bases):
            return None
        return f"the class {value.node.name}", f"type object '{value.node.name}'"
    if isinstance(value, CallResult):
        name = value.function.node.name
        if value.kind == "coroutine":
            return f"{name}() (an async function: a coroutine)", "'coroutine' object"
        return f"{name}() (it returns None)", "'NoneType' object"
    return None


class IncludeRouterWrongObject(ProjectRule):
    code = "SBA404"
    name = "include-router-wrong-object"
    severity = Severity.BLOCKING
    category = Category.APP
    versions = ("Any FastAPI version (from 0.137 the error names `_contains_router`, before it "
                "`routes`).")
    summary = "include_router() given a module, class, function or call result, not a router"
    references = ("E04",)
    codemod = "include-router-attribute"
    what = ("`include_router(x)` where `x` is resolved (across modules, re-exports and lists "
            "included in a loop) to something that is not an `APIRouter`: a module "
            "(`from app.api import users` then `include_router(users)`), a function not "
            "called, a plain class, or the result of a router factory that returns nothing or "
            "is `async`.")
    why = ("include_router reads router attributes at once, when the module runs: FastAPI "
           ">= 0.137 raises `AttributeError: module 'app.api.users' has no attribute "
           "'_contains_router'` (before 0.137: `... has no attribute 'routes'`), and a factory "
           "that forgot `return router` gives `AttributeError: 'NoneType' object has no "
           "attribute '_contains_router'`. uvicorn stops before serving anything.")
    how_to_fix = ("Pass the router object: `app.include_router(users.router)`; make router "
                  "factories `return router` (and call them); do not make them `async`.")
    fix_safety = ("Safe: when the module defines exactly one router (the only case the finding "
                  "names it), the `include-router-attribute` codemod writes `users.router` for "
                  "`users`; with several routers, or for functions and factories, fix it by "
                  "hand.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api import items, users

                app = FastAPI()
                app.include_router(users.router)
                app.include_router(items.router)
            ''',
            "app/api/__init__.py": "",
            "app/api/users.py": _USERS,
            "app/api/items.py": _ITEMS,
        }),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api import api_router

                app = FastAPI()
                app.include_router(api_router)
            ''',
            "app/api/__init__.py": '''
                from fastapi import APIRouter

                from app.api import users
                from app.api.health import build_router

                api_router = APIRouter()
                for router in (users.router, build_router()):
                    api_router.include_router(router)
            ''',
            "app/api/users.py": _USERS,
            "app/api/health.py": '''
                from fastapi import APIRouter


                def build_router() -> APIRouter:
                    router = APIRouter()

                    @router.get("/health")
                    def health():
                        return {"status": "ok"}

                    return router
            ''',
        }, note="a re-exported api_router, a loop, a factory that returns its router"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api import items, users

                app = FastAPI()
                app.include_router(users)  # expect: SBA404
                app.include_router(items.router)
            ''',
            "app/api/__init__.py": "",
            "app/api/users.py": _USERS,
            "app/api/items.py": _ITEMS,
        }, raises="AttributeError: module 'app.api.users' has no attribute '_contains_router'",
           run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api.health import build_router

                app = FastAPI()
                app.include_router(build_router())  # expect: SBA404
            ''',
            "app/api/__init__.py": "",
            "app/api/health.py": '''
                from fastapi import APIRouter


                def build_router():
                    router = APIRouter()

                    @router.get("/health")
                    def health():
                        return {"status": "ok"}
            ''',
        }, raises="AttributeError: 'NoneType' object has no attribute '_contains_router'",
           run="import app.main", note="a router factory that forgot `return router`"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        graph = router_graph(model)
        boot = loaded_at_boot(model)
        for include in graph.includes:
            if include.method != "include_router":
                continue
            for value in include.children or ():
                subject = _subject(value)
                if subject is not None:
                    yield self._wrong(model, graph, include, value, subject, boot)

    def _wrong(self, model: ProjectModel, graph: RouterGraph, include: Include, value: Value,
               subject: Tuple[str, str], boot: Optional[frozenset]) -> Finding:
        what, named = subject
        version = _fastapi(model)
        attribute = ("'routes'" if version is not None and version < INCLUDE_BY_REFERENCE
                     else "'_contains_router'")
        error = f"AttributeError: {named} has no attribute {attribute}"
        if version is None:
            error += " (assumed FastAPI >= 0.137; before: 'routes')"
        else:
            error = f"FastAPI {version} raises {error}"
        fix, codemod = _fix(graph, value, include)
        finding = self.report_in(
            include.info, include.argument or include.call,
            f"include_router() is given {what}, not an APIRouter",
            f"{ast.unparse(include.argument or include.call)} is {what}; include_router() "
            f"reads router attributes when {include.info.name} runs: {error}.",
            fix, severity=self._severity(model, include, boot))
        return finding if codemod else dataclasses.replace(
            finding, fix=dataclasses.replace(finding.fix, codemod=None))

    def _severity(self, model: ProjectModel, include: Include,
                  boot: Optional[frozenset]) -> Severity:
        context = model.context(include.info)
        if not context.scopes.runs_at_import(include.call):
            return Severity.RUNTIME
        if boot is not None and include.info.name in boot:
            return Severity.BLOCKING
        return Severity.WARNING


def _fix(graph: RouterGraph, value: Value, include: Include) -> Tuple[str, bool]:
    """The fix text, and whether the codemod applies (a module with exactly one router)."""
    argument = ast.unparse(include.argument) if include.argument is not None else "the module"
    if isinstance(value, ModuleValue):
        routers = graph.module_routers(value.info)
        if len(routers) == 1 and isinstance(include.argument, (ast.Name, ast.Attribute)):
            return (f"Pass the module's router: "
                    f"`include_router({argument}.{routers[0].name})`.", True)
        names = ", ".join(r.name for r in routers) or "none found"
        return (f"Pass one of the routers {value.info.name} defines ({names}) instead of the "
                f"module.", False)
    if isinstance(value, FunctionValue):
        return f"Call it: `include_router({value.node.name}())`.", False
    if isinstance(value, CallResult) and value.kind == "coroutine":
        return f"Make {value.function.node.name}() a plain `def` that returns the router.", False
    if isinstance(value, CallResult):
        return f"End {value.function.node.name}() with `return router`.", False
    return "Pass an APIRouter instance.", False


class RouterPrefixInvalid(Rule):
    code = "SBA405"
    name = "router-prefix-invalid"
    severity = Severity.BLOCKING
    category = Category.APP
    versions = "Any FastAPI version."
    summary = "router prefix without a leading '/' or with a trailing '/'"
    references = ("E06",)
    codemod = "router-prefix-slashes"
    triggers = ("prefix",)
    what = ("A `prefix=` given to `APIRouter(...)` or to `include_router(...)` that does not "
            "start with `/`, or that ends with `/` (also `\"/\"` alone). Values are resolved "
            "through constants and settings defaults; an unknown value is left alone.")
    why = ("FastAPI asserts the prefix when the router is created or included, at import: "
           "`AssertionError: A path prefix must start with '/'` or `AssertionError: A path "
           "prefix must not end with '/', as the routes will start with '/'`.")
    how_to_fix = ("Write prefixes as `/users`: one leading slash, none at the end; for the "
                  "root, leave the prefix out.")
    fix_safety = ("Safe: the `router-prefix-slashes` codemod adds the leading slash and strips "
                  "the trailing ones of a string literal written in the call (`\"/\"` becomes "
                  "`\"\"`), keeping its quotes; a prefix taken from a constant or from settings "
                  "is fixed by hand where it is defined.")
    valid = (
        Valid('''
            from fastapi import APIRouter, FastAPI

            router = APIRouter(prefix="/users", tags=["users"])
            app = FastAPI()
            app.include_router(router, prefix="/api/v1")
        '''),
        Valid('''
            from fastapi import APIRouter, FastAPI
            from pydantic_settings import BaseSettings


            class Settings(BaseSettings):
                API_V1_STR: str = "/api/v1"


            settings = Settings()
            router = APIRouter(prefix="")
            app = FastAPI()
            app.include_router(router, prefix=settings.API_V1_STR)
        ''', note="an empty prefix and a settings default"),
    )
    invalid = (
        Invalid('''
            from fastapi import APIRouter

            router = APIRouter(prefix="users", tags=["users"])  # expect: SBA405
        ''', raises="AssertionError: A path prefix must start with '/'"),
        Invalid('''
            from fastapi import APIRouter, FastAPI

            API_PREFIX = "/api/v1/"
            router = APIRouter()
            app = FastAPI()
            app.include_router(router, prefix=API_PREFIX)  # expect: SBA405
        ''', raises="AssertionError: A path prefix must not end with '/', as the routes will "
                    "start with '/'"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        if not (module.imports.imports_from("fastapi") or module.mentions(("include_router",))):
            return
        for call in module.calls:
            expr = self._prefix(module, call)
            if expr is None:
                continue
            problem = _problem(module, expr)
            if problem is not None:
                yield self._finding(module, call, expr, *problem)

    @staticmethod
    def _prefix(module: ModuleContext, call: ast.Call) -> Optional[ast.expr]:
        if module.call_name(call) in ROUTER_CLASSES:
            found = keyword(call, "prefix")
            return found.value if found else None
        if isinstance(call.func, ast.Attribute) and call.func.attr == "include_router":
            found = keyword(call, "prefix")
            return found.value if found else None
        return None

    def _finding(self, module: ModuleContext, call: ast.Call, expr: ast.expr, text: str,
                 error: str, fixed: Optional[str]) -> Finding:
        where = ("APIRouter()" if module.call_name(call) in ROUTER_CLASSES
                 else "include_router()")
        value = module.values.string(expr)
        origin = f" (from {value.origin})" if value is not None and value.origin else ""
        if fixed is None:
            fix = "Start the prefix with '/'."
        else:
            fix = f"Write `prefix={fixed!r}`." if fixed else "Leave the prefix out (the root)."
        return self.report(
            module, expr,
            f"{where} prefix {text!r} is rejected by FastAPI: {error.split(': ', 1)[1]}",
            f"The prefix is {text!r}{origin}; FastAPI asserts prefixes when the router is "
            f"{'created' if where == 'APIRouter()' else 'included'}: {error}.",
            fix, severity=self.severity_at(module, call))


def _problem(module: ModuleContext, expr: ast.expr) -> Optional[Tuple[str, str, Optional[str]]]:
    """(the prefix as known, FastAPI's error, the corrected prefix when complete)."""
    value = module.values.string(expr)
    if value is None or not value.text:
        return None
    text = value.text
    if not text.startswith("/"):
        fixed = ("/" + text).rstrip("/") if value.complete else None
        return text, "AssertionError: A path prefix must start with '/'", fixed
    if value.complete and text.endswith("/"):
        return (text, "AssertionError: A path prefix must not end with '/', as the routes "
                "will start with '/'", text.rstrip("/"))
    return None
