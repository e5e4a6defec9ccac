"""Plain constants an argument holds: written in the call, or a name bound once to one (`reload=
RELOAD`, `workers=WORKERS`). Anything else is unknown."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 8


def constant(module: "ModuleContext", expr: Optional[ast.expr], depth: int = 0) -> object:
    """The constant `expr` evaluates to, or `None` when it is not a known constant."""
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.Name) and depth < _MAX_DEPTH:
        bindings = module.scopes.lookup(expr.id, expr)
        if len(bindings) == 1 and bindings[0].kind == "assign":
            return constant(module, bindings[0].value, depth + 1)
    return None


def is_true(module: "ModuleContext", expr: Optional[ast.expr]) -> bool:
    return constant(module, expr) is True


def int_value(module: "ModuleContext", expr: Optional[ast.expr]) -> Optional[int]:
    value = constant(module, expr)
    return value if type(value) is int else None
