"""Middleware registrations: SBA406 (CORS wildcard with credentials), SBA407 (keyword arguments
the middleware class does not accept)."""
from __future__ import annotations

import ast
import difflib
from typing import Iterator, List, Optional, Tuple

from ...analysis.constants import is_true
from ...analysis.middleware import ADD, CORS, DIRECT, WRAPPER, MiddlewareUse, middleware_uses
from ...analysis.middleware_signatures import Accepted, accepted_keywords
from ...context import ModuleContext
from ...findings import Category, Finding, Severity
from ..base import Invalid, Rule, Valid

_MAX_DEPTH = 8
_REQUEST = ("import asyncio\n"
            "scope = {'type': 'http', 'method': 'GET', 'path': '/', 'headers': [], "
            "'query_string': b''}\n"
            "asyncio.run(app(scope, None, None))")


class MiddlewareRule(Rule):
    triggers = ("middleware", "Middleware")


def _origins(module: ModuleContext, expr: Optional[ast.expr],
             depth: int = 0) -> Optional[Tuple[List[str], str]]:
    """The origins a list expression holds, and where they come from: a literal list of known
    strings, a name bound to one, or `text.split(sep)` of a known string (settings defaults
    and `os.getenv` defaults included); None when unknown (a literal list with unknown
    elements is known enough when one of the others is `"*"`)."""
    if expr is None or depth > _MAX_DEPTH:
        return None
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        values = [module.values.string(element) for element in expr.elts]
        known = [v for v in values if v is not None and v.complete]
        if len(known) != len(values) and not any(v.text == "*" for v in known):
            return None
        return [v.text for v in known], next((v.origin for v in known if v.origin), "")
    if isinstance(expr, ast.Name):
        bindings = module.scopes.lookup(expr.id, expr)
        if len(bindings) == 1 and bindings[0].kind == "assign":
            return _origins(module, bindings[0].value, depth + 1)
        return None
    if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "split" and len(expr.args) == 1 and not expr.keywords):
        text, sep = module.values.string(expr.func.value), module.values.string(expr.args[0])
        if text is None or sep is None or not (text.complete and sep.complete) or not sep.text:
            return None
        return text.text.split(sep.text), text.origin
    return None


