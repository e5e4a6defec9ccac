"""The relationship attributes a module's own model classes declare, with the loader strategy
(`lazy=`) each one gets: `Relationship(...)` (SQLModel, `table=True` classes) and SQLAlchemy's
`relationship(...)`, including `sa_relationship_kwargs` and `sa_relationship`."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Optional

from ..knowledge import names as N
from .models import SQLMODEL, ModelField

if TYPE_CHECKING:
    from ..context import ModuleContext

DEFAULT_LAZY = "select"
# `lazy=True/False/None` are the old spellings of these strategies.
_LAZY_CONSTANTS = {True: "select", False: "joined", None: "noload"}
# Annotations that choose the strategy themselves.
_STRATEGY_ANNOTATIONS = {"WriteOnlyMapped": "write_only", "DynamicMapped": "dynamic"}


@dataclass(frozen=True)
class RelationshipDecl:
    owner: ast.ClassDef
    attribute: str
    stmt: ast.stmt
    sqlmodel: bool  # declared with SQLModel's Relationship()
    lazy: Optional[str]  # the loader strategy; None when it cannot be told

    @property
    def loads_lazily(self) -> bool:
        return self.lazy == DEFAULT_LAZY


Declarations = Dict[ast.ClassDef, Dict[str, RelationshipDecl]]


def module_relationships(module: "ModuleContext") -> Declarations:
    """Relationship attributes of the module's top-level classes, by class and attribute
    (SQLModel's `Relationship()` only counts in table models, as SQLModel ignores it elsewhere)."""
    index = module.models
    found: Declarations = {}
    for cls in module.tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        model = index.model(cls)
        sqlmodel_table = model is not None and model.kind == SQLMODEL and model.table
        for field in index.own_fields(cls):
            decl = _declaration(module, field, sqlmodel_table)
            if decl is not None:
                found.setdefault(cls, {})[decl.attribute] = decl
    return found


def _declaration(module: "ModuleContext", field: ModelField,
                 sqlmodel_table: bool) -> Optional[RelationshipDecl]:
    value = field.value
    if not isinstance(value, ast.Call):
        return None
    name = module.call_name(value)
    if name == N.SQLMODEL_RELATIONSHIP:
        if not sqlmodel_table:
            return None
        lazy = _sqlmodel_lazy(module, value)
    elif name == N.SA_RELATIONSHIP:
        lazy = _relationship_lazy(module, value)
    else:
        return None
    strategy = _annotation_strategy(field.annotation)
    return RelationshipDecl(field.owner, field.name, field.stmt,
                            name == N.SQLMODEL_RELATIONSHIP, strategy or lazy)


def _relationship_lazy(module: "ModuleContext", call: ast.Call) -> Optional[str]:
    """`relationship(..., lazy=...)`; the default strategy is "select"."""
    if any(kw.arg is None for kw in call.keywords):
        return None
    lazy = next((kw.value for kw in call.keywords if kw.arg == "lazy"), None)
    return DEFAULT_LAZY if lazy is None else _strategy(module, lazy)


def _sqlmodel_lazy(module: "ModuleContext", call: ast.Call) -> Optional[str]:
    keywords = {kw.arg: kw.value for kw in call.keywords}
    if None in keywords:
        return None
    if "sa_relationship" in keywords:
        inner = keywords["sa_relationship"]
        if isinstance(inner, ast.Call) and module.call_name(inner) == N.SA_RELATIONSHIP:
            return _relationship_lazy(module, inner)
        return None
    if "sa_relationship_kwargs" not in keywords:
        return DEFAULT_LAZY
    options = _literal_keywords(module, keywords["sa_relationship_kwargs"])
    if options is None:
        return None
    return DEFAULT_LAZY if "lazy" not in options else _strategy(module, options["lazy"])


def _literal_keywords(module: "ModuleContext", expr: ast.expr) -> Optional[Dict[str, ast.expr]]:
    """`{"lazy": "selectin"}` or `dict(lazy="selectin")` -> its items; None when not literal."""
    if isinstance(expr, ast.Dict):
        items: Dict[str, ast.expr] = {}
        for key, value in zip(expr.keys, expr.values):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return None
            items[key.value] = value
        return items
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "dict" \
            and not expr.args and not module.scopes.lookup("dict", expr.func):
        if any(kw.arg is None for kw in expr.keywords):
            return None
        return {kw.arg: kw.value for kw in expr.keywords if kw.arg is not None}
    return None


def _strategy(module: "ModuleContext", expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Constant) and (isinstance(expr.value, bool) or expr.value is None):
        return _LAZY_CONSTANTS[expr.value]
    value = module.values.string(expr)
    return value.text if value is not None and value.complete else None


def _annotation_strategy(annotation: Optional[ast.expr]) -> Optional[str]:
    """`WriteOnlyMapped[...]` / `DynamicMapped[...]` pick their strategy."""
    if not isinstance(annotation, ast.Subscript):
        return None
    head = annotation.value
    if isinstance(head, ast.Attribute):
        return _STRATEGY_ANNOTATIONS.get(head.attr)
    return _STRATEGY_ANNOTATIONS.get(head.id) if isinstance(head, ast.Name) else None
