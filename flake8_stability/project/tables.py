"""The project's model classes across files: which modules define mapped tables (SQLModel
`table=True` classes and declarative classes, read with the per-file model analysis), every
class name the project defines, and which modules some import loads at run time."""
from __future__ import annotations

from functools import lru_cache
from typing import Dict, FrozenSet, List, Set

from ..analysis.models import DECLARATIVE, SQLMODEL, ModelClass
from ..context import ModuleContext
from .model import ModuleInfo, ProjectModel
from .summary import TYPE_CHECKING_GUARD, ImportRecord

_HINTS = ("sqlmodel", "sqlalchemy", "Base")


@lru_cache(maxsize=8)
def module_contexts(model: ProjectModel) -> Dict[str, ModuleContext]:
    """Every importable, parsed module -> its per-file analysis context (analyses are built
    on first use)."""
    return {info.name: model.context(info)
            for info in model.modules.values() if info.tree is not None and info.importable}


@lru_cache(maxsize=8)
def table_modules(model: ProjectModel) -> Dict[str, List[ModelClass]]:
    """Module name -> the table models it defines, for the modules defining any."""
    found: Dict[str, List[ModelClass]] = {}
    for name, module in module_contexts(model).items():
        if not _mentions_models(model.modules[name]):
            continue
        tables = module.models.tables(SQLMODEL) + module.models.tables(DECLARATIVE)
        if tables:
            found[name] = tables
    return found


@lru_cache(maxsize=8)
def class_names(model: ProjectModel) -> FrozenSet[str]:
    """The name of every class statement anywhere in the project."""
    return frozenset(node.name for info in model if info.tree is not None
                     and "class " in info.source.text
                     for node in model.context(info).scopes.classes)


@lru_cache(maxsize=8)
def imported_at_run_time(model: ProjectModel) -> FrozenSet[str]:
    """Project modules some import outside `if TYPE_CHECKING:` loads (at import or later),
    with `*` for packages star-imported from."""
    found: Set[str] = set()
    for info in model:
        if info.summary is None:
            continue
        for record in info.summary.imports:
            if record.guard != TYPE_CHECKING_GUARD:
                found |= loaded_modules(model, info, record)
                if any(name == "*" for name, _ in record.names):
                    found.add(f"{info.absolute(record)}.*")
    return frozenset(found)


def _mentions_models(info: ModuleInfo) -> bool:
    text = info.source.text or ""
    return "class " in text and any(hint in text for hint in _HINTS)


def loaded_modules(model: ProjectModel, info: ModuleInfo, record: ImportRecord) -> Set[str]:
    """The project modules (by name) that `record` in `info` loads: the imported module and
    its parent packages and, for `from package import name`, `package.name` when that is a
    module."""
    target = info.absolute(record)
    if target is None:
        return set()
    parts = target.split(".")
    loaded = {".".join(parts[:depth]) for depth in range(1, len(parts) + 1)}
    loaded |= {f"{target}.{name}" for name, _ in record.names}
    return {name for name in loaded if name in model.modules}
