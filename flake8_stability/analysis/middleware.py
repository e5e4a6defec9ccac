"""Where a module registers ASGI middleware: `app.add_middleware(Cls, ...)`, `Middleware(Cls,
...)` (for `FastAPI(middleware=[...])`), and a Starlette middleware class called directly on an
app (`app = CORSMiddleware(app, ...)`), with the keyword arguments the class is given."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Tuple

from ..project.resolve import PROJECT
from .apps import created_app

if TYPE_CHECKING:
    from ..context import ModuleContext

ADD = "add_middleware"
WRAPPER = "Middleware"
DIRECT = "direct"
_WRAPPERS = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})

CORS = "starlette.middleware.cors.CORSMiddleware"
# Starlette's middleware classes under every public path, by their defining module's path.
STARLETTE_CLASSES = {
    "starlette.middleware.cors.CORSMiddleware": CORS,
    "fastapi.middleware.cors.CORSMiddleware": CORS,
    "starlette.middleware.gzip.GZipMiddleware": "starlette.middleware.gzip.GZipMiddleware",
    "fastapi.middleware.gzip.GZipMiddleware": "starlette.middleware.gzip.GZipMiddleware",
    "starlette.middleware.trustedhost.TrustedHostMiddleware":
        "starlette.middleware.trustedhost.TrustedHostMiddleware",
    "fastapi.middleware.trustedhost.TrustedHostMiddleware":
        "starlette.middleware.trustedhost.TrustedHostMiddleware",
    "starlette.middleware.httpsredirect.HTTPSRedirectMiddleware":
        "starlette.middleware.httpsredirect.HTTPSRedirectMiddleware",
    "fastapi.middleware.httpsredirect.HTTPSRedirectMiddleware":
        "starlette.middleware.httpsredirect.HTTPSRedirectMiddleware",
    "starlette.middleware.sessions.SessionMiddleware":
        "starlette.middleware.sessions.SessionMiddleware",
}


@dataclass(frozen=True)
class MiddlewareUse:
    """One registration: `how` is ADD, WRAPPER or DIRECT; `qualname` the canonical dotted name
    of the class when it is imported (None for a class of this module or an unknown one)."""

    call: ast.Call
    how: str
    cls: ast.expr
    qualname: Optional[str]
    keywords: Tuple[ast.keyword, ...]  # the named arguments the class receives
    spread: bool  # `**options` passes names that cannot be read

    @property
    def label(self) -> str:
        if isinstance(self.cls, ast.Name):
            return self.cls.id
        if isinstance(self.cls, ast.Attribute):
            return self.cls.attr
        return "the middleware"

    @property
    def starlette_class(self) -> Optional[str]:
        """Starlette's defining path of the class, when it is one of Starlette's own."""
        return STARLETTE_CLASSES.get(self.qualname or "")

    def argument(self, name: str) -> Optional[ast.expr]:
        for kw in self.keywords:
            if kw.arg == name:
                return kw.value
        return None


def middleware_uses(module: "ModuleContext") -> List[MiddlewareUse]:
    """Every middleware registration of the module, in source order."""
    found = []
    for call in module.calls:
        use = _use(module, call)
        if use is not None:
            found.append(use)
    return found


def _use(module: "ModuleContext", call: ast.Call) -> Optional[MiddlewareUse]:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == ADD:
        if _other_object(module, func.value):
            return None
        how = ADD
    elif module.call_name(call) in _WRAPPERS:
        how = WRAPPER
    elif module.call_name(call) in STARLETTE_CLASSES and call.args:
        return _registration(module, call, DIRECT, func)
    else:
        return None
    if not call.args or isinstance(call.args[0], ast.Starred):
        return None
    return _registration(module, call, how, call.args[0])


def _other_object(module: "ModuleContext", expr: ast.expr) -> bool:
    """Whether `expr` is a name bound to an object another installed library creates (not an
    app, not the project's own factory): its `add_middleware` is that library's."""
    if not isinstance(expr, ast.Name):
        return False
    bindings = module.scopes.lookup(expr.id, expr)
    if len(bindings) != 1 or bindings[0].kind != "assign":
        return False
    value = bindings[0].value
    if not isinstance(value, ast.Call) or created_app(module, value) is not None:
        return False
    name = module.call_name(value)
    if name is None:
        return False
    return module.project.model.resolve(name.split(".", 1)[0]).kind != PROJECT


def _registration(module: "ModuleContext", call: ast.Call, how: str,
                  cls: ast.expr) -> MiddlewareUse:
    named = tuple(kw for kw in call.keywords if kw.arg is not None)
    spread = len(named) != len(call.keywords)
    return MiddlewareUse(call, how, cls, module.qualname(cls), named, spread)
