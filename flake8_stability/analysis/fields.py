"""Which settings field an expression reads (`settings.database_url`, `get_settings().db_url`)
and the types its annotation allows, through `Optional`, `Union`, `Annotated`, `X | None`,
string annotations and the module's own type aliases. Unknown stays None."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, FrozenSet, List, Optional

from .models import parse_string_annotation

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 8
_WRAPPERS = frozenset({"Optional", "Annotated", "Union"})


@dataclass(frozen=True)
class SettingsField:
    cls: ast.ClassDef
    attr: str
    annotation: ast.expr
    access: ast.Attribute  # the expression that reads the field


def settings_field(module: "ModuleContext", expr: ast.expr,
                   depth: int = 0) -> Optional[SettingsField]:
    """The field of a settings class (BaseSettings subclass of this module) `expr` reads,
    directly or through a name assigned once."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Name):
        bindings = module.scopes.lookup(expr.id, expr)
        if len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].value is not None:
            return settings_field(module, bindings[0].value, depth + 1)
        return None
    if not isinstance(expr, ast.Attribute):
        return None
    cls = module.values.instance_class(expr.value)
    if cls is None or not module.values.is_settings_class(cls):
        return None
    annotation = module.values.field_annotation(cls, expr.attr)
    return SettingsField(cls, expr.attr, annotation, expr) if annotation is not None else None


def allowed_types(module: "ModuleContext", annotation: ast.expr,
                  depth: int = 0) -> Optional[FrozenSet[str]]:
    """Canonical names of the types an annotation allows besides None; None if any is unknown."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(annotation, ast.Constant):
        return _string_annotation(module, annotation, depth)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _union(module, [annotation.left, annotation.right], depth)
    if isinstance(annotation, ast.Subscript) and _head(annotation.value) in _WRAPPERS:
        inner = annotation.slice
        members = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        if _head(annotation.value) == "Annotated":
            members = members[:1]
        return _union(module, list(members), depth)
    name = module.qualname(annotation)
    if name is not None:
        return frozenset({name})
    if isinstance(annotation, ast.Name):
        return _alias(module, annotation, depth)
    return None


def _union(module: "ModuleContext", members: List[ast.expr],
           depth: int) -> Optional[FrozenSet[str]]:
    found: FrozenSet[str] = frozenset()
    for member in members:
        if isinstance(member, ast.Constant) and member.value is None:
            continue
        names = allowed_types(module, member, depth + 1)
        if names is None:
            return None
        found |= names
    return found


def _string_annotation(module: "ModuleContext", annotation: ast.Constant,
                       depth: int) -> Optional[FrozenSet[str]]:
    if annotation.value is None:
        return frozenset()
    parsed = parse_string_annotation(annotation)
    return allowed_types(module, parsed, depth + 1) if parsed is not None else None


def _alias(module: "ModuleContext", name: ast.Name, depth: int) -> Optional[FrozenSet[str]]:
    """`DatabaseDsn = Annotated[PostgresDsn, ...]` defined once in the module."""
    bindings = module.scopes.lookup(name.id, name)
    if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].value is None:
        return None
    return allowed_types(module, bindings[0].value, depth + 1)


def _head(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return expr.id if isinstance(expr, ast.Name) else None
