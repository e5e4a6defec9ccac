"""Circular imports: SBA602 for those that fail at import time, SBA603 for benign ones."""
from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Set, Tuple

from ...findings import Category, Finding, Location, Severity
from ...project.components import strong_components
from ...project.import_order import CycleFailure, Hop, Reentry, Simulation, simulate
from ...project.model import ModuleInfo, ProjectModel
from ..base import Invalid, ProjectRule, Valid


def _hops(chain: Tuple[Hop, ...]) -> Tuple[Location, ...]:
    return tuple(Location(str(hop.module.path), hop.record.line, hop.record.col,
                          f"{hop.module.name} imports {hop.target}") for hop in chain)


def _path(chain: Tuple[Hop, ...]) -> str:
    return " -> ".join([chain[0].module.name] + [hop.target for hop in chain])


class _Entries:
    """Where the simulation starts: the ASGI target, else every module that is on a cycle."""

    def __init__(self, model: ProjectModel) -> None:
        target = model.layout.target
        info = model.modules.get(target.module) if target else None
        self.target: Optional[ModuleInfo] = info if info and info.importable else None
        self.modules: List[ModuleInfo] = [self.target] if self.target else _on_cycles(model)

    def simulations(self, model: ProjectModel) -> Iterator[Simulation]:
        for module in self.modules:
            yield simulate(model, module)

    def assumption(self, simulation: Simulation) -> str:
        if self.target is not None:
            return f"Importing the ASGI target's module {self.target.name}"
        return (f"No ASGI target was found, so this assumes {simulation.entry} is imported "
                f"first")


def _on_cycles(model: ProjectModel) -> List[ModuleInfo]:
    """Importable modules that sit on a cycle of import-time project imports (Tarjan's SCC)."""
    graph: Dict[str, Set[str]] = {}
    for info in model.modules.values():
        if not info.importable or info.summary is None:
            continue
        edges = graph.setdefault(info.name, set())
        for record in info.summary.imports:
            target = info.absolute(record)
            if not (record.runs_at_import and target and target in model.modules):
                continue
            edges.add(target)
            edges.update(f"{target}.{name}" for name, _ in record.names
                         if f"{target}.{name}" in model.modules)
    return [model.modules[name] for name in sorted(_cyclic(graph))]


def _cyclic(graph: Dict[str, Set[str]]) -> Set[str]:
    return {member for component in strong_components(graph)
            if len(component) > 1 or component[0] in graph.get(component[0], ())
            for member in component}


