"""File paths written in code: a string literal (relative to the working directory when it is
not absolute), or a path built from `__file__` (`Path(__file__).resolve().parent / ".env"`,
`os.path.join(os.path.dirname(__file__), ".env")`), through module-level names. Unknown
stays unknown."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 12
_PATH_CLASSES = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"})
_IDENTITY = frozenset({"resolve", "absolute", "expanduser"})
_OS_IDENTITY = frozenset({"os.path.abspath", "os.path.realpath", "os.path.normpath",
                          "os.fspath"})


@dataclass(frozen=True)
class PathValue:
    """`anchored`: built from the module's own location, so independent of the working dir;
    else `path` is as written and resolved from the working directory when relative."""

    path: Path
    anchored: bool


def file_path(module: "ModuleContext", expr: Optional[ast.AST],
              depth: int = 0) -> Optional[PathValue]:
    """The path `expr` stands for at the top level of `module`, if it can be told."""
    if expr is None or depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        if not expr.value or "\x00" in expr.value:
            return None
        path = Path(expr.value)
        return PathValue(path, path.is_absolute())
    if isinstance(expr, ast.Name):
        return _name(module, expr, depth)
    if isinstance(expr, ast.Attribute) and expr.attr == "parent":
        inner = file_path(module, expr.value, depth + 1)
        return PathValue(inner.path.parent, inner.anchored) if inner and inner.anchored else None
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Attribute) \
            and expr.value.attr == "parents" and isinstance(expr.slice, ast.Constant) \
            and isinstance(expr.slice.value, int) and expr.slice.value >= 0:
        inner = file_path(module, expr.value.value, depth + 1)
        parents = inner.path.parents if inner and inner.anchored else ()
        return PathValue(parents[expr.slice.value], True) \
            if expr.slice.value < len(parents) else None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        base = file_path(module, expr.left, depth + 1)
        tail = file_path(module, expr.right, depth + 1)
        if base is None or tail is None or tail.anchored:
            return None
        return PathValue(base.path / tail.path, base.anchored)
    if isinstance(expr, ast.Call):
        return _call(module, expr, depth)
    return None


def _name(module: "ModuleContext", expr: ast.Name, depth: int) -> Optional[PathValue]:
    if expr.id == "__file__" and not module.scopes.lookup(expr.id, expr):
        return PathValue(Path(module.path).resolve(), True)
    bindings = module.scopes.lookup(expr.id, expr)
    if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].value is None:
        return None
    return file_path(module, bindings[0].value, depth + 1)


def _call(module: "ModuleContext", call: ast.Call, depth: int) -> Optional[PathValue]:
    name = module.call_name(call)
    if call.keywords:
        return None
    if name in _PATH_CLASSES or name == "builtins.str" or (
            isinstance(call.func, ast.Name) and call.func.id == "str"
            and not module.scopes.lookup("str", call)):
        parts = [file_path(module, arg, depth + 1) for arg in call.args]
        return _joined(parts) if parts else None
    if name in _OS_IDENTITY and len(call.args) == 1:
        return file_path(module, call.args[0], depth + 1)
    if name == "os.path.dirname" and len(call.args) == 1:
        inner = file_path(module, call.args[0], depth + 1)
        return PathValue(inner.path.parent, True) if inner and inner.anchored else None
    if name == "os.path.join" and call.args:
        return _joined([file_path(module, arg, depth + 1) for arg in call.args])
    if isinstance(call.func, ast.Attribute) and call.func.attr in _IDENTITY and not call.args:
        return file_path(module, call.func.value, depth + 1)
    return None


def _joined(parts: List[Optional[PathValue]]) -> Optional[PathValue]:
    known = [part for part in parts if part is not None]
    if len(known) != len(parts) or any(part.anchored for part in known[1:]):
        return None
    first = known[0]
    path = first.path.joinpath(*(part.path for part in known[1:]))
    return PathValue(path, first.anchored)
