"""Follow a dict expression to the string keys it surely holds: `{...}` and `dict(...)`
literals, directly or through a name assigned once and never changed. Unknown stays None."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Optional

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 8
_MUTATORS = frozenset({"pop", "popitem", "clear", "update", "setdefault", "__setitem__",
                       "__delitem__", "__ior__"})


@dataclass(frozen=True)
class KnownDict:
    """String keys a dict surely holds (it may hold more) and the expression of each value."""

    keys: Dict[str, ast.expr]
    node: ast.expr  # the literal the keys were read from
    origin: str = ""  # the name that holds it, when not written at the use site


def known_dict(module: "ModuleContext", expr: Optional[ast.expr],
               depth: int = 0) -> Optional[KnownDict]:
    if expr is None or depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Dict):
        return KnownDict({k.value: v for k, v in zip(expr.keys, expr.values)
                          if isinstance(k, ast.Constant) and isinstance(k.value, str)}, expr)
    if isinstance(expr, ast.Call) and _is_builtin_dict(module, expr):
        return KnownDict({kw.arg: kw.value for kw in expr.keywords if kw.arg is not None}, expr)
    if isinstance(expr, ast.Name):
        return _through_name(module, expr, depth)
    return None


def _through_name(module: "ModuleContext", expr: ast.Name, depth: int) -> Optional[KnownDict]:
    bindings = module.scopes.lookup(expr.id, expr)
    if len(bindings) != 1 or bindings[0].kind != "assign" or _is_mutated(module, expr.id):
        return None
    found = known_dict(module, bindings[0].value, depth + 1)
    if found is None or found.origin:
        return found
    line = getattr(bindings[0].node, "lineno", 0)
    return KnownDict(found.keys, found.node, f"{expr.id} (line {line})")


def _is_builtin_dict(module: "ModuleContext", call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "dict" and len(call.args) <= 1
            and not module.scopes.lookup("dict", func))


def _is_mutated(module: "ModuleContext", name: str) -> bool:
    """Whether any item of `name` is set or deleted, or a mutating method is called on it."""
    for node in ast.walk(module.tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del))
                and isinstance(node.value, ast.Name) and node.value.id == name):
            return True
        if (isinstance(node, ast.Attribute) and node.attr in _MUTATORS
                and isinstance(node.value, ast.Name) and node.value.id == name):
            return True
    return False
