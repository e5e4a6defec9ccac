"""Under which names each project file is imported while the app boots. Python keys
`sys.modules` by name, so a file reached as both `src.models` and `models` (two import roots
hold it, or a module adds a folder to `sys.path`) runs twice. The walk follows module-level
imports depth first from the entry module, as Python does; imports under `if TYPE_CHECKING:`,
inside functions, in a `try:` that catches ImportError or under another condition are not
followed. Folders that reached modules add to `sys.path` are import roots too."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from .model import ModuleInfo, ProjectModel
from .resolve import PROJECT, ModuleResolver
from .summary import ImportRecord
from .sys_path import path_additions
from .tables import module_contexts

_MAX_MODULES = 2000


@dataclass(frozen=True)
class Arrival:
    """`file` is imported as `name`, by `record` in `importer` (None for the entry module)."""

    name: str
    path: Path
    importer: Optional[ModuleInfo]
    record: Optional[ImportRecord]


class _Walk:
    def __init__(self, model: ProjectModel, resolver: ModuleResolver) -> None:
        self.model = model
        self.resolver = resolver
        self.done: Set[str] = set()
        self.arrivals: Dict[Path, List[Arrival]] = {}

    def load(self, name: str, importer: Optional[ModuleInfo],
             record: Optional[ImportRecord]) -> None:
        """`import name`: its parent packages first, then its body, each once per name."""
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            current = ".".join(parts[:depth])
            if current in self.done or len(self.done) > _MAX_MODULES:
                continue
            self.done.add(current)
            found = self.resolver.resolve(current)
            info = self.model.module_at(found.path) if found.path is not None else None
            if info is None:
                continue
            path = info.path.resolve()
            self.arrivals.setdefault(path, []).append(Arrival(current, path, importer, record))
            self._body(current, info)

    def _body(self, name: str, info: ModuleInfo) -> None:
        if info.summary is None:
            return
        package = name if info.is_package else name.rpartition(".")[0]
        for record in info.summary.imports:
            if record.runs_at_import and record.guard is None:
                self._follow(info, record, package)

    def _follow(self, info: ModuleInfo, record: ImportRecord, package: str) -> None:
        target = record.absolute(package)
        if target is None or self.resolver.resolve(target).kind != PROJECT:
            return
        self.load(target, info, record)
        for name, _ in record.names:
            submodule = f"{target}.{name}"
            found = self.resolver.resolve(submodule)
            if name != "*" and found.path is not None and found.module == submodule:
                self.load(submodule, info, record)


def boot_arrivals(model: ProjectModel, entry: str) -> Dict[Path, List[Arrival]]:
    """Each project file imported when `entry` is imported -> the names it is imported under,
    in the order Python imports them."""
    roots = tuple(dict.fromkeys(root.resolve() for root in model.layout.import_roots))
    walk = _Walk(model, model.resolver)
    for _ in range(3):  # added folders can reach modules that add more
        walk.load(entry, None, None)
        extended = _extended(model, walk.arrivals, roots)
        if extended == roots:
            break
        roots = extended
        walk = _Walk(model, ModuleResolver(roots, model.environment))
    return walk.arrivals


def _extended(model: ProjectModel, arrivals: Dict[Path, List[Arrival]],
              roots: Tuple[Path, ...]) -> Tuple[Path, ...]:
    """`roots` with the folders the reached modules put on `sys.path`."""
    contexts = module_contexts(model)
    first: List[Path] = []
    last: List[Path] = []
    for path in sorted(arrivals):
        info = model.module_at(path)
        module = contexts.get(info.name) if info is not None else None
        if module is not None and module.mentions(("sys.path",)):
            added = path_additions(module, path, model.layout.working_dir)
            first += added[0]
            last += added[1]
    ordered = [*reversed(first), *roots, *last]
    return tuple(dict.fromkeys(root.resolve() for root in ordered))
