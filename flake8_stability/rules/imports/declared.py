"""SBA107: third-party imports whose distribution the project does not declare."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from ...dependencies.declared import DeclaredDependencies, DeclaredRequirement, declared_in
from ...dependencies.installed_by import requirement_chain
from ...findings import Category, Finding, Location, Severity
from ...project.model import ModuleInfo, ProjectModel
from ...project.reach import import_severity
from ...project.resolve import INSTALLED
from ...project.summary import ImportRecord
from ..base import Invalid, ProjectRule, Valid

_TEST_FOLDERS = frozenset({"tests", "test", "testing"})


def project_declared(model: ProjectModel) -> DeclaredDependencies:
    """The project's declared dependencies (the run's shared copy when there is one)."""
    return model.project.declared if model.project is not None else declared_in(model.layout)


def is_test_file(path: Path, root: Path) -> bool:
    """A test module: under a `tests/` folder, `test_*.py`, `*_test.py` or `conftest.py`."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = path.parts
    name = path.name
    return (name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")
            or any(part in _TEST_FOLDERS for part in parts[:-1]))


def imported_tops(record: ImportRecord) -> List[str]:
    """The top-level names an absolute import statement loads (`import a.b, c` -> a, c)."""
    if record.level:
        return []
    if isinstance(record.node, ast.Import):
        return list(dict.fromkeys(alias.name.split(".")[0] for alias in record.node.names))
    return [record.module.split(".")[0]] if record.module else []


