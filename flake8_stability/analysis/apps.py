"""The app objects a module creates (`app = FastAPI(...)`, `Starlette(...)`, `APIRouter(...)`)
and what a name that holds one is, for the rules about middleware and lifecycle."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ..context import ModuleContext

FASTAPI = "FastAPI"
STARLETTE = "Starlette"
API_ROUTER = "APIRouter"
_KINDS = {"fastapi.FastAPI": FASTAPI, "fastapi.applications.FastAPI": FASTAPI,
          "starlette.applications.Starlette": STARLETTE,
          "fastapi.APIRouter": API_ROUTER, "fastapi.routing.APIRouter": API_ROUTER}


@dataclass(frozen=True)
class App:
    """An app (or router) created by a call of this module."""

    call: ast.Call
    kind: str  # FASTAPI, STARLETTE or API_ROUTER

    def keyword(self, name: str) -> Optional[ast.expr]:
        """The expression passed as `name=`, unless it is the literal None."""
        for kw in self.call.keywords:
            is_none = isinstance(kw.value, ast.Constant) and kw.value.value is None
            if kw.arg == name and not is_none:
                return kw.value
        return None


def created_app(module: "ModuleContext", call: ast.Call) -> Optional[App]:
    """The app `call` creates, when it calls FastAPI, Starlette or APIRouter."""
    kind = _KINDS.get(module.call_name(call) or "")
    return App(call, kind) if kind else None


def app_named(module: "ModuleContext", expr: ast.AST) -> Optional[App]:
    """The app a name holds where it is used: every binding assigns the same app call."""
    if not isinstance(expr, ast.Name):
        return None
    bindings = module.scopes.lookup(expr.id, expr)
    if len(bindings) != 1 or bindings[0].kind != "assign":
        return None
    value = bindings[0].value
    return created_app(module, value) if isinstance(value, ast.Call) else None
