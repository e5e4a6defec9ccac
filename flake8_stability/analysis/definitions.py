"""The `def` or `class` statement a name stands for: bound in the module itself, or a top-level
one imported from another module of the project (`from app.core.lifespan import lifespan`)."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Tuple

if TYPE_CHECKING:
    from ..context import ModuleContext


def definition(module: "ModuleContext", expr: ast.expr,
               kind: str) -> Optional[Tuple["ModuleContext", ast.AST]]:
    """The module defining what `expr` names and its statement, when that is one binding of
    `kind` ("def" or "class"); None when it cannot be told."""
    if isinstance(expr, ast.Name):
        bindings = module.scopes.lookup(expr.id, expr)
        if len(bindings) == 1 and bindings[0].kind == kind:
            return module, bindings[0].node
    dotted = module.qualname(expr)
    if dotted is None or module.module_name is None or "." not in dotted:
        return None
    owner, _, name = dotted.rpartition(".")
    model = module.project.model
    info = model.project_module(owner)
    if info is None or info.tree is None or info.path == Path(module.path).resolve():
        return None
    other = model.context(info)
    bindings = other.scopes.lookup(name, info.tree)
    if len(bindings) != 1 or bindings[0].kind != kind:
        return None
    return other, bindings[0].node
