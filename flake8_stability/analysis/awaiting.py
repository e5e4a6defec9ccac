"""What happens to the value of a call that returns a coroutine: awaited, handed on to
something that may await it (silent), or used as if it were the result (a misuse)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Tuple

if TYPE_CHECKING:
    from ..context import ModuleContext

DISCARDED = "discarded"
ATTRIBUTE = "attribute"
SUBSCRIPTED = "subscripted"
ITERATED = "iterated"
ASYNC_ITERATED = "async-iterated"
TESTED = "tested"
FORMATTED = "formatted"
ARGUMENT = "argument"
RETURNED = "returned"
NEVER_AWAITED = "never-awaited"

# Builtins that use their argument as a value and never await it.
_VALUE_BUILTINS = frozenset(
    {"print", "len", "list", "tuple", "set", "dict", "sorted", "iter", "next", "enumerate", "zip",
     "map", "filter", "any", "all", "sum", "min", "max", "str", "repr", "bool", "int", "float",
     "reversed"}
)
_VALUE_FUNCTIONS = frozenset({"fastapi.encoders.jsonable_encoder"})
_VALUE_METHODS = frozenset({"model_validate", "from_orm", "parse_obj"})
# Attributes a coroutine object really has.
_COROUTINE_ATTRIBUTES = frozenset(
    {"send", "throw", "close", "__await__", "cr_await", "cr_code", "cr_frame", "cr_running",
     "cr_origin", "cr_suspended"}
)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


@dataclass(frozen=True)
class Misuse:
    """A coroutine used as if it were its result."""

    kind: str
    node: ast.AST  # where it is misused: the call itself or a later use of its variable
    detail: str  # e.g. "the coroutine is iterated"
    variable: Optional[str] = None  # the name it was assigned to, if any


def unawaited_use(module: "ModuleContext", call: ast.Call) -> Optional[Misuse]:
    """How the coroutine made by `call` is misused, or None when it is awaited or handed on."""
    node, parent = _climb(module, call)
    name = _assigned_name(node, parent)
    if name is not None:
        return _variable_misuse(module, call, parent, name)  # type: ignore[arg-type]
    return _misuse(module, node, parent)


def in_async_function(module: "ModuleContext", node: ast.AST) -> bool:
    return isinstance(module.scopes.enclosing_function(node), ast.AsyncFunctionDef)


def _climb(module: "ModuleContext", node: ast.AST) -> Tuple[ast.AST, Optional[ast.AST]]:
    """Go up through conditional expressions, whose value is the branch taken."""
    parent = module.scopes.parent(node)
    while isinstance(parent, ast.IfExp) and node is not parent.test:
        node, parent = parent, module.scopes.parent(parent)
    return node, parent


def _assigned_name(node: ast.AST, parent: Optional[ast.AST]) -> Optional[str]:
    if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1:
        target = parent.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(parent, ast.AnnAssign) and parent.value is node:
        return parent.target.id if isinstance(parent.target, ast.Name) else None
    return None


def _misuse(module: "ModuleContext", node: ast.AST, parent: Optional[ast.AST]) -> Optional[Misuse]:
    if isinstance(parent, ast.Expr):
        return Misuse(DISCARDED, node, "its result is discarded")
    if isinstance(parent, ast.Attribute) and parent.attr not in _COROUTINE_ATTRIBUTES:
        grand = module.scopes.parent(parent)
        called = "()" if isinstance(grand, ast.Call) and grand.func is parent else ""
        return Misuse(ATTRIBUTE, parent, f"`.{parent.attr}{called}` is used on the coroutine")
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return Misuse(SUBSCRIPTED, parent, "the coroutine is subscripted")
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
        if isinstance(parent, ast.AsyncFor) or getattr(parent, "is_async", 0):
            return Misuse(ASYNC_ITERATED, parent, "the coroutine is iterated with async for")
        return Misuse(ITERATED, parent, "the coroutine is iterated")
    if _is_tested(node, parent):
        return Misuse(TESTED, parent, "the coroutine is tested (it is always truthy, never None)")
    if isinstance(parent, ast.FormattedValue):
        return Misuse(FORMATTED, parent, "the coroutine is formatted into a string")
    if isinstance(parent, ast.keyword):
        parent = module.scopes.parent(parent)
    if isinstance(parent, ast.Call) and parent.func is not node:
        return _argument_misuse(module, parent)
    if isinstance(parent, ast.Return) and in_async_function(module, parent):
        return Misuse(RETURNED, parent, "an async def returns the coroutine itself, so its "
                                        "caller's await yields a coroutine")
    return None


def _is_tested(node: ast.AST, parent: Optional[ast.AST]) -> bool:
    if isinstance(parent, ast.Compare):
        return True
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return True
    return isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is node


def _argument_misuse(module: "ModuleContext", call: ast.Call) -> Optional[Misuse]:
    """A coroutine passed to a function that uses it as a value (`list(...)`, `print(...)`)."""
    func = call.func
    builtin = isinstance(func, ast.Name) and func.id in _VALUE_BUILTINS
    if builtin and not module.scopes.lookup(func.id, func):  # type: ignore[union-attr]
        return Misuse(ARGUMENT, call, f"the coroutine is passed to {func.id}()")
    name = module.call_name(call)
    if name in _VALUE_FUNCTIONS:
        return Misuse(ARGUMENT, call, f"the coroutine is passed to {name.rsplit('.', 1)[1]}()")
    if isinstance(func, ast.Attribute) and func.attr in _VALUE_METHODS:
        return Misuse(ARGUMENT, call, f"the coroutine is passed to .{func.attr}()")
    return None


# -- a coroutine assigned to a variable --------------------------------------------------------
def _variable_misuse(module: "ModuleContext", call: ast.Call, stmt: ast.stmt,
                     name: str) -> Optional[Misuse]:
    """`r = session.execute(q)`: a misuse when no later use of `r` awaits or hands it on."""
    loads = _later_loads(module, stmt, name)
    if loads is None:
        return None
    misuses: List[Misuse] = []
    for load in loads:
        node, parent = _climb(module, load)
        found = _misuse(module, node, parent)
        if found is None:
            return None  # awaited, or handed on to something that may await it
        misuses.append(found)
    if not misuses:
        return Misuse(NEVER_AWAITED, call, f"it is assigned to `{name}`, which is never awaited",
                      name)
    first = misuses[0]
    line = getattr(first.node, "lineno", 0)
    return Misuse(first.kind, first.node, f"it is assigned to `{name}` and at line {line} "
                                          f"{first.detail}", name)


def _later_loads(module: "ModuleContext", stmt: ast.stmt, name: str) -> Optional[List[ast.Name]]:
    """Reads of the variable `stmt` binds, until it is bound again; None when it escapes
    (read from a nested function, declared global) or a loop may read it before."""
    scopes = module.scopes
    scope = scopes.scope_of(stmt)
    own = scopes.bindings.get(scope, {}).get(name, [])
    start, cutoff = _end(stmt), _cutoff(_block_of(module, stmt), own, stmt)
    loop = next((a for a in _ancestors_within(module, stmt, scope) if isinstance(a, _LOOPS)), None)
    loads = []
    for node in ast.walk(scope):
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return None
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        if scopes.scope_of(node) is not scope:
            found = scopes.lookup(name, node)
            if found and found[0] in own:
                return None
            continue
        position = _start(node)
        if loop is not None and position < _start(stmt) and _inside(node, loop):
            return None
        if start < position < cutoff:
            loads.append(node)
    return sorted(loads, key=_start)


def _cutoff(block: List[ast.stmt], bindings: list, stmt: ast.stmt) -> Tuple[int, int]:
    """Where the variable is surely bound again: the next assignment in the same block, once
    its right-hand side is evaluated. Assignments in branches or loops may not run."""
    for binding in bindings:
        node = binding.node
        if _start(node) <= _start(stmt) or not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        if any(node is sibling for sibling in block):
            return _end(binding.value) if binding.value is not None else _start(node)
    return (10 ** 9, 0)


def _block_of(module: "ModuleContext", stmt: ast.stmt) -> List[ast.stmt]:
    """The statement list `stmt` belongs to."""
    parent = module.scopes.parent(stmt)
    for _, value in ast.iter_fields(parent) if parent is not None else ():
        if isinstance(value, list) and any(stmt is item for item in value):
            return value
    return [stmt]


def _ancestors_within(module: "ModuleContext", node: ast.AST, scope: ast.AST) -> List[ast.AST]:
    found = []
    for ancestor in module.scopes.ancestors(node):
        if ancestor is scope:
            break
        found.append(ancestor)
    return found


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    return _start(outer) <= _start(node) <= _end(outer)


def _start(node: ast.AST) -> Tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _end(node: ast.AST) -> Tuple[int, int]:
    return (getattr(node, "end_lineno", None) or getattr(node, "lineno", 0),
            getattr(node, "end_col_offset", None) or getattr(node, "col_offset", 0))