class CorsWildcardWithCredentials(MiddlewareRule):
    code = "SBA406"
    name = "cors-wildcard-with-credentials"
    severity = Severity.WARNING
    category = Category.APP
    versions = "Any Starlette version."
    summary = "CORSMiddleware allows every origin (`*`) together with credentials"
    references = ("E07",)
    what = ("`CORSMiddleware` registered with `allow_origins` holding `\"*\"` (written in the "
            "call, in a constant, or as the default of a setting or `os.getenv` that is split "
            "on commas) and `allow_credentials=True`.")
    why = ("Browsers refuse the literal combination (`Credential is not supported if the CORS "
           "header 'Access-Control-Allow-Origin' is '*'`), so Starlette does not send `*` "
           "here: with credentials allowed it answers every request that carries an `Origin` "
           "header with `Access-Control-Allow-Origin: <that origin>` and "
           "`Access-Control-Allow-Credentials: true`, also for preflight requests. Any website "
           "a logged-in user visits can then call the API with the user's cookies and read the "
           "answers (CWE-942). Nothing fails: the app boots and serves.")
    how_to_fix = ("List the origins that may call the API with credentials (`allow_origins="
                  "settings.cors_origins`, e.g. `[\"https://app.example.com\"]`), or keep `*` "
                  "and set `allow_credentials=False` for a public API without cookies. Split an "
                  "environment string into a list of exact origins.")
    fix_safety = ("Unsafe: origins that are not listed lose access; decide which front ends "
                  "need credentials.")
    valid = (
        Valid({"app/__init__.py": "", "app/main.py": '''
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                cors_origins: str = "http://localhost:3000,https://app.example.com"

            settings = Settings()
            app = FastAPI()
            app.add_middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins.split(","),
                allow_credentials=True,
                allow_methods=["*"],
                allow_headers=["*"],
            )
        '''}, note="explicit origins from a settings default"),
        Valid({"app/__init__.py": "", "app/main.py": '''
            from fastapi import FastAPI
            from starlette.middleware import Middleware
            from starlette.middleware.cors import CORSMiddleware

            middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])]
            app = FastAPI(middleware=middleware)
        '''}, note="a public API: every origin, without credentials"),
    )
    invalid = (
        Invalid({"app/__init__.py": "", "app/main.py": '''
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware

            app = FastAPI()
            app.add_middleware(  # expect: SBA406
                CORSMiddleware,
                allow_origins=["*"],
                allow_credentials=True,
                allow_methods=["*"],
                allow_headers=["*"],
            )
        '''}),
        Invalid({"app/__init__.py": "", "app/main.py": '''
            import os

            from fastapi import FastAPI
            from starlette.middleware import Middleware
            from starlette.middleware.cors import CORSMiddleware

            ORIGINS = os.getenv("CORS_ORIGINS", "*").split(",")
            CREDENTIALS = True

            app = FastAPI(middleware=[
                Middleware(CORSMiddleware, allow_origins=ORIGINS, allow_credentials=CREDENTIALS),  # expect: SBA406
            ])
        '''}),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        for use in middleware_uses(module):
            if use.starlette_class != CORS or not is_true(module, use.argument("allow_credentials")):
                continue
            origins = _origins(module, use.argument("allow_origins"))
            if origins is not None and "*" in origins[0]:
                yield self._finding(module, use, origins[1])

    def _finding(self, module: ModuleContext, use: MiddlewareUse, origin: str) -> Finding:
        starlette = module.project.environment.describe("starlette")
        where = f" The origins are {origin}." if origin else ""
        return self.report(
            module, use.call,
            f"{use.label} with allow_origins containing '*' and allow_credentials=True lets "
            f"every website make credentialed requests",
            f"With credentials allowed, CORSMiddleware ({starlette}) does not send '*': it "
            f"echoes each request's Origin header in Access-Control-Allow-Origin together with "
            f"Access-Control-Allow-Credentials: true (preflights included), so browsers send "
            f"the user's cookies from any site and let it read the responses.{where}",
            "List the front-end origins explicitly (allow_origins=[\"https://app.example.com\"]"
            ", split from a setting), or set allow_credentials=False if no cookies or "
            "Authorization headers cross origins.",
            safe=False,
        )


class MiddlewareUnknownArgument(MiddlewareRule):
    code = "SBA407"
    name = "middleware-unknown-argument"
    severity = Severity.BLOCKING
    category = Category.APP
    versions = ("Any Starlette version: the keywords are checked against the installed middleware "
                "class.")
    summary = "middleware given a keyword argument its class does not accept"
    what = ("`app.add_middleware(Cls, name=...)`, `Middleware(Cls, name=...)` or a direct "
            "`Cls(app, name=...)` where `name` is not a parameter of the middleware's "
            "constructor: checked against the installed class's signature (asked from the "
            "project's interpreter), the project's own middleware classes (`__init__`, or "
            "`BaseHTTPMiddleware`'s `app, dispatch`), else Starlette 1.x's signatures.")
    why = ("Starlette builds the middleware stack lazily, calling `Cls(app, **options)` when "
           "the app is first called: `TypeError: CORSMiddleware.__init__() got an unexpected "
           "keyword argument 'allow_origin'`. Under uvicorn's default `--lifespan auto` the "
           "first call is the lifespan: uvicorn logs `ASGI 'lifespan' protocol appears "
           "unsupported.`, skips the lifespan (startup code never runs) and starts; every "
           "request then fails with 500 and the same TypeError. With `--lifespan on` the app "
           "does not start. A direct `Cls(app, ...)` call fails where it runs.")
    how_to_fix = ("Use the parameter names of the class's constructor (`allow_origins`, not "
                  "`allow_origin`; `minimum_size` for GZip; `allowed_hosts` for TrustedHost), "
                  "or add the parameter to your own middleware's `__init__`.")
    fix_safety = "Safe when the intended parameter is the suggested one; check its meaning."
    valid = (
        Valid({"app/__init__.py": "", "app/main.py": '''
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware
            from fastapi.middleware.gzip import GZipMiddleware

            app = FastAPI()
            app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=5)
            app.add_middleware(
                CORSMiddleware,
                allow_origins=["https://app.example.com"],
                allow_credentials=True,
                allow_methods=["*"],
                allow_headers=["*"],
            )
        '''}),
        Valid({"app/__init__.py": "", "app/middleware.py": '''
            import time

            from starlette.middleware.base import BaseHTTPMiddleware

            class TimingMiddleware(BaseHTTPMiddleware):
                def __init__(self, app, header_name: str = "X-Process-Time"):
                    super().__init__(app)
                    self.header_name = header_name

                async def dispatch(self, request, call_next):
                    start = time.perf_counter()
                    response = await call_next(request)
                    response.headers[self.header_name] = f"{time.perf_counter() - start:.4f}"
                    return response
        ''', "app/main.py": '''
            from fastapi import FastAPI
            from starlette.middleware import Middleware

            from app.middleware import TimingMiddleware

            app = FastAPI(middleware=[Middleware(TimingMiddleware, header_name="X-Time")])
        '''}, note="the project's own middleware, its __init__ read from the source"),
    )
    invalid = (
        Invalid('''
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware

            app = FastAPI()
            app.add_middleware(CORSMiddleware, allow_origin=["https://app.example.com"])  # expect: SBA407
        ''', raises="TypeError: CORSMiddleware.__init__() got an unexpected keyword argument 'allow_origin'",
            run=_REQUEST),
        Invalid('''
            from fastapi import FastAPI
            from starlette.middleware import Middleware
            from starlette.middleware.base import BaseHTTPMiddleware

            class AuditMiddleware(BaseHTTPMiddleware):
                async def dispatch(self, request, call_next):
                    return await call_next(request)

            app = FastAPI(middleware=[Middleware(AuditMiddleware, exclude_paths=["/health"])])  # expect: SBA407
        ''', raises="TypeError: BaseHTTPMiddleware.__init__() got an unexpected keyword argument 'exclude_paths'",
            run=_REQUEST),
        Invalid('''
            from fastapi import FastAPI
            from starlette.middleware.gzip import GZipMiddleware

            api = FastAPI()
            app = GZipMiddleware(api, min_size=1000)  # expect: SBA407
        ''', raises="TypeError: GZipMiddleware.__init__() got an unexpected keyword argument 'min_size'"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        uses = middleware_uses(module)
        if not any(use.keywords for use in uses):
            return
        for use, accepted in zip(uses, accepted_keywords(module, uses)):
            if accepted is None or accepted.open:
                continue
            for kw in use.keywords:
                if kw.arg not in accepted.names:
                    yield self._finding(module, use, kw, accepted)

    def _finding(self, module: ModuleContext, use: MiddlewareUse, kw: ast.keyword,
                 accepted: Accepted) -> Finding:
        close = difflib.get_close_matches(str(kw.arg), accepted.names, n=1, cutoff=0.6)
        suggestion = f"Did you mean {close[0]!r}? " if close else ""
        names = ", ".join(accepted.names) or "no keyword arguments"
        severity, when = self._when(module, use, accepted)
        return self.report(
            module, kw,
            f"{use.label} does not accept the keyword argument {kw.arg!r}",
            f"{accepted.init}() takes {names} after the app ({accepted.source}); {when} fails "
            f"with TypeError: {accepted.init}() got an unexpected keyword argument "
            f"{kw.arg!r}.",
            f"{suggestion}Pass only the constructor's parameters: {names}.",
            severity=severity,
        )

    def _when(self, module: ModuleContext, use: MiddlewareUse,
              accepted: Accepted) -> Tuple[Severity, str]:
        if use.how == DIRECT:
            severity, when = self.severity_at(module, use.call), "the call"
        else:
            how = {ADD: "add_middleware() only records it", WRAPPER: "Middleware() only records it"}
            severity = Severity.RUNTIME
            when = (f"{how[use.how]}; Starlette builds the stack when the app is first called, "
                    f"so under uvicorn's default --lifespan auto the lifespan is skipped and "
                    f"every request")
        return (severity if accepted.exact else Severity.WARNING), when
