"""Folders the project imports as packages: SBA601."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from ...findings import Category, Finding, Severity
from ...project.model import ModuleInfo, ProjectModel
from ...project.resolve import PROJECT
from ...project.summary import TYPE_CHECKING_GUARD, ImportRecord
from ..base import Invalid, ProjectRule, Valid

_TEST_FOLDERS = frozenset({"test", "tests", "testing"})


@dataclass(frozen=True)
class _Use:
    """`module` imports `name`, which needs `folder` to be a package named `package`."""

    module: ModuleInfo
    record: ImportRecord
    name: str
    package: str
    folder: Path

    @property
    def key(self) -> Tuple[bool, str, int]:
        return (_in_tests(self.module.path), str(self.module.path), self.record.line)


def _in_tests(path: Path) -> bool:
    return any(part in _TEST_FOLDERS or part.startswith("test_") for part in path.parts[:-1])


def _names(info: ModuleInfo, record: ImportRecord) -> List[str]:
    """The dotted module names an import may load (`from a.b import c`: `a.b` and `a.b.c`)."""
    target = info.absolute(record)
    if target is None:
        return []
    return [target] + [f"{target}.{name}" for name, _ in record.names if name != "*"]


def _root_of(model: ProjectModel, name: str) -> Optional[Path]:
    """The import root that holds module `name` as a file or a folder."""
    relative = Path(*name.split("."))
    for root in model.layout.import_roots:
        if (root / relative).is_dir() or (root / relative).with_suffix(".py").is_file():
            return root
    return None


def _shown(folder: Path, root: Path) -> str:
    try:
        return folder.relative_to(root).as_posix()
    except ValueError:
        return str(folder)


def _needs_init(model: ProjectModel, folder: Path) -> bool:
    """A folder with modules but no `__init__.py`, that is neither a boot root nor tests."""
    return (
        not (folder / "__init__.py").exists()
        and any(folder.glob("*.py"))
        and folder not in model.layout.import_roots
        and folder != model.layout.working_dir
        and not _is_tests(folder, model.layout.root)
    )


def _is_tests(folder: Path, root: Path) -> bool:
    """A tests folder or a folder inside one."""
    try:
        parts = folder.relative_to(root).parts
    except ValueError:
        parts = (folder.name,)
    return any(part in _TEST_FOLDERS for part in parts)


def _uses(model: ProjectModel) -> Iterator[_Use]:
    folders: Dict[str, List[Tuple[str, Path]]] = {}  # the same names recur in many imports
    for info in model:
        if info.summary is None or not info.importable:
            continue
        for record in info.summary.imports:
            if record.guard == TYPE_CHECKING_GUARD:
                continue
            for name in _names(info, record):
                if name not in folders:
                    folders[name] = list(_packages_without_init(model, name))
                for package, folder in folders[name]:
                    yield _Use(info, record, name, package, folder)


def _packages_without_init(model: ProjectModel, name: str) -> Iterator[Tuple[str, Path]]:
    """(package, folder) for each folder importing `name` needs as a package and that has no
    `__init__.py`."""
    parts = name.split(".")
    if model.resolve(name).kind != PROJECT:
        return
    root = _root_of(model, name)
    if root is None:
        return
    packages = len(parts) if root.joinpath(*parts).is_dir() else len(parts) - 1
    for depth in range(1, packages + 1):
        folder = root.joinpath(*parts[:depth])
        if _needs_init(model, folder):
            yield ".".join(parts[:depth]), folder


class PackageWithoutInit(ProjectRule):
    code = "SBA601"
    name = "package-without-init"
    severity = Severity.WARNING
    category = Category.STRUCTURE
    versions = ("Any Python >= 3.3 imports it (namespace package); the tools that skip it do so in"
                " every version.")
    summary = "a folder imported as a package has no __init__.py"
    references = ("S05",)
    codemod = "create-init"
    what = ("A folder under an import root holds `.py` files and the project imports it as a "
            "package (`from app.routers import users`), but it has no `__init__.py`. The root "
            "itself, the folders put on `sys.path` at boot, tests folders and folders nobody "
            "imports as a package are never reported.")
    why = ("CPython imports such a folder as a namespace package, so it boots on the "
           "developer's machine; but tools that look for `__init__.py` skip it: setuptools' "
           "`find_packages()` leaves it out of the wheel, Docker images built from those "
           "wheels or from `COPY **/__init__.py`-style patterns miss it, mypy and pytest's "
           "rootdir imports name its modules differently. The deployed app then stops with "
           "`ModuleNotFoundError: No module named 'app.routers'`.")
    how_to_fix = ("Create an empty `__init__.py` in the folder (and in every parent folder up to "
                  "the import root that lacks one).")
    fix_safety = ("Safe: the `create-init` codemod creates the empty `__init__.py`, which turns "
                  "the namespace package into a regular package with the same name and the same "
                  "modules. Only a package that is deliberately split across several folders (a "
                  "true namespace package) must stay without one.")
    valid = (
        Valid({
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

                router = APIRouter()
            ''',
            "tests/test_users.py": '''
                from fastapi.testclient import TestClient

                from app.main import app

                def test_app_boots() -> None:
                    assert TestClient(app)
            ''',
        }, note="regular packages; a tests folder without __init__.py is fine"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                app = FastAPI()
            ''',
            "app/db.py": '''
                from sqlmodel import create_engine

                engine = create_engine("sqlite:///app.db", connect_args={"check_same_thread": False})
            ''',
            "scripts/seed.py": '''
                import helpers

                from app.db import engine

                helpers.seed(engine)
            ''',
            "scripts/helpers.py": '''
                def seed(engine) -> None:
                    engine.dispose()
            ''',
        }, note="a folder of scripts run directly (`python scripts/seed.py`) is no package"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.routers import users  # expect: SBA601

                app = FastAPI()
                app.include_router(users.router)
            ''',
            "app/routers/users.py": '''
                from fastapi import APIRouter

                router = APIRouter()
            ''',
        }, note="app/routers/ has no __init__.py"),
        Invalid({
            "app/main.py": '''
                from fastapi import FastAPI

                from app.api.routes import items  # expect: SBA601

                app = FastAPI()
                app.include_router(items.router)
            ''',
            "app/api/__init__.py": "",
            "app/api/routes/__init__.py": "",
            "app/api/routes/items.py": '''
                from fastapi import APIRouter

                router = APIRouter()
            ''',
        }, note="the top-level package app/ itself has no __init__.py"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        first: Dict[Path, _Use] = {}
        for use in _uses(model):
            known = first.get(use.folder)
            if known is None or use.key < known.key:
                first[use.folder] = use
        for folder, use in sorted(first.items()):
            yield self._finding(model, folder, use)

    def _finding(self, model: ProjectModel, folder: Path, use: _Use) -> Finding:
        shown = _shown(folder, model.layout.root)
        return self.report_in(
            use.module, use.record.node,
            f"{shown}/ has no __init__.py but is imported as package {use.package} "
            f"(for {use.name})",
            f"{shown}/ holds modules and {use.module.name} imports {use.name} through it, so "
            f"CPython loads it as a namespace package; find_packages(), Docker COPY patterns, "
            f"mypy and pytest skip or rename folders without __init__.py, and the deployed app "
            f"fails with ModuleNotFoundError: No module named {use.package!r}.",
            f"Create an empty {shown}/__init__.py.", data={"folder": shown},
        )
