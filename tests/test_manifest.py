"""The dependency manifest (flake8_stability/dependencies/manifest.py) on fixture projects in
each format (requirements files, PEP 621 with uv.lock, Poetry carets with poetry.lock) against
real second interpreters with hand-written distributions."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Dict

sys.path.insert(0, str(Path(__file__).parent / "rules"))

from _dependency_envs import venv_with  # noqa: E402
from flake8_stability.dependencies.declared import load_declared  # noqa: E402
from flake8_stability.dependencies.installed import STACK  # noqa: E402
from flake8_stability.dependencies.manifest import (CONFLICT, MISSING, OK, OUTSIDE,  # noqa: E402
                                                    UNDECLARED, UNKNOWN, Manifest,
                                                    build_manifest)
from flake8_stability.environment import load_environment  # noqa: E402


def manifest_of(root: Path, files: Dict[str, str], python: Path) -> Manifest:
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return build_manifest(load_declared(root), load_environment(str(python)))


def verdicts(manifest: Manifest) -> Dict[str, str]:
    return {e.name: e.verdict for e in manifest.entries if e.verdict != OK or e.declared}


def test_requirements_file_against_an_interpreter(tmp_path: Path) -> None:
    python = venv_with(tmp_path / "env", [
        ("fastapi", "0.115.6", ["starlette<0.42.0,>=0.40.0", "pydantic<3.0.0,>=1.7.4"],
         ["fastapi"]),
        ("starlette", "0.41.3", [], ["starlette"]),
        ("pydantic", "2.5.3", [], ["pydantic"]),
        ("uvicorn", "0.30.0", [], ["uvicorn"]),
    ])
    project = tmp_path / "shop"
    project.mkdir()
    manifest = manifest_of(project, {
        "requirements.txt": """
            fastapi>=0.115,<0.116
            pydantic>=2.7
            sqlmodel>=0.0.24
            pytest; python_version < "3.0"
        """,
        "requirements-dev.txt": "-r requirements.txt\nhttpx>=0.27\n",
    }, python)
    assert manifest.entry("fastapi").verdict == OK
    assert manifest.entry("pydantic").verdict == OUTSIDE
    assert manifest.entry("pydantic").reason == ("pydantic 2.5.3 is installed but pydantic>=2.7 "
                                                 "is declared (requirements.txt:2)")
    assert manifest.entry("sqlmodel").verdict == MISSING
    starlette = manifest.entry("starlette")
    assert (starlette.verdict, starlette.installed, starlette.required) == \
        (OK, "0.41.3", "<0.42.0,>=0.40.0")
    assert starlette.required_by == ("fastapi 0.115.6 requires starlette<0.42.0,>=0.40.0",)
    assert manifest.entry("uvicorn").verdict == UNDECLARED
    assert manifest.entry("pytest").verdict == OK  # its marker excludes this interpreter
    fastapi = manifest.entry("fastapi")
    assert [(d.requirement, Path(d.path).name, d.line) for d in fastapi.declared] == \
        [("fastapi<0.116,>=0.115", "requirements.txt", 1)]
    assert {e.name for e in manifest.entries} >= set(STACK)
    json.dumps(manifest.to_dict())


def test_pep621_with_a_uv_lock_that_pins_a_broken_pair(tmp_path: Path) -> None:
    python = venv_with(tmp_path / "env", [("fastapi", "0.99.1", [], ["fastapi"])])
    project = tmp_path / "shop"
    project.mkdir()
    manifest = manifest_of(project, {
        "pyproject.toml": """
            [project]
            name = "shop"
            requires-python = ">=3.9"
            dependencies = ["fastapi>=0.95", "sqlmodel>=0.0.8", "pydantic>=1.10"]

            [dependency-groups]
            dev = ["pytest>=8"]
        """,
        "uv.lock": """
            version = 1

            [[package]]
            name = "fastapi"
            version = "0.99.1"

            [[package]]
            name = "sqlmodel"
            version = "0.0.8"

            [[package]]
            name = "pydantic"
            version = "2.5.3"
        """,
    }, python)
    assert verdicts(manifest) == {"fastapi": CONFLICT, "sqlmodel": CONFLICT,
                                  "pydantic": CONFLICT, "pytest": OK}
    assert manifest.entry("sqlmodel").reason == ("sqlmodel 0.0.8 requires pydantic<2.0.0,"
                                                 ">=1.8.2; pydantic 2.5.3 is locked (uv.lock:12)")
    assert manifest.entry("sqlmodel").locked_at == "uv.lock:8"
    assert manifest.entry("pytest").reason.startswith("declared only as pytest>=8 (group dev, ")
    assert (manifest.requires_python, manifest.requires_python_at) == (">=3.9",
                                                                       "pyproject.toml:3")
    # what the declared pins require, from the table (sqlmodel 0.0.8 is not installed)
    assert "sqlmodel 0.0.8 (declared) requires pydantic<2.0.0,>=1.8.2" in \
        manifest.entry("pydantic").required_by


def test_poetry_caret_and_a_broken_installed_pair(tmp_path: Path) -> None:
    python = venv_with(tmp_path / "env", [
        ("fastapi", "0.99.1", ["pydantic<2.0.0,>=1.7.4"], ["fastapi"]),
        ("pydantic", "2.5.3", [], ["pydantic"]),
    ])
    project = tmp_path / "shop"
    project.mkdir()
    manifest = manifest_of(project, {
        "pyproject.toml": """
            [tool.poetry]
            name = "shop"
            version = "0.1.0"

            [tool.poetry.dependencies]
            python = "^3.10"
            fastapi = "^0.99"
            pydantic = {version = "^2.5", extras = ["email"]}
        """,
        "poetry.lock": """
            [[package]]
            name = "fastapi"
            version = "0.99.1"
        """,
    }, python)
    assert manifest.entry("fastapi").declared[0].requirement == "fastapi<0.100,>=0.99"
    assert manifest.entry("fastapi").locked == "0.99.1"
    pydantic = manifest.entry("pydantic")
    assert pydantic.verdict == CONFLICT
    assert pydantic.reason.endswith("fastapi 0.99.1 requires pydantic!=1.8,!=1.8.1,<2.0.0,"
                                    ">=1.7.4; pydantic[email]<3.0,>=2.5 is declared "
                                    "(pyproject.toml:8)")
    assert manifest.requires_python == "<4.0,>=3.10"
    # declared without versions: only the installed pair is broken (what pip check says)
    other = tmp_path / "loose"
    other.mkdir()
    loose = manifest_of(other, {"requirements.txt": "fastapi\npydantic\n"}, python)
    assert (loose.entry("pydantic").verdict, loose.entry("pydantic").reason) == (
        CONFLICT, "fastapi 0.99.1 requires pydantic<2.0.0,>=1.7.4; pydantic 2.5.3 is installed")


def test_unknown_interpreter_and_malformed_lines(tmp_path: Path) -> None:
    manifest = manifest_of(tmp_path, {
        "requirements.txt": "fastapi>=0.115\nsqlmodel >>= 1\n",
    }, tmp_path / "missing" / "python")
    assert manifest.environment_error
    assert manifest.entry("fastapi").verdict == UNKNOWN
    assert manifest.problems and manifest.problems[0].startswith("requirements.txt:2: ")
    assert all(e.installed is None for e in manifest.entries)
    json.dumps(manifest.to_dict())


def test_no_dependency_files(tmp_path: Path) -> None:
    python = venv_with(tmp_path / "env", [("sqlalchemy", "2.0.44", [], ["sqlalchemy"])])
    project = tmp_path / "shop"
    project.mkdir()
    manifest = manifest_of(project, {}, python)
    assert manifest.files == ()
    assert verdicts(manifest) == {"sqlalchemy": UNDECLARED}
