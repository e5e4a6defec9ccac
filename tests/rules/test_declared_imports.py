"""SBA107 through flake8 on small projects: imports of installed packages the project does not
declare, in app code and tests, through every guard; and its explanations (the requirement
chain that installed the package, where the dependency list is), with the running interpreter
and a real second one."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List

from _dependency_envs import configured, venv_with
from flake8_runner import Flake8Run

from flake8_stability.config import load_config
from flake8_stability.context import ProjectContext
from flake8_stability.findings import Finding
from flake8_stability.rules import rule_for

APP = '''from typing import TYPE_CHECKING

from fastapi import FastAPI
import os, starlette.routing
from starlette.middleware.cors import CORSMiddleware as Cors
import sqlalchemy as sa

try:
    import yaml
except ImportError:
    yaml = None

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

from app import db

app = FastAPI()


def create_tables():
    from sqlmodel import SQLModel
    import greenlet
    return SQLModel, greenlet
'''


def findings(root: Path, files: Dict[str, str]) -> List[Finding]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    project = ProjectContext(root, load_config(root))
    return sorted(rule_for("SBA107")().check_project(project.model), key=lambda f: f.line)


def test_undeclared_imports_in_app_code(lint: Callable[..., Flake8Run]) -> None:
    run = lint({"requirements.txt": "fastapi>=0.115\nsqlmodel>=0.0.22\n",
                "app/__init__.py": "", "app/db.py": "ENGINE = None\n", "app/main.py": APP})
    assert run.lines_of("SBA107", "app/main.py") == [4, 5, 6, 23]
    texts = [r.text for r in run.results if r.code == "SBA107"]
    assert texts[0].startswith("'starlette' is imported but its distribution starlette "
                               "is not declared") and texts[0].endswith("[warning]")
    assert "'sqlalchemy' is imported" in texts[2] and "'greenlet'" in texts[3]


def test_dev_groups_count_for_tests_only(lint: Callable[..., Flake8Run]) -> None:
    run = lint({
        "pyproject.toml": "[project]\nname = 'heroes'\ndependencies = ['fastapi']\n\n"
                          "[dependency-groups]\n"
                          "dev = ['pytest', 'pydantic-settings', 'sqlalchemy']\n",
        "app/__init__.py": "",
        "app/config.py": "from pydantic_settings import BaseSettings\n",
        "tests/test_api.py": "import pytest\nimport sqlalchemy\nimport starlette\n",
        "conftest.py": "import pytest\n",
        "test_smoke.py": "from pydantic_settings import BaseSettings\n",
    })
    assert [(r.path, r.line) for r in run.results if r.code == "SBA107"] == [
        ("./app/config.py", 1), ("./tests/test_api.py", 3)]
    config = next(r.text for r in run.results if r.path == "./app/config.py")
    assert "declared only for 'dev'" in config


def test_silent_without_dependency_lists_and_for_missing_modules(
        lint: Callable[..., Flake8Run]) -> None:
    files = {"app/__init__.py": "", "app/main.py": "import starlette\nimport not_installed_pkg\n"}
    assert lint(files).codes() == ["SBA101"]
    declared = dict(files, **{"requirements.txt": "fastapi\n"})
    assert sorted(lint(declared).codes()) == ["SBA101", "SBA107"]


def test_constraints_do_not_declare(lint: Callable[..., Flake8Run]) -> None:
    run = lint({"requirements.txt": "fastapi\n-c constraints.txt\n",
                "constraints.txt": "starlette<2\n",
                "app/__init__.py": "", "app/main.py": "import starlette\n"})
    assert run.lines_of("SBA107") == [1]


def test_root_cause_names_the_chain_and_the_dependency_list(tmp_path: Path) -> None:
    found = findings(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\ndependencies = [\n    'fastapi',\n"
                          "    'sqlmodel',\n]\n",
        "app/__init__.py": "", "app/main.py": "import starlette\nimport typing_extensions\n"})
    starlette = found[0]
    assert "installed only because fastapi requires it (fastapi -> starlette)" in \
        starlette.root_cause
    assert "starlette 1.10.0" in starlette.root_cause
    assert starlette.fix.description.startswith(
        "Declare `starlette>=1.10.0` in pyproject.toml, next to fastapi")
    assert [(Path(r.path).name, r.line) for r in starlette.related] == [
        ("pyproject.toml", 4), ("pyproject.toml", 4)]
    assert " -> typing-extensions)" in found[1].root_cause
    assert found[1].fix.codemod is None


def test_second_interpreter_chain_and_unrequired_package(tmp_path: Path) -> None:
    python = venv_with(tmp_path, [
        ("parent-lib", "1.0", ["child-lib>=2", "never-lib; extra == 'never'"], ["parent_lib"]),
        ("child-lib", "2.1", [], ["child_lib"]),
        ("never-lib", "0.5", [], ["never_lib"]),
        ("lonely", "0.1", [], ["lonely"]),
        ("own-app", "3.0", [], ["own_app"]),
    ])
    project = tmp_path / "project"
    found = findings(project, {
        "pyproject.toml": configured(python, ["parent-lib"]).replace("'fixture'", "'own-app'"),
        "app/__init__.py": "",
        "app/main.py": "import parent_lib\nimport child_lib\nimport lonely\nimport never_lib\n"
                       "import own_app\nimport json\n"})
    assert [(f.line, f.message) for f in found] == [
        (2, "'child_lib' is imported but its distribution child-lib is not declared"),
        (3, "'lonely' is imported but its distribution lonely is not declared"),
        (4, "'never_lib' is imported but its distribution never-lib is not declared")]
    assert "(parent-lib -> child-lib)" in found[0].root_cause
    assert "child-lib 2.1" in found[0].root_cause
    assert "nothing declared requires it" in found[1].root_cause
    assert "nothing declared requires it" in found[2].root_cause  # only for an extra


def test_unusable_interpreter_is_silent(tmp_path: Path) -> None:
    found = findings(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\ndependencies = ['fastapi']\n\n"
                          "[tool.flake8-stability]\npython = 'nowhere/bin/python'\n",
        "app/__init__.py": "", "app/main.py": "import starlette\n"})
    assert found == []


def test_app_code_is_not_explained_by_development_dependencies(tmp_path: Path) -> None:
    found = findings(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\ndependencies = ['sqlalchemy']\n\n"
                          "[dependency-groups]\ndev = ['fastapi']\n",
        "app/__init__.py": "", "app/main.py": "import starlette\n",
        "tests/test_main.py": "import starlette\n"})
    assert [Path(f.path).parent.name for f in found] == ["app", "tests"]
    app, test = found
    assert "nothing declared requires it" in app.root_cause
    assert "installed only because fastapi requires it" in test.root_cause
