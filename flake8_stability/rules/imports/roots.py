"""Imports that depend on where the server starts: SBA104 (an absolute import that only
resolves from another folder) and SBA105 (a relative import in a module that has no package
at boot)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

from ...findings import Category, Finding, Severity
from ...project.model import ModuleInfo, ProjectModel
from ...project.reach import boot_name, import_severity, loaded_at_boot, other_root
from ...project.resolve import MISSING
from ...project.summary import ImportRecord
from ..base import Invalid, ProjectRule, Valid


def _shown(model: ProjectModel, folder: Path) -> str:
    try:
        text = folder.relative_to(model.layout.root).as_posix()
    except ValueError:
        return str(folder)
    return "the project root" if text == "." else f"{text}/"


def _boot(model: ProjectModel) -> str:
    """How the app is started, as far as the layout knows."""
    target = model.layout.target
    roots = ", ".join(_shown(model, root) for root in model.layout.import_roots)
    if target is None:
        return f"no ASGI target was found; this assumes the import roots {roots}"
    return (f"the app boots as {target.module}:{target.attribute} ({target.origin}) with the "
            f"import roots {roots}")


def _target_from(model: ProjectModel, folder: Path) -> Optional[str]:
    """The target as it would be spelled from `folder` (`src.main:app`)."""
    target = model.layout.target
    info = model.modules.get(target.module) if target else None
    if target is None or info is None:
        return None
    try:
        parts = list(info.path.relative_to(folder).with_suffix("").parts)
    except ValueError:
        return None
    if parts[-1] == "__init__":
        parts.pop()
    return f"{'.'.join(parts)}:{target.attribute}"


class ImportRootMismatch(ProjectRule):
    code = "SBA104"
    name = "import-root-mismatch"
    severity = Severity.BLOCKING
    category = Category.IMPORTS
    versions = "Any versions: the working directory and sys.path uvicorn starts with decide."
    summary = "absolute import that only resolves when the server starts from another folder"
    references = ("E03",)
    what = ("An absolute import of the project's own code that does not resolve from the boot "
            "import roots (the working directory or `--app-dir` of the boot command) but does "
            "from another folder of the project: `from src.db import engine` while the app "
            "starts with `cd src && uvicorn main:app`, or `from app.db import engine` while "
            "the boot root is `app/` itself.")
    why = ("The folder that holds the top-level package is not on `sys.path`, so Python raises "
           "`ModuleNotFoundError: No module named 'src'` and uvicorn never imports the app. It "
           "often works on a laptop started from the repository root and fails in Docker.")
    how_to_fix = ("Start the server from the folder the imports are written for (the message "
                  "gives the command), or add that folder to `PYTHONPATH`, or write the imports "
                  "relative to the boot root.")
    fix_safety = ("Changing the boot command is safe when every import is written for the same "
                  "root; check the Dockerfile's WORKDIR and COPY lines too.")
    valid = (
        Valid({
            "src/__init__.py": "",
            "src/main.py": '''
                from fastapi import FastAPI

                from src.db import engine

                app = FastAPI()
            ''',
            "src/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
        }, note="started from the repository root as src.main:app"),
        Valid({
            "pyproject.toml": '''
                [project]
                name = "example"

                [tool.flake8-stability]
                target = "main:app"
                working-dir = "src"
            ''',
            "src/main.py": '''
                from fastapi import FastAPI

                from db import engine

                app = FastAPI()
            ''',
            "src/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
        }, note="started inside src/ with imports written for src/"),
    )
    invalid = (
        Invalid({
            "pyproject.toml": '''
                [project]
                name = "example"

                [tool.flake8-stability]
                target = "main:app"
                working-dir = "src"
            ''',
            "src/main.py": '''
                from fastapi import FastAPI

                from src.db import engine  # expect: SBA104

                app = FastAPI()
            ''',
            "src/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
        }, raises="ModuleNotFoundError: No module named 'src'",
           run="import sys; sys.path[:] = ['src'] + [p for p in sys.path if p not in ('', '.')]; "
               "import main",
           note="`cd src && uvicorn main:app` with imports written for the repository root"),
        Invalid({
            "Procfile": "web: uvicorn main:app --app-dir app --host 0.0.0.0 --port $PORT\n",
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.routers import router  # expect: SBA104

                app = FastAPI()
                app.include_router(router)
            ''',
            "app/routers.py": '''
                from fastapi import APIRouter

                router = APIRouter()
            ''',
        }, raises="ModuleNotFoundError: No module named 'app'",
           run="import sys; sys.path[:] = ['app'] + [p for p in sys.path if p not in ('', '.')]; "
               "import main",
           note="`--app-dir app` while the code imports the package `app`"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        boot = loaded_at_boot(model)
        for info in model:
            if not info.importable:
                continue
            for record in info.summary.imports if info.summary else ():
                severity = import_severity(info, record, boot)
                if severity is None or record.level:
                    continue
                if model.resolve(record.module.split(".")[0]).kind != MISSING:
                    continue
                folder = other_root(model, record.module)
                if folder is not None:
                    yield self._finding(model, info, record, folder, severity)

    def _finding(self, model: ProjectModel, info: ModuleInfo, record: ImportRecord,
                 folder: Path, severity: Severity) -> Finding:
        top = record.module.split(".")[0]
        target = _target_from(model, folder)
        start = (f"start the server from {_shown(model, folder)} "
                 + (f"(`uvicorn {target}`)" if target else "")
                 + f", or add {_shown(model, folder)} to PYTHONPATH")
        rest = record.module.partition(".")[2]
        local = [root for root in model.layout.import_roots if root == folder / top]
        if local and rest:
            written = f"from {rest} import ..." if record.is_from else f"import {rest}"
            start += f", or write the import as the boot root sees it: `{written}`"
        return self.report_in(
            info, record.node,
            f"{record.module!r} resolves only from {_shown(model, folder)}, not from the boot "
            f"import roots",
            f"{_boot(model)}; {top!r} is a folder of {_shown(model, folder)}, which is not on "
            f"sys.path then, so Python raises ModuleNotFoundError: No module named {top!r}.",
            start[0].upper() + start[1:] + ".", severity=severity)


class RelativeImportOutsidePackage(ProjectRule):
    code = "SBA105"
    name = "relative-import-outside-package"
    severity = Severity.BLOCKING
    category = Category.IMPORTS
    versions = "Any Python version."
    summary = "relative import in a module that has no parent package at boot"
    references = ("I08",)
    what = ("A relative import (`from .db import engine`) in a module imported at boot as a "
            "top-level module (`main.py` started as `uvicorn main:app`, or `cd app && uvicorn "
            "main:app`), or one that climbs more levels (`from ..core import x`) than the "
            "module's package has.")
    why = ("Python resolves relative imports against the package the module was imported as. "
           "Without one it raises `ImportError: attempted relative import with no known parent "
           "package`; climbing past the top it raises `ImportError: attempted relative import "
           "beyond top-level package`.")
    how_to_fix = ("Start the server from the folder above the package with the dotted target "
                  "(`uvicorn app.main:app`), or write the import absolutely as the boot root "
                  "sees it (`from db import engine`).")
    fix_safety = "Safe: either change keeps the imported object the same."
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from .db import engine

                app = FastAPI()
            ''',
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
        }, note="started as uvicorn app.main:app from the repository root"),
        Valid({
            "main.py": '''
                from fastapi import FastAPI

                from db import engine

                app = FastAPI()
            ''',
            "db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
        }, note="a flat project with absolute imports"),
    )
    invalid = (
        Invalid({
            "main.py": '''
                from fastapi import FastAPI

                from .db import engine  # expect: SBA105

                app = FastAPI()
            ''',
            "db.py": '''
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
            ''',
        }, raises="ImportError: attempted relative import with no known parent package",
           run="import main", note="`uvicorn main:app` with a relative import"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from ..settings import settings  # expect: SBA105

                app = FastAPI(title=settings.title)
            ''',
            "settings.py": '''
                class Settings:
                    title = "api"

                settings = Settings()
            ''',
        }, raises="ImportError: attempted relative import beyond top-level package",
           run="import app.main", note="climbing out of the top-level package"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        boot = loaded_at_boot(model)
        for info in model:
            name = boot_name(model, info.path)
            if name is None or info.summary is None:
                continue
            package = name if info.is_package else name.rpartition(".")[0]
            depth = len(package.split(".")) if package else 0
            for record in info.summary.imports:
                severity = import_severity(info, record, boot)
                if severity is not None and record.level > depth:
                    yield self._finding(info, record, name, package, severity)

    def _finding(self, info: ModuleInfo, record: ImportRecord, name: str, package: str,
                 severity: Severity) -> Finding:
        dots = "." * record.level
        written = (f"from {record.module} import ..." if record.module
                   else f"import {', '.join(alias for alias, _ in record.names)}")
        if package:
            error = "attempted relative import beyond top-level package"
            cause = (f"`{dots}` needs {record.level} enclosing packages, but {name} has only "
                     f"{len(package.split('.'))} ({package!r})")
            fix = (f"Import it absolutely as the boot root sees it (`{written}` "
                   f"when it sits on the boot root), or move the module into the package "
                   f"{package.split('.')[0]!r}.")
        else:
            error = "attempted relative import with no known parent package"
            cause = (f"{info.path.name} is imported at boot as the top-level module {name!r}, "
                     f"which has no parent package")
            fix = (f"Import absolutely as the boot root sees it (`{written}`), "
                   f"or start the server from the folder above its package with a dotted "
                   f"target (`uvicorn <package>.{name}:app`).")
        return self.report_in(
            info, record.node,
            f"relative import `from {dots}{record.module} import ...` {error.split(' ', 3)[3]}",
            f"{cause}, so Python raises ImportError: {error}.", fix, severity=severity)