def runtime_imports(info: ModuleInfo) -> Iterator[Tuple[ImportRecord, str]]:
    """(record, top-level name) of the imports that run: at module level or inside functions,
    not under `if TYPE_CHECKING:` nor inside a `try` that handles ImportError."""
    for record in info.summary.imports if info.summary else ():
        if import_severity(info, record, None) is None:
            continue
        for top in imported_tops(record):
            yield record, top


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class UndeclaredThirdPartyImport(ProjectRule):
    code = "SBA107"
    name = "undeclared-third-party-import"
    severity = Severity.WARNING
    category = Category.IMPORTS
    versions = "Any versions: the declared dependencies decide."
    summary = "import of an installed third-party package the project does not declare"
    what = ("An import that runs (at module level or inside a function; not under "
            "`if TYPE_CHECKING:`, not inside `try/except ImportError`) of a top-level module "
            "that is installed in the project's interpreter, when none of the distributions "
            "providing it is declared in the project's dependency files (requirement files, "
            "pyproject.toml, setup.cfg). App code needs a declaration outside development "
            "groups (`dev`, `test`, `lint`...); tests, `test_*.py` and `conftest.py` may rely on "
            "any group. Silent when the project declares nothing at all, for the standard "
            "library, the project's own modules and distribution, and for modules that are not "
            "installed (SBA101).")
    why = ("It works here only because the package happens to be installed, often pulled in "
           "by another dependency (`starlette` by `fastapi`, `sqlalchemy` by `sqlmodel`). A "
           "clean install from the declared dependencies, or a release of the parent that "
           "drops or re-pins it, makes the import fail at boot with `ModuleNotFoundError: No "
           "module named 'starlette'`, or run against a version nobody chose.")
    how_to_fix = ("Declare the distribution next to the project's other dependencies (the "
                  "message names the file and the installed version), in the main "
                  "dependencies when app code imports it.")
    fix_safety = ("Safe: declaring an installed distribution with a range that contains the "
                  "installed version changes nothing in this environment.")
    valid = (
        Valid({
            "pyproject.toml": '''
                [project]
                name = "heroes"
                dependencies = [
                    "fastapi>=0.115",
                    "sqlmodel>=0.0.22",
                    "sqlalchemy[asyncio]>=2.0",
                    "pydantic-settings>=2.0",
                ]

                [dependency-groups]
                dev = ["pytest>=8"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import TYPE_CHECKING

                from fastapi import FastAPI
                from pydantic_settings import BaseSettings
                from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
                from sqlmodel.ext.asyncio.session import AsyncSession

                try:
                    import orjson
                except ImportError:
                    orjson = None

                if TYPE_CHECKING:
                    from starlette.requests import Request


                class Settings(BaseSettings):
                    database_url: str = "sqlite+aiosqlite:///./app.db"


                engine = create_async_engine(Settings().database_url)
                SessionLocal = async_sessionmaker(engine, class_=AsyncSession,
                                                  expire_on_commit=False)
                app = FastAPI()
            ''',
            "tests/test_health.py": '''
                import pytest

                from app.main import app


                @pytest.fixture
                def application():
                    return app
            ''',
        }, note="direct imports declared; tests use the dev group; optional and typing-only "
                "imports are guarded"),
        Valid({
            "requirements.txt": '''
                -r requirements/base.txt
                uvicorn[standard]>=0.30
            ''',
            "requirements/base.txt": '''
                fastapi>=0.115
                starlette>=0.40  # imported directly for the middleware
                sqlmodel>=0.0.22
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from starlette.middleware.cors import CORSMiddleware

                app = FastAPI()
                app.add_middleware(CORSMiddleware, allow_origins=["*"])


                def create_tables():
                    from sqlmodel import SQLModel, create_engine

                    engine = create_engine("sqlite:///./app.db",
                                           connect_args={"check_same_thread": False})
                    SQLModel.metadata.create_all(engine)
            ''',
        }, note="requirements spread over an included file"),
    )
    invalid = (
        Invalid({
            "requirements.txt": '''
                fastapi==0.165.0
                sqlmodel==0.0.50
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from starlette.middleware.cors import CORSMiddleware  # expect: SBA107

                app = FastAPI()
                app.add_middleware(CORSMiddleware, allow_origins=["*"])
            ''',
        }, note="starlette is only installed because fastapi requires it"),
        Invalid({
            "pyproject.toml": '''
                [project]
                name = "heroes"
                dependencies = ["fastapi>=0.115", "sqlmodel>=0.0.22"]

                [dependency-groups]
                dev = ["pytest>=8", "pydantic-settings>=2"]
            ''',
            "app/__init__.py": "",
            "app/db.py": '''
                from pydantic_settings import BaseSettings  # expect: SBA107
                from sqlalchemy.ext.asyncio import create_async_engine  # expect: SBA107


                class Settings(BaseSettings):
                    database_url: str = "sqlite+aiosqlite:///./app.db"


                engine = create_async_engine(Settings().database_url)
            ''',
        }, note="sqlalchemy comes with sqlmodel; pydantic-settings only with the dev group"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        declared = project_declared(model)
        if not declared.declares_anything or model.environment.error:
            return
        own = set(declared.project_names)
        for info in model:
            test = is_test_file(info.path, model.layout.root)
            seen = set()
            for record, top in runtime_imports(info):
                if (record.line, top) in seen or model.resolve(top).kind != INSTALLED:
                    continue
                seen.add((record.line, top))
                providers = model.environment.providers(top)
                if not providers or own.intersection(providers):
                    continue
                entries = [entry for dist in providers for entry in declared.for_name(dist)
                           if not entry.constraint]
                if any(test or not entry.development for entry in entries):
                    continue
                yield self._finding(model, declared, info, record, top, providers, entries, test)

    def _finding(self, model: ProjectModel, declared: DeclaredDependencies, info: ModuleInfo,
                 record: ImportRecord, top: str, providers: Sequence[str],
                 dev_entries: List[DeclaredRequirement], test: bool) -> Finding:
        env = model.environment
        dist = providers[0]
        listing = declared.dependency_list()
        related: List[Location] = []
        if listing is not None:
            related.append(Location(str(listing.path), listing.line, 0,
                                    "the project's dependencies are declared here"))
        for entry in dev_entries[:1]:
            related.append(Location(str(entry.path), entry.line, 0,
                                    f"{dist} is declared here for {entry.group!r} only"))
        chain = requirement_chain(env, declared, dist, development=test)
        if chain is not None:
            parent = declared.for_name(chain[0])[0]
            related.append(Location(str(parent.path), parent.line, 0,
                                    f"{chain[0]} is declared here and requires {dist}"))
        version = env.version(dist)
        spec = f"{dist}>={version}" if version else dist
        where = (f"{_shown(listing.path, model.layout.root)}, next to {listing.name}"
                 if listing is not None else "the project's dependencies")
        return self.report_in(
            info, record.node,
            f"{top!r} is imported but its distribution {dist} is "
            + (f"declared only for {dev_entries[0].group!r}" if dev_entries else "not declared"),
            _cause(env.describe, top, providers, dev_entries, chain),
            f"Declare `{spec}` in {where}"
            + (" (the main dependencies, not a development group)" if dev_entries else "")
            + ", or stop importing it directly.",
            severity=Severity.WARNING, related=tuple(related))


def _cause(describe: Callable[[str], str], top: str, providers: Sequence[str],
           dev_entries: List[DeclaredRequirement], chain: Optional[Tuple[str, ...]]) -> str:
    installed = " or ".join(describe(name) for name in providers)
    failure = f"ModuleNotFoundError: No module named {top!r}"
    cause = (f"`{top}` is installed in the project's interpreter ({installed}) but no "
             f"dependency file of the project declares {' or '.join(providers)}")
    if dev_entries:
        entry = dev_entries[0]
        cause += (f" outside development groups: it is only in the group {entry.group!r} "
                  f"({entry.where()}), which a production install leaves out")
    if chain is not None:
        return cause + (f". It is installed only because {chain[0]} requires it "
                        f"({' -> '.join(chain)}); declare it if you import it directly: a "
                        f"{chain[0]} release that drops it breaks this import with {failure}, "
                        f"and one that re-pins it changes the version under your code.")
    return cause + (f", and nothing declared requires it: an install from the declared "
                    f"dependencies fails here with {failure}.")
