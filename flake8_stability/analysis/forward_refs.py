"""Forward references of pydantic / SQLModel schema classes that the module cannot resolve at
run time: names in string annotations (all annotations under `from __future__ import
annotations`) that the module binds only under `if TYPE_CHECKING:` or nowhere. Pydantic looks
them up in the module's namespace when the model is completed, so such a model stays "not
fully defined". String values of `Literal[...]` and `Annotated[...]` metadata are no names."""
from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, List, Optional, Set

from .import_guards import is_type_checking
from .models import PYDANTIC, SQLMODEL, ModelClass, parse_string_annotation, subscript_elements

if TYPE_CHECKING:
    from ..context import ModuleContext

_BUILTINS = frozenset(dir(builtins))
_MAX_DEPTH = 20


@dataclass(frozen=True)
class UnresolvedRef:
    model: ModelClass
    attribute: str
    name: str  # the name pydantic cannot find
    annotation: ast.expr  # the field's annotation, in the file


def runtime_names(module: "ModuleContext") -> Optional[Set[str]]:
    """Names the module binds at top level outside `if TYPE_CHECKING:`; None when any name may
    exist (a star import, a module `__getattr__`, writes to `globals()`)."""
    names: Set[str] = set()
    for stmt in _runtime_statements(module.tree.body):
        if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            return None
        names.update(_bound(stmt))
    if "__getattr__" in names or "globals" in _called_names(module):
        return None
    return names


def unresolved_refs(module: "ModuleContext") -> Iterator[UnresolvedRef]:
    """The fields of the module's top-level schema classes naming what the module lacks."""
    top = {stmt for stmt in module.tree.body if isinstance(stmt, ast.ClassDef)}
    schemas = [model for model in module.models.models
               if model.node in top and model.kind in (PYDANTIC, SQLMODEL)]
    known = runtime_names(module) if schemas else None
    if known is None:
        return
    for model in schemas:
        for field in module.models.own_fields(model.node):
            if field.annotation is None or module.models.is_relationship(field.value) \
                    or module.models.is_classvar(field.annotation, field.stmt):
                continue
            missing = _missing(field.annotation, module.models.future_annotations, known)
            if missing:
                yield UnresolvedRef(model, field.name, missing[0], field.annotation)


def _missing(annotation: ast.expr, future: bool, known: Set[str]) -> List[str]:
    names: List[str] = []
    _collect(annotation, future, names, 0)
    return [name for name in names if name not in known and name not in _BUILTINS]


def _collect(node: ast.expr, in_string: bool, names: List[str], depth: int) -> None:
    """Names that a later evaluation of the annotation looks up (only inside strings unless
    the whole annotation is deferred)."""
    if depth > _MAX_DEPTH:
        return
    parsed = parse_string_annotation(node)
    if parsed is not None:
        _collect(parsed, True, names, depth + 1)
    elif isinstance(node, ast.Name):
        if in_string:
            names.append(node.id)
    elif isinstance(node, ast.Attribute):
        _collect(node.value, in_string, names, depth + 1)
    elif isinstance(node, ast.Subscript):
        _collect(node.value, in_string, names, depth + 1)
        head = _head(node.value)
        elements = subscript_elements(node)
        if head == "Literal":
            return
        for element in elements[:1] if head == "Annotated" else elements:
            _collect(element, in_string, names, depth + 1)
    elif isinstance(node, (ast.BinOp, ast.Tuple, ast.List)):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                _collect(child, in_string, names, depth + 1)


def _head(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    return expr.attr if isinstance(expr, ast.Attribute) else None


def _runtime_statements(body: List[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            if not is_type_checking(stmt.test):
                yield from _runtime_statements(stmt.body)
            yield from _runtime_statements(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody,
                          *[handler.body for handler in stmt.handlers]):
                yield from _runtime_statements(block)
        elif isinstance(stmt, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            yield from _runtime_statements(stmt.body)


def _bound(stmt: ast.stmt) -> Iterator[str]:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            yield (alias.asname or alias.name).split(".")[0]
    elif isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        yield stmt.name
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    yield node.id
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            if item.optional_vars is not None:
                yield from (n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name))


def _called_names(module: "ModuleContext") -> Set[str]:
    return {call.func.id for call in module.calls if isinstance(call.func, ast.Name)}
