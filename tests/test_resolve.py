"""Import resolution in Python's order, from the project's import roots, without importing."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from flake8_stability.environment import Environment, load_environment
from flake8_stability.project import resolve as R
from flake8_stability.project.resolve import ModuleResolver


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ("app/__init__.py", "app/db.py", "app/api/__init__.py", "app/api/users.py",
                 "ns/tools.py", "json.py", "boom/__init__.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")
    (tmp_path / "boom" / "__init__.py").write_text(
        f"open({str(tmp_path / 'written')!r}, 'w').write('imported')\n")
    return tmp_path


@pytest.fixture
def resolver(tree: Path) -> ModuleResolver:
    return ModuleResolver([tree], load_environment(sys.executable))


@pytest.mark.parametrize("name,is_from,kind,module,path", [
    ("app", False, R.PROJECT, "app", "app/__init__.py"),
    ("app.db", False, R.PROJECT, "app.db", "app/db.py"),
    ("app.db", True, R.PROJECT, "app.db", "app/db.py"),  # from app import db: the submodule
    ("app.api.users", True, R.PROJECT, "app.api.users", "app/api/users.py"),
    ("app.api.get_user", True, R.PROJECT, "app.api", "app/api/__init__.py"),
    ("ns.tools", False, R.PROJECT, "ns.tools", "ns/tools.py"),
    ("ns", False, R.PROJECT, "ns", None),  # a namespace package
    ("json", False, R.PROJECT, "json", "json.py"),  # sys.path[0] shadows the stdlib
    ("sys", False, R.BUILTIN, "sys", None),
    ("asyncio", False, R.STDLIB, "asyncio", None),
    ("sqlalchemy.ext.asyncio", False, R.INSTALLED, "sqlalchemy.ext.asyncio", None),
    ("no_such_package_anywhere", False, R.MISSING, "no_such_package_anywhere", None),
])
def test_resolution(resolver: ModuleResolver, tree: Path, name, is_from, kind, module,
                    path) -> None:
    found = resolver.resolve(name, is_from)
    assert (found.kind, found.module) == (kind, module)
    assert found.path == (tree / path if path else None)


def test_resolving_never_imports_project_code(resolver: ModuleResolver, tree: Path) -> None:
    assert resolver.resolve("boom").kind == R.PROJECT
    assert resolver.resolve("boom.thing", is_from=True).kind == R.PROJECT
    assert not (tree / "written").exists()


def test_an_unusable_interpreter_makes_outside_names_unknown(tree: Path) -> None:
    resolver = ModuleResolver([tree], Environment(error="cannot run /nope/python"))
    assert resolver.resolve("asyncio").kind == R.UNKNOWN
    assert resolver.resolve("app.db").kind == R.PROJECT


def test_no_temporary_files_are_left_behind(tree: Path, tmp_path_factory) -> None:
    import tempfile

    before = set(Path(tempfile.gettempdir()).iterdir())
    ModuleResolver([tree], load_environment(sys.executable)).resolve("app.db")
    assert set(Path(tempfile.gettempdir()).iterdir()) == before
