"""The import graph of the project's own modules, for the report: every import of one project
module by another with its line and kind (at import, deferred into a function, or only for type
checkers), and the edges of the import cycles that fail at boot (from the import-order
simulation of SBA602)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from ..project.import_order import simulate
from ..project.model import ProjectModel
from ..project.resolve import PROJECT
from ..project.summary import TYPE_CHECKING_GUARD

AT_IMPORT = "import"
DEFERRED = "deferred"
TYPING = "typing"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    kind: str  # AT_IMPORT, DEFERRED or TYPING
    fatal: bool = False  # closes or belongs to a cycle that fails at boot


@dataclass
class ImportGraph:
    entry: Optional[str]  # the target module, where boot starts
    modules: Dict[str, str] = field(default_factory=dict)  # name -> path relative to the root
    edges: List[Edge] = field(default_factory=list)

    def children(self, name: str) -> List[Edge]:
        return [edge for edge in self.edges if edge.source == name and edge.kind == AT_IMPORT]

    def to_dict(self) -> Dict[str, Any]:
        return {"entry": self.entry, "modules": dict(self.modules),
                "edges": [{"from": e.source, "to": e.target, "line": e.line, "kind": e.kind,
                           "fatal": e.fatal} for e in self.edges]}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "ImportGraph":
        edges = [Edge(e["from"], e["to"], e["line"], e["kind"], e["fatal"])
                 for e in data["edges"]]
        return cls(data["entry"], dict(data["modules"]), edges)


def import_graph(model: ProjectModel) -> ImportGraph:
    target = model.layout.target
    entry = model.modules.get(target.module) if target else None
    fatal = _fatal_edges(model, entry.name) if entry is not None else set()
    graph = ImportGraph(entry.name if entry is not None else None)
    for info in sorted(model.modules.values(), key=lambda info: info.name):
        graph.modules[info.name] = _relative(model, info.path)
        if info.summary is None:
            continue
        seen: Set[Tuple[str, str]] = set()
        for record in info.summary.imports:
            base = info.absolute(record)
            if base is None or model.resolve(base).kind != PROJECT:
                continue
            targets = [f"{base}.{name}" for name, _ in record.names
                       if f"{base}.{name}" in model.modules] or [base]
            kind = (TYPING if record.guard == TYPE_CHECKING_GUARD else
                    DEFERRED if record.deferred else AT_IMPORT)
            for name in targets:
                if name == info.name or (name, kind) in seen or name not in model.modules:
                    continue
                seen.add((name, kind))
                graph.edges.append(Edge(info.name, name, record.line, kind,
                                        (info.name, name) in fatal))
    return graph


def _fatal_edges(model: ProjectModel, entry: str) -> Set[Tuple[str, str]]:
    edges: Set[Tuple[str, str]] = set()
    for failure in simulate(model, model.modules[entry]).failures:
        for hop in failure.cycle:
            edges.add((hop.module.name, hop.target))
    return edges


def _relative(model: ProjectModel, path: Any) -> str:
    try:
        return path.relative_to(model.layout.root).as_posix()
    except ValueError:
        return str(path)
