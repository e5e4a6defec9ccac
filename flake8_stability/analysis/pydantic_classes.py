"""The pydantic model classes of a module (pydantic `BaseModel`, settings and SQLModel classes,
through the module's own bases or one project base imported from another module), with what
the pydantic-2 checks need: settings or SQLModel, ClassVar names of in-file bases, the
`model_config` value, and where the project calls a class method of a model by name."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, FrozenSet, Iterable, List, Optional, Set

from . import models as M

if TYPE_CHECKING:
    from ..context import ModuleContext


@dataclass(frozen=True)
class PydanticClass:
    node: ast.ClassDef
    sqlmodel: bool
    settings: bool
    complete: bool  # every base understood: nothing hidden (ClassVars) in an unknown base
    class_vars: FrozenSet[str]  # names annotated ClassVar in the class or its in-file bases
    inherited_fields: FrozenSet[str]  # fields (annotated, not ClassVar) of its in-file bases
    model_config: Optional[ast.expr]  # a non-empty `model_config = ...` of the class body


def pydantic_classes(module: "ModuleContext") -> List[PydanticClass]:
    found = []
    for cls in module.scopes.classes:
        model = module.models.model(cls)
        if model is not None and model.kind in (M.PYDANTIC, M.SQLMODEL):
            found.append(_describe(module, cls, model.kind == M.SQLMODEL, model.complete,
                                   (cls, *model.ancestors)))
        elif model is None:
            kind = _imported_base_kind(module, cls)
            if kind is not None:
                found.append(_describe(module, cls, kind == M.SQLMODEL, False, (cls,)))
    return found


def uses_class_method(module: "ModuleContext", class_name: str, methods: Iterable[str]) -> str:
    """`Class.method()` at path:line for the first call of one of `methods` on the class name,
    in this module or any module of the project; "" when there is none."""
    wanted = frozenset(methods)
    found = _method_call(module, class_name, wanted)
    if found is not None:
        return f"{class_name}.{found.func.attr}() at line {found.lineno}"  # type: ignore
    model = module.project.model
    needles = tuple(f"{class_name}.{method}(" for method in wanted)
    for info in model:
        text = info.source.text or ""
        if info.tree is None or not any(needle in text for needle in needles) \
                or module.is_file(str(info.path)):
            continue
        call = _method_call(model.context(info), class_name, wanted)
        if call is not None:
            where = _relative(info.path, model.layout.root)
            return f"{class_name}.{call.func.attr}() at {where}:{call.lineno}"  # type: ignore
    return ""


def _method_call(module: "ModuleContext", class_name: str,
                 methods: FrozenSet[str]) -> Optional[ast.Call]:
    for call in module.calls:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in methods \
                and isinstance(func.value, ast.Name) and func.value.id == class_name:
            return call
    return None


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _describe(module: "ModuleContext", cls: ast.ClassDef, sqlmodel: bool, complete: bool,
              chain: Iterable[ast.ClassDef]) -> PydanticClass:
    class_vars: Set[str] = set()
    inherited: Set[str] = set()
    for klass in chain:
        for field in module.models.own_fields(klass):
            if module.models.is_classvar(field.annotation, klass):
                class_vars.add(field.name)
            elif field.annotation is not None and klass is not cls:
                inherited.add(field.name)
    return PydanticClass(cls, sqlmodel, module.values.is_settings_class(cls), complete,
                         frozenset(class_vars), frozenset(inherited), _model_config(module, cls))


def _model_config(module: "ModuleContext", cls: ast.ClassDef) -> Optional[ast.expr]:
    """The class body's `model_config` value unless it is visibly empty (`ConfigDict()`, `{}`)."""
    for field in module.models.own_fields(cls):
        if field.name != "model_config" or field.value is None:
            continue
        value = field.value
        if isinstance(value, ast.Call) and not value.args and not value.keywords:
            return None
        if isinstance(value, ast.Dict) and not value.keys:
            return None
        return value
    return None


def _imported_base_kind(module: "ModuleContext", cls: ast.ClassDef) -> Optional[str]:
    """PYDANTIC / SQLMODEL when a base is a project model class imported from another module."""
    for base in cls.bases:
        if not isinstance(base, ast.Name):
            continue
        dotted = module.qualname(base)
        if dotted is None or "." not in dotted:
            continue
        owner, _, name = dotted.rpartition(".")
        info = module.project.model.project_module(owner)
        if info is None or info.tree is None or module.is_file(str(info.path)):
            continue
        context = module.project.model.context(info)
        for node in info.tree.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                model = context.models.model(node)
                if model is not None and model.kind in (M.PYDANTIC, M.SQLMODEL):
                    return model.kind
    return None