class ImportCycleFailsAtImport(ProjectRule):
    code = "SBA602"
    name = "import-cycle-fails-at-import"
    severity = Severity.BLOCKING
    category = Category.STRUCTURE
    versions = "Any Python version."
    summary = "circular import that fails: a name is imported from a module still initializing"
    references = ("S01",)
    what = ("A cycle of module-level imports in which `from X import name` re-enters module X "
            "while X is still running, before X has bound `name`. The walk starts at the ASGI "
            "target and follows imports in the order Python runs them; imports inside functions "
            "and under `if TYPE_CHECKING:` are not edges.")
    why = ("Python hands the importer the half-built module and the name is not there yet: "
           "`ImportError: cannot import name 'engine' from partially initialized module "
           "'app.db' (most likely due to a circular import)`. uvicorn stops before serving "
           "anything.")
    how_to_fix = ("Break the cycle where it closes: move the import into the function that uses "
                  "it, import the module instead of the name (`import app.db` and use "
                  "`app.db.engine` at call time), import it under `if TYPE_CHECKING:` when only "
                  "annotations need it, or move the shared object (Base, engine, settings) to a "
                  "module that imports nothing of the project.")
    fix_safety = ("Unsafe (applied with --unsafe): the `defer-cycle-import` codemod moves the "
                  "failing names into each function whose body uses them, and under `if "
                  "TYPE_CHECKING:` with the annotation quoted (`Optional[\"Team\"]`) when only "
                  "plain function signatures or SQLModel `Relationship()` attributes use them; "
                  "it drops a name nothing reads when no other module may import it from here. "
                  "The import then runs at the first call, and other modules importing the name "
                  "from this one lose it. Names used at import (base classes, defaults, "
                  "decorators, module code, annotations pydantic or FastAPI evaluate) are left "
                  "to the user.")
    codemod = "defer-cycle-import"
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import engine

                app = FastAPI()
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")

                from app.models import Hero  # after `engine` is bound: the cycle is benign
            ''',
            "app/models.py": '''
                from sqlmodel import Field, SQLModel

                from app.db import engine

                class Hero(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            ''',
        }, note="the name is bound before the cycle re-enters the module"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import engine

                app = FastAPI()
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                from app.models import Hero

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
            "app/models.py": '''
                from typing import TYPE_CHECKING

                from sqlmodel import Field, SQLModel

                if TYPE_CHECKING:
                    from app.db import engine

                class Hero(SQLModel, table=True):
                    id: int = Field(primary_key=True)

                    @classmethod
                    def bind(cls):
                        from app.db import engine
                        return engine
            ''',
        }, note="TYPE_CHECKING and function-level imports are not edges"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import engine

                app = FastAPI()
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                from app.models import Hero

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
            "app/models.py": '''
                from sqlmodel import Field, SQLModel

                from app.db import engine  # expect: SBA602

                class Hero(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            ''',
        }, raises="ImportError: cannot import name 'engine' from partially initialized module "
                  "'app.db' (most likely due to a circular import)", run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.routers import users

                app = FastAPI()
                app.include_router(users.router)
            ''',
            "app/routers/__init__.py": "",
            "app/routers/users.py": '''
                from fastapi import APIRouter

                from app.main import app  # expect: SBA602

                router = APIRouter()
            ''',
        }, raises="ImportError: cannot import name 'app' from partially initialized module "
                  "'app.main' (most likely due to a circular import)", run="import app.main",
           note="a router importing the app from main"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        entries = _Entries(model)
        seen: Set[Tuple[str, int, str]] = set()
        for simulation in entries.simulations(model):
            for failure in simulation.failures:
                if len(failure.cycle) == 1:
                    continue  # a module importing its own name shadows a package: SBA106
                hop = failure.closing
                key = (str(hop.module.path), hop.record.line, failure.name)
                if key not in seen:
                    seen.add(key)
                    yield self._finding(failure, entries, simulation)

    def _finding(self, failure: CycleFailure, entries: _Entries,
                 simulation: Simulation) -> Finding:
        hop = failure.closing
        sure = entries.target is not None and not failure.conditional
        interrupted = failure.cycle[0]
        return self.report_in(
            hop.module, hop.record.node,
            f"circular import: {hop.module.name} imports {failure.name!r} from "
            f"{failure.partial}, which is still initializing",
            f"{entries.assumption(simulation)}: {_path(failure.chain)}. {failure.partial} stops "
            f"at line {interrupted.record.line} to import {interrupted.target}, and "
            f"{failure.name!r} is only bound after that line, so Python raises ImportError: "
            f"cannot import name {failure.name!r} from partially initialized module "
            f"{failure.partial!r}."
            + ("" if not failure.conditional else " A hop is under an `if` or `except`, so it "
               "may not run."),
            f"Move `from {failure.partial} import {failure.name}` in {hop.module.name} into the "
            f"function that uses it (or under `if TYPE_CHECKING:` if only annotations use it), "
            f"or bind {failure.name!r} in {failure.partial} before line "
            f"{interrupted.record.line}.",
            severity=Severity.BLOCKING if sure else Severity.WARNING,
            related=_hops(failure.chain), safe=False,
            data={"importer": hop.module.name, "module": failure.partial, "name": failure.name},
        )


class ImportCycleBenign(ProjectRule):
    code = "SBA603"
    name = "import-cycle-benign"
    severity = Severity.WARNING
    category = Category.STRUCTURE
    versions = "Any Python version."
    enabled_by_default = False
    summary = "circular import that works today because of statement order"
    references = ("S01",)
    what = ("A cycle of module-level imports that does not fail: the re-entered module already "
            "bound what is imported from it, or only the module object is imported.")
    why = ("It works by the order of statements alone: reordering imports (isort does) or "
           "adding a name to the `from` import can turn it into the ImportError of SBA602.")
    how_to_fix = ("Move the shared object to a module that imports nothing of the project, or "
                  "make one side import lazily (inside the function, or under "
                  "`if TYPE_CHECKING:`).")
    fix_safety = "No automatic fix: which side should give way is a design decision."
    valid = ImportCycleFailsAtImport.valid[1:] + (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api import router

                app = FastAPI()
                app.include_router(router)
            ''',
            "app/api.py": '''
                from fastapi import APIRouter

                from app.db import engine

                router = APIRouter()
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
        }, note="layers that only import downwards"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import engine

                app = FastAPI()
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                from app.models import Hero

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
            "app/models.py": '''
                from sqlmodel import Field, SQLModel

                import app.db  # expect: SBA603

                class Hero(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            ''',
        }),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import engine

                app = FastAPI()
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")

                from app.models import Hero
            ''',
            "app/models.py": '''
                from sqlmodel import Field, SQLModel

                from app.db import engine  # expect: SBA603

                class Hero(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            ''',
        }),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        entries = _Entries(model)
        failing: Set[Tuple[str, int]] = set()
        benign: Dict[Tuple[str, int], Reentry] = {}
        for simulation in entries.simulations(model):
            failing |= {(str(f.closing.module.path), f.closing.record.line)
                        for f in simulation.failures}
            for reentry in simulation.reentries:
                hop = reentry.chain[-1]
                if hop.module.name == reentry.partial:
                    continue  # a module importing its own name: SBA106's shadowing
                benign.setdefault((str(hop.module.path), hop.record.line), reentry)
        for key, reentry in sorted(benign.items()):
            if key not in failing:
                yield self._finding(reentry)

    def _finding(self, reentry: Reentry) -> Finding:
        hop = reentry.chain[-1]
        start = next(i for i, h in enumerate(reentry.chain) if h.module.name == reentry.partial)
        cycle = reentry.chain[start:]
        return self.report_in(
            hop.module, hop.record.node,
            f"circular import {_path(cycle)} works only because of statement order",
            f"{hop.module.name} re-enters {reentry.partial} while it is still initializing; "
            f"nothing it needs is missing yet.",
            "Move the shared object to a module without project imports, or import lazily on "
            "one side.",
            related=_hops(reentry.chain),
        )
