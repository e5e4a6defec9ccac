"""Imports that name something that does not exist: SBA101 (no such module) and SBA102 (no such
name in a project module)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional, Set

from ...findings import Category, Finding, Severity
from ...project.model import ModuleInfo, ProjectModel
from ...project.reach import ImportGraph, import_severity, loaded_at_boot, nearest, other_root
from ...project.resolve import MISSING, PROJECT
from ...project.summary import CONDITION_GUARD, ImportRecord
from ..base import Invalid, ProjectRule, Valid
from .shadowing import BOOT_SHADOWABLE

_FRAMEWORKS = ("fastapi", "sqlalchemy", "sqlmodel")
_DYNAMIC_NAMESPACE = ("globals()", "sys.modules", "setattr(")


def _where(severity: Severity) -> str:
    if severity is Severity.RUNTIME:
        return "when the function holding it is first called"
    if severity is Severity.WARNING:
        return "if this statement runs (it sits under an `if`, or the module is not on a boot root)"
    return "while the module is imported at boot"


def _roots(model: ProjectModel) -> str:
    return ", ".join(_shown(model, root) for root in model.layout.import_roots) or "none"


def _shown(model: ProjectModel, folder: Path) -> str:
    try:
        text = folder.relative_to(model.layout.root).as_posix()
    except ValueError:
        return str(folder)
    return "the project root" if text == "." else f"{text}/"


class _Environment:
    """Whether the project's interpreter looks like the app's environment at all."""

    def __init__(self, model: ProjectModel) -> None:
        env = model.environment
        imported = {record.module.split(".")[0] for info in model if info.summary
                    for record in info.summary.imports if not record.level}
        used = [name for name in _FRAMEWORKS if name in imported]
        self.wrong = bool(used) and all(env.importable(name) is False for name in used)
        self.used = used
        self.interpreter = f"{env.executable or 'the interpreter'} (Python {env.python or '?'})"

    def note(self) -> str:
        if not self.wrong:
            return ""
        return (f" The interpreter looks like the wrong environment: the project imports "
                f"{', '.join(self.used)}, and none of them is installed in {self.interpreter}; "
                "set `python` under [tool.flake8-stability] or activate the app's virtualenv.")


class ModuleNotFound(ProjectRule):
    code = "SBA101"
    name = "module-not-found"
    severity = Severity.BLOCKING
    category = Category.IMPORTS
    versions = "Any Python version."
    summary = "import of a module that exists neither in the project nor in the environment"
    references = ("E01", "I08")
    what = ("An import whose module cannot be found at boot: a project-internal dotted name "
            "with a missing part (`from app.servces.users import x` where the project has "
            "`app.services`), or a third-party top-level name that is neither a project module, "
            "nor in the standard library, nor installed in the project's interpreter. Imports "
            "under `if TYPE_CHECKING:` or inside `try/except ImportError` are skipped, and so "
            "are third-party imports under another `if` (version or platform fallbacks); "
            "imports inside functions are `runtime`. When the interpreter lacks the framework "
            "the project imports, third-party misses are only warnings.")
    why = ("Python raises `ModuleNotFoundError: No module named 'app.servces'` while importing "
           "the module, and uvicorn reports `Error loading ASGI app. Could not import module` "
           "or the traceback, and serves nothing.")
    how_to_fix = ("Correct the dotted path to the module that exists (the message suggests the "
                  "nearest one), create the missing module, or install (and declare) the "
                  "distribution that provides a third-party name.")
    fix_safety = "Safe when the suggested module is the intended one; check the suggestion."
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.services.users import router

                app = FastAPI()
                app.include_router(router)
            ''',
            "app/services/__init__.py": "",
            "app/services/users.py": '''
                from fastapi import APIRouter

                router = APIRouter()
            ''',
        }, note="every part of the dotted path exists"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import TYPE_CHECKING

                from fastapi import FastAPI

                try:
                    import orjson
                except ImportError:
                    orjson = None

                if TYPE_CHECKING:
                    from app.typing_helpers import Payload

                app = FastAPI()
            ''',
        }, note="optional and type-checking-only imports are guarded"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.servces.users import router  # expect: SBA101

                app = FastAPI()
                app.include_router(router)
            ''',
            "app/services/__init__.py": "",
            "app/services/users.py": '''
                from fastapi import APIRouter

                router = APIRouter()
            ''',
        }, raises="ModuleNotFoundError: No module named 'app.servces'", run="import app.main",
           note="a typo in a project package"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                import fastapi_pagination_missing  # expect: SBA101

                app = FastAPI()
            ''',
        }, raises="ModuleNotFoundError: No module named 'fastapi_pagination_missing'",
           run="import app.main", note="a third-party package that is not installed"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        boot = loaded_at_boot(model)
        environment = _Environment(model)
        names = {part for module in model.modules for part in module.split(".")}
        for info in model:
            for record in info.summary.imports if info.summary else ():
                severity = import_severity(info, record, boot)
                target = info.absolute(record)
                if severity is None or target is None:
                    continue
                finding = (self._internal(model, info, record, target, severity)
                           or self._external(model, info, record, target, severity, names,
                                             environment))
                if finding is not None:
                    yield finding

    def _internal(self, model: ProjectModel, info: ModuleInfo, record: ImportRecord,
                  target: str, severity: Severity) -> Optional[Finding]:
        parts = target.split(".")
        if model.resolve(parts[0]).kind != PROJECT or _shadows(model, parts[0]):
            return None
        missing = next((".".join(parts[:depth]) for depth in range(2, len(parts) + 1)
                        if model.resolve(".".join(parts[:depth])).kind != PROJECT), None)
        if missing is None:
            return None
        suggestion = nearest(missing, [name for name in model.modules
                                       if model.modules[name].importable])
        fix = (f"Did you mean `{suggestion}`? Change `{missing}` to `{suggestion}` in the "
               f"import." if suggestion else
               f"Create the module {missing} or import from the module that defines what you "
               f"need.")
        parent = missing.rpartition(".")[0]
        return self.report_in(
            info, record.node,
            f"no module named {missing!r} (importing {target})",
            f"{parent} is a project package, but it has no module or subpackage "
            f"{missing.rpartition('.')[2]!r} on the boot import roots ({_roots(model)}), so "
            f"Python raises ModuleNotFoundError: No module named {missing!r} "
            f"{_where(severity)}.",
            fix, severity=severity)

    def _external(self, model: ProjectModel, info: ModuleInfo, record: ImportRecord,
                  target: str, severity: Severity, names: Set[str],
                  environment: _Environment) -> Optional[Finding]:
        top = target.split(".")[0]
        if record.level or record.guard == CONDITION_GUARD or top in names:
            return None  # under an `if`: typically a version or platform fallback
        if model.resolve(top).kind != MISSING or model.environment.has(top):
            return None  # a distribution of that name is installed: its files are not readable
        if other_root(model, target) or _beside(info, top):
            return None  # a project folder off the boot roots: SBA104's case, or a script's
        if environment.wrong:
            severity = Severity.WARNING
        return self.report_in(
            info, record.node,
            f"no module named {top!r}: not a project module, not stdlib, not installed",
            f"{top!r} is not a module of the project, not in the standard library and not "
            f"importable in the project's interpreter {environment.interpreter}, so Python "
            f"raises ModuleNotFoundError: No module named {top!r} {_where(severity)}."
            + environment.note(),
            f"Install the distribution that provides `{top}` into the app's environment and "
            f"declare it in the project's dependencies, or correct the module name.",
            severity=severity)


def _shadows(model: ProjectModel, top: str) -> bool:
    """A local module hiding a stdlib or framework module: SBA106 tells that story."""
    return top in model.environment.stdlib or top in BOOT_SHADOWABLE


def _beside(info: ModuleInfo, top: str) -> bool:
    """A module next to the importing file (found when that file is run as a script)."""
    folder = info.path.parent
    return (folder / f"{top}.py").is_file() or (folder / top).is_dir()


class NameNotInModule(ProjectRule):
    code = "SBA102"
    name = "name-not-in-module"
    severity = Severity.BLOCKING
    category = Category.IMPORTS
    versions = "Any Python version."
    summary = "`from project.module import name` where the module does not define the name"
    references = ("I07",)
    what = ("A from-import from one of the project's own modules that does not bind the name "
            "at top level when it runs: not defined, assigned, imported or re-exported there, "
            "and not a submodule. Names bound only under `if TYPE_CHECKING:` do not exist at "
            "run time and count as missing. Modules with a star import, a module-level "
            "`__getattr__`, or that write their namespace dynamically are skipped, and so are "
            "modules on an import cycle with the importer (SBA602 explains those).")
    why = ("Python raises `ImportError: cannot import name 'database' from 'app.db' "
           "(/app/app/db.py)` while importing the module, typically after a refactor renamed "
           "the object or when a tutorial's module layout was copied.")
    how_to_fix = ("Import the name the module really defines (the message suggests the closest "
                  "one), or define or re-export it in the module.")
    fix_safety = "Safe when the suggested name is the same object under its new name."
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app import routers
                from app.db import engine, get_session

                app = FastAPI()
                app.include_router(routers.router)
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
                from sqlmodel.ext.asyncio.session import AsyncSession

                engine = create_async_engine("sqlite+aiosqlite://")
                SessionLocal = async_sessionmaker(engine, class_=AsyncSession,
                                                  expire_on_commit=False)


                async def get_session():
                    async with SessionLocal() as session:
                        yield session
            ''',
            "app/routers.py": '''
                from fastapi import APIRouter

                router = APIRouter()
            ''',
        }, note="names defined in the module, and a submodule imported from its package"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.models import Hero, Team

                app = FastAPI()
            ''',
            "app/models/__init__.py": '''
                from app.models.hero import Hero
                from app.models.team import *  # noqa: F403
            ''',
            "app/models/hero.py": '''
                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            ''',
            "app/models/team.py": '''
                from sqlmodel import Field, SQLModel

                class Team(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            ''',
        }, note="re-exports, including through a star import"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import database  # expect: SBA102

                app = FastAPI()
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
        }, raises="ImportError: cannot import name 'database' from 'app.db'",
           run="import app.main", note="a name from a tutorial that this project calls engine"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.deps import SessionDep  # expect: SBA102

                app = FastAPI()
            ''',
            "app/deps.py": '''
                from typing import TYPE_CHECKING, Annotated

                from fastapi import Depends

                if TYPE_CHECKING:
                    from sqlmodel.ext.asyncio.session import AsyncSession

                    SessionDep = Annotated[AsyncSession, Depends()]
            ''',
        }, raises="ImportError: cannot import name 'SessionDep' from 'app.deps'",
           run="import app.main", note="bound only for the type checker"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        boot = loaded_at_boot(model)
        graph = ImportGraph(model)
        for info in model:
            for record in info.summary.imports if info.summary else ():
                severity = import_severity(info, record, boot)
                source = info.absolute(record)
                if severity is None or source is None or not record.is_from:
                    continue
                module = model.project_module(source)
                if module is None or not _static_namespace(module):
                    continue
                if _shadows(model, source.split(".")[0]):
                    continue
                if graph.cycle(info.name, module.name):
                    continue
                for name, _ in record.names:
                    if _missing(model, module, source, name):
                        yield self._finding(info, record, module, source, name, severity)

    def _finding(self, info: ModuleInfo, record: ImportRecord, module: ModuleInfo,
                 source: str, name: str, severity: Severity) -> Finding:
        assert module.summary is not None
        summary = module.summary
        typing_only = name in summary.typing_only
        defined = [bound for bound in summary.bindings if bound not in summary.typing_only]
        suggestion = None if typing_only else nearest(name, defined)
        cause = (f"{source} binds {name!r} only under `if TYPE_CHECKING:`, which is False at "
                 f"run time" if typing_only else
                 f"{source} ({module.path.name}) neither defines, assigns, imports nor "
                 f"re-exports {name!r}, and it has no submodule of that name")
        fix = (f"Did you mean `{suggestion}`? Import `{suggestion}` from {source}, or define "
               f"{name!r} there." if suggestion else
               f"Define or re-export {name!r} in {source}"
               + (" outside `if TYPE_CHECKING:`" if typing_only else "")
               + ", or import it from the module that defines it.")
        return self.report_in(
            info, record.node,
            f"cannot import name {name!r} from {source}",
            f"{cause}, so Python raises ImportError: cannot import name {name!r} from "
            f"{source!r} ({module.path}) {_where(severity)}.",
            fix, severity=severity)


def _static_namespace(module: ModuleInfo) -> bool:
    """Whether the module's top-level names can be read from its code."""
    summary = module.summary
    if summary is None or summary.star_imports or summary.binds("__getattr__"):
        return False
    return not any(word in module.source.text for word in _DYNAMIC_NAMESPACE)


def _missing(model: ProjectModel, module: ModuleInfo, source: str, name: str) -> bool:
    summary = module.summary
    assert summary is not None
    if name == "*" or name in (summary.all_names or ()):
        return False
    if summary.binds(name) and name not in summary.typing_only:
        return False
    return model.resolve(f"{source}.{name}").kind != PROJECT
