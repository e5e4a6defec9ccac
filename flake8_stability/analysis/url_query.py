"""The query options a database URL surely carries, also when only parts of the URL are known:
`f"postgresql+asyncpg://{user}:{password}@{host}/{db}?sslmode=require"` has `sslmode`."""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, List, Optional

from .urls import DatabaseURL

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 8
_UNKNOWN = "\x00"
Piece = Optional[str]  # known literal text, or None for an unknown part


def query_options(module: "ModuleContext", url: DatabaseURL,
                  expr: Optional[ast.expr]) -> Dict[str, Optional[str]]:
    """Option name -> value (None when the value is not known) of every option surely in the
    URL's query string."""
    known = url.query()
    if known is not None:
        return dict(known)
    pieces = _pieces(module, expr, 0) if expr is not None else [None]
    text = "".join(_UNKNOWN if piece is None else piece for piece in pieces)
    if "?" not in text:
        return {}
    return _options(text.split("?", 1)[1])


def _options(query: str) -> Dict[str, Optional[str]]:
    found: Dict[str, Optional[str]] = {}
    segments = query.split(_UNKNOWN)
    for index, segment in enumerate(segments):
        parts = segment.split("&")
        last = len(parts) - 1
        for position, part in enumerate(parts):
            if (index > 0 and position == 0) or "=" not in part:
                continue  # it continues an unknown part, or its name may go on
            name, value = part.split("=", 1)
            truncated = position == last and index < len(segments) - 1
            found[name] = None if truncated else value
    return found


def _pieces(module: "ModuleContext", expr: ast.expr, depth: int) -> List[Piece]:
    if depth > _MAX_DEPTH:
        return [None]
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.JoinedStr):
        return [_fstring_piece(module, part) for part in expr.values]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _pieces(module, expr.left, depth + 1) + _pieces(module, expr.right, depth + 1)
    if isinstance(expr, ast.Name):
        bindings = module.scopes.lookup(expr.id, expr)
        if len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].value is not None:
            return _pieces(module, bindings[0].value, depth + 1)
    return [None]


def _fstring_piece(module: "ModuleContext", part: ast.expr) -> Piece:
    if isinstance(part, ast.Constant) and isinstance(part.value, str):
        return part.value
    if isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
        value = module.values.string(part.value)
        return value.text if value is not None and value.complete else None
    return None
