"""What the project declares does not fit together, does not match what is installed, or is
left open across a known break: SBA201, SBA202, SBA210."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from packaging.version import Version

from ...dependencies.declared import DeclaredDependencies
from ...dependencies.installed import import_names
from ...dependencies.ranges import (BLOCKING, RUNTIME, Declaration, RangeConflict, candidates,
                                    declarations, declared_conflicts, python_version)
from ...findings import Category, Finding, Location, Severity
from ...project.model import ProjectModel
from ...project.package_imports import ImportSite, milder, package_sites
from ..base import Invalid, ProjectRule, Valid
from ..imports.declared import project_declared
from .stack import CONFLICTING_STACK, interpreter


def _pyproject(*dependencies: str) -> str:
    listed = ", ".join(f'"{d}"' for d in dependencies)
    return f'[project]\nname = "shop"\ndependencies = [{listed}]\n'


def sites_of(model: ProjectModel, names: Sequence[str]) -> Tuple[str, List[ImportSite]]:
    """The first of `names` the project imports, with its import sites (most severe first);
    the first name and no sites when it imports none."""
    for name in names:
        sites = package_sites(model, _tops(model, name))
        if sites:
            return name, sites
    return names[0], []


def _tops(model: ProjectModel, name: str) -> Tuple[str, ...]:
    env = model.environment
    return import_names(env, name) if env.has(name) else (name.replace("-", "_"),)


def declares(name: str) -> str:
    """The note of a related location that is the requirement line declaring `name` (for the
    reader: the requirement-file fixes find their line by the fix data and the location)."""
    return f"declares {name}"


def requirement_locations(declaration: Declaration, note: str) -> Tuple[Location, ...]:
    found = [Location(str(r.path), r.line, 0, note) for r in declaration.requirements]
    if declaration.locked is not None:
        found.append(Location(str(declaration.locked.path), declaration.locked.line, 0,
                              f"{note} (locked)"))
    return tuple(found)


def sync_command(declared: DeclaredDependencies, declaration: Declaration) -> str:
    """How to re-create the environment from the declaration it came from."""
    sources = {r.source for r in declaration.requirements}
    if declaration.locked is not None:
        return "uv sync" if declaration.locked.source == "uv.lock" else "poetry install"
    if "poetry" in sources:
        return "poetry install"
    files = sorted({r.path.name for r in declaration.requirements if r.source == "requirements"})
    if files:
        return " && ".join(f"pip install -r {name}" for name in files)
    if any(path.name == "uv.lock" for path in declared.files):
        return "uv sync"
    return "pip install -e ."


class DeclaredVersionsIncompatible(ProjectRule):
    code = "SBA201"
    name = "declared-versions-incompatible"
    severity = Severity.BLOCKING
    category = Category.DEPENDENCIES
    versions = ("Declared ranges of two stack packages that the shipped table (each release's own "
                "requirements) lets no pair satisfy: e.g. fastapi < 0.100 with pydantic >= 2, "
                "sqlmodel < 0.0.14 with pydantic >= 2, sqlmodel 0.0.8 with SQLAlchemy 2.")
    summary = "declared versions of the stack that cannot be installed or imported together"
    references = ("D01", "D02", "D03", "D07", "D13")
    what = ("Two stack packages (fastapi, starlette, pydantic, pydantic-settings, sqlmodel, "
            "SQLAlchemy, uvicorn) whose declared ranges (the app's main dependencies and "
            "constraints, markers evaluated for the project's interpreter; a lock file's pin "
            "when there is one) allow no pair of released versions that work together, judged "
            "with the shipped stack table: each release's own requirements on the other package "
            "and the combinations the table records as failing at import. A declaration whose "
            "versions the table does not know is left alone. In flake8 the finding is shown on "
            "the project's first import of the package that breaks (else of the other one) "
            "with both requirement lines related; a project that imports neither gets no flake8 "
            "finding (the audit shows it on the requirement line).")
    why = ("Installing the declaration fails (pip 26.3): `ERROR: Cannot install fastapi==0.99.1 "
           "and pydantic==2.5.3 because these package versions have conflicting dependencies.` "
           "(`fastapi 0.99.1 depends on pydantic!=1.8, !=1.8.1, <2.0.0 and >=1.7.4`, then "
           "`ERROR: ResolutionImpossible`), so the deployment never gets an environment; when the pair is forced in anyway (`--no-deps`, a "
           "hand-edited lock) the app dies at import: `ImportError: cannot import name "
           "'Undefined' from 'pydantic.fields'` (fastapi 0.99.1 with pydantic 2.5.3), "
           "`pydantic.errors.PydanticImportError: `pydantic.errors:ConfigError` has been "
           "removed in V2.` (sqlmodel 0.0.8 with pydantic 2), `ImportError: cannot import name "
           "'ThreadLocalMetaData' from 'sqlalchemy.schema'` (sqlmodel 0.0.8 with SQLAlchemy "
           "2.0.25).")
    how_to_fix = ("Move one of the two declarations to the range the message names as working "
                  "(e.g. `sqlmodel>=0.0.14` for pydantic 2, `fastapi>=0.100` for pydantic 2), "
                  "never pin starlette apart from fastapi, then re-lock and re-install.")
    fix_safety = ("Unsafe: moving pydantic or SQLAlchemy across a major version can require code "
                  "changes (see SBA211 and SBA315). No mechanical fix: which of the two ranges "
                  "moves is a decision about the code, so stability-fix leaves the requirement "
                  "lines alone.")
    valid = (
        Valid({
            "requirements.txt": "fastapi>=0.115,<1\nsqlmodel>=0.0.24,<0.1\npydantic>=2.7,<3\n"
                                "pydantic-settings>=2.3\n",
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import Optional

                from fastapi import FastAPI
                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    name: str

                app = FastAPI()
            ''',
        }),
        Valid({
            "pyproject.toml": '''
                [project]
                name = "shop"
                requires-python = ">=3.11"
                dependencies = ["fastapi>=0.100", "pydantic>=2.5", "sqlalchemy[asyncio]>=2.0,<2.2"]

                [project.optional-dependencies]
                legacy = ["pydantic<2"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite:///./app.db")
                app = FastAPI()
            ''',
        }, note="an optional extra is not installed with the app"),
    )
    invalid = (
        Invalid({
            "pyproject.toml": _pyproject(),
            "requirements.txt": "fastapi==0.99.1\npydantic==2.5.3\nsqlalchemy>=1.4,<2.1\n",
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI  # expect: SBA201

                app = FastAPI()
            ''',
        }, raises="ImportError: cannot import name 'Undefined' from 'pydantic.fields'",
           run="import app.main", installed=CONFLICTING_STACK,
           note="the proof imports the app on an interpreter where both pins were forced in"),
        Invalid({
            "pyproject.toml": _pyproject("sqlmodel==0.0.8", "sqlalchemy>=2.0,<2.1",
                                         "fastapi>=0.95"),
            "app/__init__.py": "",
            "app/db.py": '''
                from sqlmodel import Session, create_engine  # expect: SBA201

                engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import engine

                app = FastAPI()
            ''',
        }, raises="ImportError: cannot import name 'ThreadLocalMetaData' from 'sqlalchemy.schema'",
           run="import app.db", installed=CONFLICTING_STACK),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        env = model.environment
        declared = project_declared(model)
        for conflict in declared_conflicts(declared, env.markers, python_version(env.python)):
            finding = self._report(model, declared, conflict)
            if finding is not None:
                yield finding

    def _report(self, model: ProjectModel, declared: DeclaredDependencies,
                conflict: RangeConflict) -> Optional[Finding]:
        dist, sites = sites_of(model, conflict.packages)
        if not sites:
            return None
        first, second = conflict.first, conflict.second
        severity = {BLOCKING: Severity.BLOCKING, RUNTIME: Severity.RUNTIME}.get(
            conflict.severity, Severity.WARNING)
        where = " that runs at boot" if sites[0].severity is Severity.BLOCKING else ""
        alternatives = "; ".join(conflict.alternatives) or "versions that fit together"
        return self.report_in(
            sites[0].info, sites[0].record.node,
            f"declared {first.name} and {second.name} cannot work together: {conflict.text()}",
            f"No release of {first.name} that {first.spec_text} allows works with a release of "
            f"{second.name} that {second.spec_text} allows, by {_judged_by(conflict)}. "
            f"This is the project's first import of {dist}{where}.",
            f"Declare one of: {alternatives}; then re-lock and re-install "
            f"(`{sync_command(declared, first)}`).",
            severity=milder(severity, sites[0].severity),
            related=(requirement_locations(first, declares(first.name))
                     + requirement_locations(second, declares(second.name))),
        )


def _judged_by(conflict: RangeConflict) -> str:
    """What decides a conflict, for root causes."""
    recorded = conflict.recorded() or tuple(o.text for o in conflict.objections)
    if not any(o.requirement for o in conflict.objections):
        return "the shipped stack table: " + "; ".join(recorded)
    said = ("the releases' own requirements (shipped stack table), so installing the declared "
            "dependencies fails (pip: ResolutionImpossible)")
    if conflict.recorded():
        said += "; when the pair is forced in anyway, " + "; ".join(conflict.recorded())
    return said


@dataclass(frozen=True)
class _Break:
    """A release of a core package after which code written for older releases breaks. With
    `other`, the break is that the release moves `other` across its own break, which reaches
    the project only when it does not declare `other` (else the installer keeps both apart
    through the release's requirements)."""

    version: Version
    text: str
    row: str  # the stack table entry recording it
    other: Optional[str] = None

    def matters(self, declared: Dict[str, Declaration]) -> bool:
        """Whether the break reaches a project declaring `declared`."""
        return self.other is None or self.other not in declared

    def between(self, one: Version, other: Version) -> bool:
        return min(one, other) < self.version <= max(one, other)


# Breaking releases of the core packages the stack table records (its incompatibility ids).
BREAKS = {
    "pydantic": (
        _Break(Version("2.0"), "Pydantic 2.0 removed the v1 API (`orm_mode`, `@validator`, "
               "`BaseSettings` moved to pydantic-settings), and sqlmodel < 0.0.14 and "
               "fastapi < 0.100 fail to import on it", "sqlmodel-lt-0.0.14-pydantic-v2"),),
    "sqlalchemy": (
        _Break(Version("2.0"), "SQLAlchemy 2.0 removed the 1.x API (`engine.execute()`, "
               "`select([...])`, implicit autocommit), and sqlmodel < 0.0.12 fails to import "
               "on it", "sqlmodel-lt-0.0.12-sqlalchemy-2"),),
    "fastapi": (
        _Break(Version("0.100.0"), "FastAPI 0.100.0 accepts Pydantic 2, so an undeclared "
               "pydantic moves to 2.x with it", "fastapi-lt-0.100-pydantic-v2", "pydantic"),),
    "starlette": (
        _Break(Version("1.0"), "Starlette 1.0 removed `on_startup`/`on_shutdown` and "
               "`on_event`", "starlette-1-removed-event-api"),),
    "sqlmodel": (
        _Break(Version("0.0.12"), "sqlmodel 0.0.12 requires SQLAlchemy 2.0, so an undeclared "
               "SQLAlchemy moves to 2.x with it", "sqlmodel-ge-0.0.12-sqlalchemy-1.4",
               "sqlalchemy"),
        _Break(Version("0.0.14"), "sqlmodel 0.0.14 accepts Pydantic 2, so an undeclared "
               "pydantic moves to 2.x with it", "sqlmodel-lt-0.0.14-pydantic-v2", "pydantic"),
    ),
    "pydantic-settings": (),
}
_BOUNDING = frozenset({"<", "<=", "==", "===", "~="})
_FLOORS = frozenset({">", ">=", "==", "===", "~="})


def upper_bounded(declaration: Declaration) -> bool:
    """Whether the declaration caps the version (a lock pin counts)."""
    return declaration.locked is not None or any(
        spec.operator in _BOUNDING for spec in declaration.specifier)


def lower_bounded(declaration: Declaration) -> bool:
    """Whether the declaration names a lowest version (what the code was written for)."""
    return any(spec.operator in _FLOORS for spec in declaration.specifier)


def unbounded_breaks(declared: Dict[str, Declaration]
                     ) -> Iterator[Tuple[Declaration, Version, List[_Break]]]:
    """Each core package declared with a lowest version and no upper bound (SBA210): its
    declaration, the lowest version it allows, and the recorded breaks after that one."""
    for name in sorted(set(declared) & set(BREAKS)):
        declaration = declared[name]
        if upper_bounded(declaration) or not lower_bounded(declaration) or not any(
                not r.constraint for r in declaration.requirements):
            continue
        found = candidates(declaration)
        if found is None:
            continue
        lowest = min(c.version for c in found)
        crossed = [b for b in BREAKS[name] if lowest < b.version and b.matters(declared)]
        if crossed:
            yield declaration, lowest, crossed


class CoreStackUnbounded(ProjectRule):
    code = "SBA210"
    name = "core-stack-unbounded"
    severity = Severity.WARNING
    category = Category.DEPENDENCIES
    versions = ("Lower bounds below a recorded breaking release: pydantic 2.0, SQLAlchemy 2.0, "
                "Starlette 1.0; FastAPI 0.100 and sqlmodel 0.0.14 when pydantic is not declared, "
                "sqlmodel 0.0.12 when SQLAlchemy is not.")
    summary = "a core stack package declared without an upper bound across a known break"
    references = ("D05",)
    what = ("fastapi, pydantic, SQLAlchemy, sqlmodel, starlette or pydantic-settings declared "
            "among the main dependencies without an upper bound (no `<`, `<=`, `==`, `~=`) "
            "while the shipped stack table records a breaking release after the lowest version "
            "the declaration allows: Pydantic 2.0, SQLAlchemy 2.0 and Starlette 1.0 (their own "
            "API); FastAPI 0.100 and sqlmodel 0.0.14 when pydantic is not declared, sqlmodel "
            "0.0.12 when SQLAlchemy is not declared (they let the undeclared package jump its "
            "major). None is recorded for pydantic-settings. Only declarations with a lowest "
            "version are judged (a bare name says nothing about what the code was written "
            "for). Silent when a lock file pins the package. Shown on the "
            "project's first import of the package; without one, no flake8 finding.")
    why = ("A fresh install resolves the newest release: `sqlalchemy>=1.4` installs 2.x and "
           "1.x code fails at the first query with `AttributeError: 'Engine' object has no "
           "attribute 'execute'`; `pydantic>=1.10` installs 2.x and `from pydantic import "
           "BaseSettings` fails with `pydantic.errors.PydanticImportError: `BaseSettings` has "
           "been moved to the `pydantic-settings` package.` The same deployment that worked "
           "yesterday breaks without a code change.")
    how_to_fix = ("Cap the range below the break the code is not ready for (`sqlalchemy>=1.4,<2`"
                  ", `pydantic>=1.10,<2`), or commit a lock file (uv.lock, poetry.lock) and "
                  "install from it.")
    codemod = "cap-core-stack"
    fix_safety = ("Safe: a cap only stops an upgrade the code has not been checked against. The "
                  "`cap-core-stack` fix adds `,<BREAK` to the one requirement line (below the "
                  "first recorded break), and only when the installed version is below it: when "
                  "it is not, the code may already rely on the newer major, so it is left to "
                  "you.")
    valid = (
        Valid({
            "requirements.txt": "fastapi>=0.115,<0.166\nsqlalchemy[asyncio]>=2.0,<2.2\n"
                                "pydantic~=2.7\n",
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic import BaseModel
                from sqlalchemy import create_engine

                engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

                class Item(BaseModel):
                    name: str

                app = FastAPI()
            ''',
        }),
        Valid({
            "pyproject.toml": '''
                [project]
                name = "shop"
                dependencies = ["fastapi>=0.126", "sqlmodel>=0.0.31", "pydantic>=2.7"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from sqlmodel import SQLModel

                app = FastAPI()
            ''',
        }, note="open ranges that start after every recorded break"),
    )
    invalid = (
        Invalid({
            "requirements.txt": "fastapi>=0.115,<0.166\nsqlalchemy>=1.4\n",
            "app/__init__.py": "",
            "app/main.py": '''
                import sqlalchemy as sa  # expect: SBA210
                from fastapi import FastAPI

                engine = sa.create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
                app = FastAPI()
            ''',
        }),
        Invalid({
            "pyproject.toml": _pyproject("fastapi>=0.95", "uvicorn>=0.20"),
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI  # expect: SBA210

                app = FastAPI()
            ''',
        }, note="pydantic is not declared: a fresh install brings FastAPI 0.165 and Pydantic 2"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        declared = declarations(project_declared(model), model.environment.markers)
        for declaration, lowest, crossed in unbounded_breaks(declared):
            _, sites = sites_of(model, (declaration.name,))
            if sites:
                yield self._report(declaration, lowest, crossed, sites[0])

    def _report(self, declaration: Declaration, lowest: Version, crossed: List[_Break],
                site: ImportSite) -> Finding:
        name = declaration.name
        releases = " and ".join(str(b.version) for b in crossed)
        return self.report_in(
            site.info, site.record.node,
            f"{declaration.spec_text} has no upper bound: it allows {name} {lowest} and "
            f"also {releases}",
            f"{declaration.shown()}. A fresh install takes the newest release, across: "
            + "; ".join(f"{b.text} (stack table: {b.row})" for b in crossed)
            + ". No lock file pins it.",
            f"Cap it below the first break the code is not ready for, e.g. "
            f"`{name}{declaration.specifier},<{crossed[0].version}`, or install from a lock "
            f"file.",
            related=requirement_locations(declaration, declares(name)),
            data={"requirement": name},
        )


class InstalledOutsideDeclaredRange(ProjectRule):
    code = "SBA202"
    name = "installed-outside-declared-range"
    severity = Severity.BLOCKING
    category = Category.DEPENDENCIES
    versions = "Any version installed outside the declared range."
    summary = "the installed version of a declared package is outside its declared range"
    references = ()
    what = ("A main dependency whose version in the project's interpreter is outside the "
            "declared range, or differs from the version the lock file pins: the environment "
            "is not the one the project declares (a stale virtualenv, a manual `pip install`). "
            "Blocking (runtime inside a function) when a breaking release the stack table "
            "records (e.g. Pydantic 2.0, SQLAlchemy 2.0) lies between the installed version "
            "and every declared one, since code written for the declared side then fails; a "
            "warning otherwise (nothing the table knows breaks, but the app runs on untested "
            "versions). Shown on the project's first import of the package.")
    why = ("Code written for the declared version fails on the installed one: with "
           "`pydantic<2` declared and pydantic 2 installed, `from pydantic import BaseSettings` "
           "raises `pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
           "`pydantic-settings` package.`; with `sqlalchemy<2` declared and 2.x installed, "
           "`engine.execute(...)` raises `AttributeError: 'Engine' object has no attribute "
           "'execute'`. The deployment, installed from the declaration, behaves differently "
           "from the developer's machine.")
    how_to_fix = ("Re-create the environment from the declaration: `pip install -r "
                  "requirements.txt`, `uv sync` or `poetry install` (whichever the project "
                  "uses), or change the declaration to the version the code was written for.")
    fix_safety = ("Safe: re-installing from the declaration changes only the environment. No "
                  "mechanical fix: the files are right and the environment is not, so there is "
                  "no line for stability-fix to edit.")
    valid = (
        Valid({
            "requirements.txt": "fastapi>=0.115\npydantic>=2.7,<3\nsqlalchemy>=2.0,<2.2\n",
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic import BaseModel
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite:///./app.db")

                class Item(BaseModel):
                    name: str

                app = FastAPI()
            ''',
        }),
        Valid({
            "pyproject.toml": '''
                [project]
                name = "shop"
                dependencies = ["fastapi", "sqlmodel>=0.0.24"]

                [dependency-groups]
                dev = ["pydantic<2"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from sqlmodel import SQLModel

                app = FastAPI()
            ''',
        }, note="a development group is not the app's environment"),
    )
    invalid = (
        Invalid({
            "requirements.txt": "fastapi>=0.100\npydantic>=1.10,<2\n",
            "app/__init__.py": "",
            "app/config.py": '''
                from pydantic import BaseSettings  # expect: SBA202

                class Settings(BaseSettings):
                    database_url: str = "sqlite:///./app.db"

                settings = Settings()
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.config import settings

                app = FastAPI()
            ''',
        }, raises="pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
                  "`pydantic-settings` package.", run="import app.main",
           note="pydantic 2 installed, pydantic 1 declared"),
        Invalid({
            "requirements.txt": "fastapi>=0.100\nsqlalchemy>=1.4,<2.0\n",
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from sqlalchemy import create_engine  # expect: SBA202

                engine = create_engine("sqlite://")
                engine.execute("select 1")

                app = FastAPI()
            ''',
        }, raises="AttributeError: 'Engine' object has no attribute 'execute'",
           run="import app.main", note="SQLAlchemy 2 installed, 1.4 declared"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        env = model.environment
        if env.error:
            return
        declared = project_declared(model)
        for name, declaration in sorted(declarations(declared, env.markers).items()):
            installed = env.version(name)
            if installed is None or declaration.allows(installed):
                continue
            _, sites = sites_of(model, (name,))
            if sites:
                yield self._report(model, declared, declaration, installed, sites[0])

    def _report(self, model: ProjectModel, declared: DeclaredDependencies,
                declaration: Declaration, installed: Version, site: ImportSite) -> Finding:
        name = declaration.name
        crossed = crossed_breaks(declaration, installed)
        if crossed:
            severity = milder(Severity.BLOCKING, site.severity)
            effect = ("A recorded break lies between them: " + "; ".join(
                f"{b.text} (stack table: {b.row})" for b in crossed)
                + f". Code written for the declared {name} fails on the installed one.")
        else:
            severity = Severity.WARNING
            effect = ("The stack table records no break between them that concerns this "
                      "environment: the app runs, on versions the deployment will not have.")
        return self.report_in(
            site.info, site.record.node,
            f"{name} {installed} is installed but {declaration.shown()}",
            f"The project's interpreter {interpreter(model.environment)} is not the environment "
            f"the project declares (a stale or hand-modified environment). {effect}",
            f"Re-create the environment from the declaration (`{sync_command(declared, declaration)}`"
            f"), or declare the version the code is written for.",
            severity=severity,
            related=requirement_locations(declaration, declares(name)),
        )


def crossed_breaks(declaration: Declaration, installed: Version) -> Tuple[_Break, ...]:
    """The recorded breaks of the package's own API (`BREAKS`) that lie between the installed
    version and every version the declaration allows."""
    allowed = candidates(declaration)
    if allowed is None:
        return ()
    return tuple(b for b in BREAKS.get(declaration.name, ())
                 if b.other is None and all(b.between(installed, c.version) for c in allowed))
