"""Under which names each project file is imported while the app boots. Python keys
`sys.modules` by name, so a file reached as both `src.models` and `models` (two import roots
hold it) runs twice. The walk follows module-level imports depth first from the entry module,
as Python does; imports under `if TYPE_CHECKING:`, inside functions, in a `try:` that catches
ImportError or under another condition are not followed."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set

from .model import ModuleInfo, ProjectModel
from .resolve import PROJECT
from .summary import ImportRecord

_MAX_MODULES = 2000


@dataclass(frozen=True)
class Arrival:
    """`file` is imported as `name`, by `record` in `importer` (None for the entry module)."""

    name: str
    path: Path
    importer: Optional[ModuleInfo]
    record: Optional[ImportRecord]


class _Walk:
    def __init__(self, model: ProjectModel) -> None:
        self.model = model
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
            found = self.model.resolve(current)
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
        if target is None or self.model.resolve(target).kind != PROJECT:
            return
        self.load(target, info, record)
        for name, _ in record.names:
            submodule = f"{target}.{name}"
            found = self.model.resolve(submodule)
            if name != "*" and found.path is not None and found.module == submodule:
                self.load(submodule, info, record)


def boot_arrivals(model: ProjectModel, entry: str) -> Dict[Path, List[Arrival]]:
    """Each project file imported when `entry` is imported -> the names it is imported under,
    in the order Python imports them."""
    walk = _Walk(model)
    walk.load(entry, None, None)
    return walk.arrivals
