"""Where each relationship of a module's table models points: the class named by SQLModel's
`Relationship()` annotation (`list["Team"]`, `Optional["Team"]`), by SQLAlchemy's
`relationship("Team")` or its `Mapped[list["Team"]]` annotation, and the `back_populates`
attribute it expects on that class. Only plain class names are collected (a dotted
`"app.models.Team"` or a lambda target is left out)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional, Tuple

from ..knowledge import names as N
from .models import DECLARATIVE, SQLMODEL, ModelClass, subscript_elements

if TYPE_CHECKING:
    from ..context import ModuleContext

# Containers whose single element is the related class.
_CONTAINERS = frozenset({"list", "List", "set", "Set", "Sequence", "frozenset", "FrozenSet",
                         "Mapped", "WriteOnlyMapped", "DynamicMapped"})
_MAX_DEPTH = 10


@dataclass(frozen=True)
class RelationshipTarget:
    owner: ModelClass
    attribute: str
    target: str  # the class name the relationship points at
    node: ast.expr  # where that name is written
    back_populates: Optional[Tuple[str, ast.expr]]  # the expected attribute and where


def relationship_targets(module: "ModuleContext") -> Iterator[RelationshipTarget]:
    """The relationship targets of the module's table models, in source order."""
    index = module.models
    for model in index.tables(SQLMODEL) + index.tables(DECLARATIVE):
        for stmt in model.node.body:
            found = _target(module, model, stmt)
            if found is not None:
                yield found


def _target(module: "ModuleContext", model: ModelClass,
            stmt: ast.stmt) -> Optional[RelationshipTarget]:
    attribute, annotation, value = _parts(stmt)
    if attribute is None or not isinstance(value, ast.Call):
        return None
    call = module.call_name(value)
    if call == N.SQLMODEL_RELATIONSHIP and model.kind == SQLMODEL:
        if any(kw.arg in (None, "sa_relationship") for kw in value.keywords):
            return None
        named = _annotated_class(module, annotation, stmt) if annotation is not None else None
    elif call == N.SA_RELATIONSHIP:
        if any(kw.arg is None for kw in value.keywords):
            return None
        named = _argument_class(value) if value.args else (
            _annotated_class(module, annotation, stmt) if annotation is not None else None)
    else:
        return None
    if named is None:
        return None
    return RelationshipTarget(model, attribute, named[0], named[1], _back_populates(value))


def _parts(stmt: ast.stmt) -> Tuple[Optional[str], Optional[ast.expr], Optional[ast.expr]]:
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.annotation, stmt.value
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, None, stmt.value
    return None, None, None


def _argument_class(call: ast.Call) -> Optional[Tuple[str, ast.expr]]:
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str) \
            and first.value.isidentifier():
        return first.value, first
    return None


def _annotated_class(module: "ModuleContext", annotation: ast.expr,
                     at: ast.AST) -> Optional[Tuple[str, ast.expr]]:
    """The class an annotation names through quotes, Optional, and list/Mapped containers."""
    current: Optional[ast.expr] = annotation
    for _ in range(_MAX_DEPTH):
        if current is None:
            return None
        current, _metadata = module.models.unwrap(current, at)
        if isinstance(current, ast.Name):
            return current.id, annotation
        if not isinstance(current, ast.Subscript) or _head(current.value) not in _CONTAINERS:
            return None
        elements = subscript_elements(current)
        if len(elements) != 1:
            return None
        current = elements[0]
    return None


def _head(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    return expr.attr if isinstance(expr, ast.Attribute) else None


def _back_populates(call: ast.Call) -> Optional[Tuple[str, ast.expr]]:
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg == "back_populates" and isinstance(value, ast.Constant) \
                and isinstance(value.value, str):
            return value.value, value
    return None
