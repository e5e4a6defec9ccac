"""What an import statement means at boot: how bad its failure is (where it runs and what
guards it), the name a file is imported as from the boot roots, the project folders an
absolute name would resolve from instead, which modules import each other at import time, and
the nearest existing name to suggest."""
from __future__ import annotations

import ast
import difflib
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Optional, Set

from ..analysis.import_guards import catches_import_error
from ..findings import Severity
from .components import strong_components
from .import_order import simulate
from .model import ModuleInfo, ProjectModel
from .resolve import PROJECT
from .summary import CONDITION_GUARD, TRY_GUARD, TYPE_CHECKING_GUARD, ImportRecord


def import_severity(info: ModuleInfo, record: ImportRecord,
                    boot: Optional[FrozenSet[str]]) -> Optional[Severity]:
    """How bad it is when `record` fails: blocking at module level of a module the app imports
    while booting (`boot`, from `loaded_at_boot`), runtime inside a function, warning under an
    `if`, in a module not loaded at boot, or when the boot is unknown (no ASGI target); None
    when the failure is handled (`if TYPE_CHECKING:`, `try/except ImportError`)."""
    if record.guard in (TYPE_CHECKING_GUARD, TRY_GUARD):
        return None
    if record.deferred:
        return None if _caught(info, record.node) else Severity.RUNTIME
    if record.guard == CONDITION_GUARD or not info.importable:
        return Severity.WARNING
    return Severity.BLOCKING if boot is not None and info.name in boot else Severity.WARNING


@lru_cache(maxsize=8)
def loaded_at_boot(model: ProjectModel) -> Optional[FrozenSet[str]]:
    """The project modules Python imports while booting the ASGI target, in the order of the
    import simulation; None when there is no target to start from."""
    target = model.layout.target
    entry = model.modules.get(target.module) if target else None
    if entry is None or not entry.importable:
        return None
    return frozenset(simulate(model, entry).order)


def _caught(info: ModuleInfo, node: ast.stmt) -> bool:
    """Whether `node` sits in the body of a `try` whose handlers catch ImportError."""
    return info.tree is not None and id(node) in _guarded_by_try(info.tree)


@lru_cache(maxsize=256)
def _guarded_by_try(tree: ast.Module) -> FrozenSet[int]:
    """Ids of the import statements inside `try` bodies that catch ImportError (one walk)."""
    found: Set[int] = set()
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Try) and catches_import_error(statement.handlers):
            found.update(id(inner) for part in statement.body for inner in ast.walk(part)
                         if isinstance(inner, (ast.Import, ast.ImportFrom)))
    return frozenset(found)


def boot_name(model: ProjectModel, path: Path) -> Optional[str]:
    """The dotted name `path` is imported as from the boot roots (None: not importable)."""
    return model.layout.boot_name(path)


def other_root(model: ProjectModel, name: str) -> Optional[Path]:
    """A project folder that is not a boot root and from which the module `name` exists: the
    project root, folders above a boot root, and the source roots."""
    layout = model.layout
    candidates = [layout.root, *layout.source_roots]
    for import_root in layout.import_roots:
        candidates += [parent for parent in import_root.parents
                       if parent == layout.root or layout.root in parent.parents]
    for folder in dict.fromkeys(candidates):
        if folder not in layout.import_roots and _exists_under(folder, name):
            return folder
    return None


def _exists_under(folder: Path, name: str) -> bool:
    """A module, package, or folder of Python files (a namespace package) named `name`."""
    base = folder.joinpath(*name.split("."))
    try:
        return (base.parent / f"{base.name}.py").is_file() or (
            base.is_dir() and any(base.glob("*.py")))
    except (OSError, ValueError):
        return False


def nearest(name: str, candidates: Iterable[str]) -> Optional[str]:
    """The existing name closest to a misspelt one, if one is close enough."""
    found = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return found[0] if found else None


class ImportGraph:
    """Which project modules import which at import time (module-level, not TYPE_CHECKING)."""

    def __init__(self, model: ProjectModel) -> None:
        self.edges: Dict[str, Set[str]] = {}
        for info in model.modules.values():
            if info.summary is None:
                continue
            edges = self.edges.setdefault(info.name, set())
            for record in info.summary.imports:
                target = info.absolute(record)
                if record.runs_at_import and target and model.resolve(target).kind == PROJECT:
                    edges.add(target)
                    edges.update(f"{target}.{name}" for name, _ in record.names)

    @cached_property
    def _component(self) -> Dict[str, int]:
        """The strongly connected component of each module: two modules reach each other
        exactly when they share one (computed once, not one graph walk per question)."""
        return {member: number for number, members in enumerate(strong_components(self.edges))
                for member in members}

    def cycle(self, first: str, second: str) -> bool:
        """Whether the two modules import each other, directly or through others."""
        component = self._component.get(first)
        return first == second or (component is not None
                                   and component == self._component.get(second))
