"""Folders a module adds to `sys.path` while it is imported: top-level `sys.path.insert(0, p)`
and `sys.path.append(p)` where `p` can be computed without running anything: a string literal
(relative to the working dir), `__file__` through `os.path.dirname/abspath/realpath/join`,
`pathlib.Path(...)`, `.parent`, `.resolve()`, `/` and `str()`."""
from __future__ import annotations

import ast
import os.path
from pathlib import Path
from typing import List, Optional, Tuple

from ..context import ModuleContext

_SAME = frozenset({"os.path.abspath", "os.path.realpath", "os.path.normpath", "builtins.str",
                   "pathlib.Path", "os.fspath"})
_METHODS_SAME = frozenset({"resolve", "absolute"})


def path_additions(module: ModuleContext, file: Path,
                   working_dir: Path) -> Tuple[List[Path], List[Path]]:
    """(folders inserted first, folders appended) by the module's top-level statements."""
    first: List[Path] = []
    last: List[Path] = []
    for stmt in module.tree.body:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            continue
        call = stmt.value
        name = module.call_name(call)
        if name == "sys.path.insert" and len(call.args) == 2:
            folder = _folder(module, call.args[1], file, working_dir)
            if folder is not None:
                (first if _is_zero(call.args[0]) else last).append(folder)
        elif name == "sys.path.append" and len(call.args) == 1:
            folder = _folder(module, call.args[0], file, working_dir)
            if folder is not None:
                last.append(folder)
    return first, last


def _is_zero(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value == 0


def _folder(module: ModuleContext, expr: ast.expr, file: Path,
            working_dir: Path) -> Optional[Path]:
    value = _value(module, expr, file, 0)
    if value is None:
        return None
    folder = Path(os.path.normpath(str(working_dir / value)))
    return folder if folder.is_dir() else None


def _value(module: ModuleContext, expr: ast.expr, file: Path, depth: int) -> Optional[str]:
    """The path `expr` evaluates to (relative paths stay relative); None when unknown."""
    if depth > 12:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Name) and expr.id == "__file__":
        return str(file)
    if isinstance(expr, ast.Attribute) and expr.attr == "parent":
        inner = _value(module, expr.value, file, depth + 1)
        return os.path.dirname(inner) if inner is not None else None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
        return _joined(module, [expr.left, expr.right], file, depth)
    if isinstance(expr, ast.Call):
        return _call_value(module, expr, file, depth)
    return None


def _call_value(module: ModuleContext, call: ast.Call, file: Path,
                depth: int) -> Optional[str]:
    if call.keywords:
        return None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _METHODS_SAME and not call.args:
        return _value(module, func.value, file, depth + 1)
    name = module.call_name(call)
    if name is None and isinstance(func, ast.Name) and func.id == "str" \
            and not module.scopes.lookup("str", call):
        name = "builtins.str"
    if name in _SAME and len(call.args) == 1:
        return _value(module, call.args[0], file, depth + 1)
    if name == "os.path.dirname" and len(call.args) == 1:
        inner = _value(module, call.args[0], file, depth + 1)
        return os.path.dirname(inner) if inner is not None else None
    if name in ("os.path.join", "pathlib.Path") and call.args:
        return _joined(module, call.args, file, depth)
    return None


def _joined(module: ModuleContext, parts: List[ast.expr], file: Path,
            depth: int) -> Optional[str]:
    values = [_value(module, part, file, depth + 1) for part in parts]
    if any(value is None for value in values):
        return None
    return os.path.join(*values)  # type: ignore[arg-type]
