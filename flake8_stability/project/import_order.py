"""Simulate Python importing the project from an entry module, statement by statement.

Python runs a module's body top to bottom. When an import re-enters a module that is still
running (a cycle), the importer gets the half-built module: `import x` succeeds, but
`from x import name` fails unless `name` was bound above the line where `x` was interrupted:
"ImportError: cannot import name 'name' from partially initialized module 'x' (most likely due
to a circular import)". This walk predicts exactly that, with the chain of imports leading
there. Only imports that run at import time count: never those inside functions or under
`if TYPE_CHECKING:`. Nothing is executed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from .model import ModuleInfo, ProjectModel
from .resolve import PROJECT
from .summary import CONDITION_GUARD, TRY_GUARD, ImportRecord

_RUNNING = "running"
_DONE = "done"


@dataclass(frozen=True)
class Hop:
    """`module` imports `target` at `line` (one edge of a chain)."""

    module: ModuleInfo
    record: ImportRecord
    target: str


@dataclass(frozen=True)
class CycleFailure:
    """`from <partial> import <name>` that fails, and the imports that lead there."""

    chain: Tuple[Hop, ...]  # from the entry to the failing import (the last hop)
    partial: str  # the partially initialized module
    name: str
    conditional: bool  # a hop sits under an `if` or in an `except` block: may not run

    @property
    def closing(self) -> Hop:
        return self.chain[-1]

    @property
    def cycle(self) -> Tuple[Hop, ...]:
        """The hops from where `partial` was interrupted to the failing import."""
        start = next(i for i, hop in enumerate(self.chain) if hop.module.name == self.partial)
        return self.chain[start:]


@dataclass(frozen=True)
class Reentry:
    """A cycle that does not fail: an import re-entered a running module and found what it
    needed (or needed nothing)."""

    chain: Tuple[Hop, ...]
    partial: str


@dataclass
class Simulation:
    entry: str
    failures: List[CycleFailure] = field(default_factory=list)
    reentries: List[Reentry] = field(default_factory=list)
    order: List[str] = field(default_factory=list)  # modules in the order their bodies finish


class _Walker:
    def __init__(self, model: ProjectModel) -> None:
        self.model = model
        self.state: Dict[str, str] = {}
        self.position: Dict[str, int] = {}  # running module -> line it is executing
        self.bound: Dict[str, Set[str]] = {}  # submodules bound onto their package so far
        self.result = Simulation("")

    def run(self, entry: ModuleInfo) -> Simulation:
        self.result = Simulation(entry.name)
        self._import(entry.name, ())
        return self.result

    # -- importing ---------------------------------------------------------------------------
    def _import(self, name: str, chain: Tuple[Hop, ...]) -> None:
        """`import name`: parents first, then the module's body (once)."""
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            current = ".".join(parts[:depth])
            module = self._module(current)
            if module is None:
                return
            if current not in self.state:
                self._execute(module, chain)
                if depth > 1:
                    self.bound.setdefault(".".join(parts[:depth - 1]), set()).add(parts[depth - 1])

    def _module(self, name: str) -> Optional[ModuleInfo]:
        info = self.model.modules.get(name)
        if info is not None and info.importable and info.summary is not None:
            return info
        return None

    def _execute(self, module: ModuleInfo, chain: Tuple[Hop, ...]) -> None:
        self.state[module.name] = _RUNNING
        assert module.summary is not None
        for record in module.summary.imports:
            if not record.runs_at_import or record.guard == TRY_GUARD:
                continue
            self.position[module.name] = record.line
            self._follow(module, record, chain)
        self.state[module.name] = _DONE
        self.position.pop(module.name, None)
        self.result.order.append(module.name)

    def _follow(self, module: ModuleInfo, record: ImportRecord, chain: Tuple[Hop, ...]) -> None:
        target = module.absolute(record)
        if target is None or self.model.resolve(target).kind != PROJECT:
            return
        hop_chain = chain + (Hop(module, record, target),)
        if self.state.get(target) == _RUNNING and not self._submodules_only(target, record):
            self.result.reentries.append(Reentry(hop_chain, target))
        self._import(target, hop_chain)
        if not record.is_from:
            return
        for name, _ in record.names:
            self._from_import(target, name, hop_chain)

    def _submodules_only(self, package: str, record: ImportRecord) -> bool:
        """`from package import a, b` naming only submodules: Python imports them whatever the
        running package has bound so far, so re-entering it depends on no statement order."""
        return record.is_from and all(self._module(f"{package}.{name}") is not None
                                      for name, _ in record.names)

    def _from_import(self, package: str, name: str, chain: Tuple[Hop, ...]) -> None:
        """`from package import name`: a submodule is imported; else the name must be bound."""
        if name == "*":
            return
        submodule = f"{package}.{name}"
        if self._module(submodule) is not None:
            if self.state.get(submodule) == _RUNNING:
                self.result.reentries.append(Reentry(chain, submodule))
            self._import(submodule, chain)
            return
        if self.state.get(package) != _RUNNING or self._bound(package, name):
            return
        conditional = any(hop.record.guard == CONDITION_GUARD for hop in chain)
        self.result.failures.append(CycleFailure(chain, package, name, conditional))

    def _bound(self, package: str, name: str) -> bool:
        """Whether the running module `package` has bound `name` above where it stopped."""
        module = self._module(package)
        if module is None or module.summary is None:
            return True
        summary = module.summary
        if summary.star_imports or summary.binds("__getattr__"):
            return True
        if name in self.bound.get(package, ()):
            return True
        line = summary.bindings.get(name)
        return line is not None and line < self.position.get(package, 0)


def simulate(model: ProjectModel, entry: ModuleInfo) -> Simulation:
    """Import `entry` as Python would at boot and record what fails and what cycles."""
    return _Walker(model).run(entry)
