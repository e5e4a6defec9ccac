"""Declared dependencies read from real files in every supported format: requirement files with
includes, markers, extras, hashes and URLs; pyproject.toml (PEP 621, PEP 735, Poetry, PDM, uv);
setup.cfg; uv.lock and poetry.lock; and malformed input, which becomes problems."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from flake8_stability.config import Config
from flake8_stability.context import ProjectContext
from flake8_stability.dependencies.declared import DeclaredDependencies, load_declared
from flake8_stability.dependencies.pyproject_deps import poetry_specifier
from flake8_stability.dependencies.toml_lines import TomlLines


def write(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def rows(declared: DeclaredDependencies) -> List[Tuple[str, str, str, int]]:
    return [(r.name, str(r.requirement), r.path.name, r.line) for r in declared.requirements]


def problems(declared: DeclaredDependencies) -> List[Tuple[str, int, str]]:
    return [(p.path.name, p.line, p.message) for p in declared.problems]


def test_requirements_with_includes_markers_extras_hashes_and_urls(tmp_path: Path) -> None:
    write(tmp_path, {
        "requirements.txt": """
            # the app
            --index-url https://pypi.org/simple
            -r requirements/base.txt
            --constraint constraints.txt
            fastapi[standard]>=0.115 ; python_version >= "3.9"  # web framework
            sqlmodel==0.0.22 \\
                --hash=sha256:0123456789abcdef
            git+https://github.com/org/tools.git@v1#egg=org-tools
            https://files.example.com/wheels/foo_bar-1.2-py3-none-any.whl
            auth-lib @ https://files.example.com/auth_lib-1.0.tar.gz
            -e .
            -e git+https://github.com/org/editable.git#egg=editable_pkg
        """,
        "requirements/base.txt": "pydantic>=2.7\n-r common.txt\n",
        "requirements/common.txt": "anyio>=4\n",
        "constraints.txt": "-r more-constraints.txt\nstarlette<1.0\n",
        "more-constraints.txt": "pydantic<3\n",
        "requirements-dev.in": "pytest>=8\n",
    })
    declared = load_declared(tmp_path)
    found = {(name, path, line) for name, _, path, line in rows(declared)}
    assert {("fastapi", "requirements.txt", 5), ("sqlmodel", "requirements.txt", 6),
            ("org-tools", "requirements.txt", 8), ("foo-bar", "requirements.txt", 9),
            ("auth-lib", "requirements.txt", 10), ("editable-pkg", "requirements.txt", 12),
            ("pydantic", "base.txt", 1), ("anyio", "common.txt", 1),
            ("starlette", "constraints.txt", 2), ("pydantic", "more-constraints.txt", 1),
            ("pytest", "requirements-dev.in", 1)} == found
    fastapi = declared.for_name("FastAPI")[0]
    assert fastapi.requirement.extras == {"standard"} and fastapi.group is None
    assert fastapi.applies({"python_version": "3.11"})
    assert not fastapi.applies({"python_version": "3.8"})
    assert fastapi.applies({})  # no marker values known: it may apply
    assert str(declared.for_name("sqlmodel")[0].requirement.specifier) == "==0.0.22"
    constraints = {r.name for r in declared.requirements if r.constraint}
    assert constraints == {"starlette", "pydantic"}
    assert declared.declares("pydantic") and not declared.declares("starlette")
    pytest_entry = declared.for_name("pytest")[0]
    assert pytest_entry.group == "dev" and pytest_entry.development
    assert not declared.declares("pytest", main_only=True)
    assert [(n.line, "-e ." in n.message or "'.'" in n.message) for n in declared.notes] == [
        (11, True)]
    assert declared.problems == ()
    assert declared.declares_anything


def test_malformed_requirement_files_become_problems(tmp_path: Path) -> None:
    write(tmp_path, {
        "requirements.txt": """
            fastapi>=0.115
            this is not == a requirement
            -r missing.txt
            -r requirements/loop.txt
            sqlmodel
        """,
        "requirements/loop.txt": "-r ../requirements.txt\nuvicorn\n",
    })
    (tmp_path / "requirements-binary.txt").write_bytes(b"\x00\x01\x02fastapi")
    (tmp_path / "requirements-latin1.txt").write_bytes(b"fastapi\ncaf\xe9\n")
    declared = load_declared(tmp_path)
    assert {name for name, *_ in rows(declared)} == {"fastapi", "sqlmodel", "uvicorn"}
    found = problems(declared)
    assert ("requirements.txt", 2) in [(p, line) for p, line, _ in found]
    assert any("invalid requirement 'this is not == a requirement'" in m for *_, m in found)
    assert ("requirements.txt", 3, f"-r missing.txt: no such file ({tmp_path / 'missing.txt'})"
            ) in found
    assert ("loop.txt", 1, "include cycle: requirements.txt -> loop.txt -> requirements.txt"
            ) in found
    assert ("requirements-binary.txt", 1, "binary file, not a dependency list") in found
    assert ("requirements-latin1.txt", 2, "not UTF-8 text (invalid continuation byte)") in found


PYPROJECT = """
    [project]
    name = "Hero_API"
    requires-python = ">=3.10"
    dependencies = [
        "fastapi>=0.115",
        'sqlmodel>=0.0.22',
        "sqlalchemy[asyncio]>=2.0; python_version >= '3.10'",
    ]

    [project.optional-dependencies]
    postgres = ["asyncpg>=0.29"]
    docs = ["mkdocs"]

    [dependency-groups]
    test = ["pytest>=8", "httpx"]
    lint = ["ruff"]
    dev = [{include-group = "test"}, {include-group = "lint"}, "ipython"]

    [tool.pdm.dev-dependencies]
    debug = ["debugpy"]

    [tool.uv]
    dev-dependencies = ["mypy>=1.10"]
    constraint-dependencies = ["starlette<1"]
    override-dependencies = ["pydantic>=2.7"]
"""


def test_pyproject_pep621_pep735_pdm_and_uv(tmp_path: Path) -> None:
    declared = load_declared(write(tmp_path, {"pyproject.toml": PYPROJECT}))
    by_name = {r.name: r for r in declared.requirements}
    assert [(r.name, r.line, r.source, r.group) for r in declared.requirements[:5]] == [
        ("fastapi", 5, "pep621", None), ("sqlmodel", 6, "pep621", None),
        ("sqlalchemy", 7, "pep621", None), ("asyncpg", 11, "pep621", "postgres"),
        ("mkdocs", 12, "pep621", "docs")]
    assert by_name["sqlalchemy"].requirement.extras == {"asyncio"}
    assert by_name["mkdocs"].development and not by_name["asyncpg"].development
    dev = sorted((r.name, r.line) for r in declared.requirements if r.group == "dev"
                 and r.source == "pep735")
    assert dev == [("httpx", 15), ("ipython", 17), ("pytest", 15), ("ruff", 16)]
    assert (by_name["debugpy"].source, by_name["debugpy"].group, by_name["debugpy"].line) == (
        "pdm", "debug", 20)
    assert (by_name["mypy"].source, by_name["mypy"].line, by_name["mypy"].development) == (
        "uv", 23, True)
    assert by_name["starlette"].constraint and by_name["pydantic"].constraint
    assert declared.requires_python is not None
    assert declared.requires_python.specifier == SpecifierSet(">=3.10")
    assert declared.requires_python.line == 3
    assert declared.project_names == ("hero-api",)
    assert declared.declares("asyncpg") and not declared.declares("asyncpg", main_only=True)


POETRY = """
    [tool.poetry]
    name = "legacy-app"

    [tool.poetry.dependencies]
    python = "^3.9"
    fastapi = "^0.100.0"
    pydantic = "~2.5"
    uvicorn = {version = "^0.23", extras = ["standard"]}
    sqlalchemy = { version = ">=2.0,<2.1", markers = "sys_platform != 'win32'" }
    greenlet = {version = "*", python = "<3.13"}
    orjson = {version = "3.9.10", optional = true}
    mylib = {git = "https://github.com/org/mylib.git", branch = "main"}
    shared = {path = "../shared", develop = true}
    old = [
        {version = "^0.0.8", python = "<3.10"},
        {version = "^1.0", python = ">=3.10"},
    ]

    [tool.poetry.extras]
    fast = ["orjson"]

    [tool.poetry.dev-dependencies]
    black = "^23.1"

    [tool.poetry.group.test.dependencies]
    pytest = ">=7.4 <9"

    [tool.poetry.group.test.dependencies.pytest-asyncio]
    version = "^0.21"
"""


def test_poetry_sections(tmp_path: Path) -> None:
    declared = load_declared(write(tmp_path, {"pyproject.toml": POETRY}))
    specs = {(r.name, str(r.requirement.specifier)) for r in declared.requirements}
    assert {("fastapi", "<0.101.0,>=0.100.0"), ("pydantic", "<2.6,>=2.5"),
            ("uvicorn", "<0.24,>=0.23"), ("sqlalchemy", "<2.1,>=2.0"), ("greenlet", ""),
            ("orjson", "==3.9.10"), ("mylib", ""), ("shared", ""), ("old", "<0.0.9,>=0.0.8"),
            ("old", "<2.0,>=1.0"), ("black", "<24.0,>=23.1"), ("pytest", "<9,>=7.4"),
            ("pytest-asyncio", "<0.22,>=0.21")} == specs
    by_name = {r.name: r for r in declared.requirements}
    assert by_name["uvicorn"].requirement.extras == {"standard"}
    assert str(by_name["sqlalchemy"].requirement.marker) == 'sys_platform != "win32"'
    assert str(by_name["greenlet"].requirement.marker) == 'python_version < "3.13"'
    assert by_name["greenlet"].applies({"python_version": "3.12", "sys_platform": "linux"})
    assert not by_name["greenlet"].applies({"python_version": "3.13"})
    assert by_name["orjson"].group == "fast" and not by_name["orjson"].development
    assert by_name["black"].group == "dev" and by_name["black"].development
    assert by_name["pytest"].group == "test" and by_name["pytest-asyncio"].line == 28
    assert [(r.name, r.line) for r in declared.requirements[:3]] == [
        ("fastapi", 6), ("pydantic", 7), ("uvicorn", 8)]
    assert [r.line for r in declared.for_name("old")] == [14, 14]
    assert declared.requires_python is not None
    assert declared.requires_python.specifier == SpecifierSet(">=3.9,<4.0")
    assert (declared.requires_python.source, declared.requires_python.line) == ("poetry", 5)
    assert declared.project_names == ("legacy-app",)


@pytest.mark.parametrize("constraint,expected", [
    ("^1.8.2", ">=1.8.2,<2.0.0"), ("^0.2.3", ">=0.2.3,<0.3.0"), ("^0.0.8", ">=0.0.8,<0.0.9"),
    ("^0", ">=0,<1"), ("^0.0", ">=0.0,<0.1"), ("^2", ">=2,<3"), ("~1.2.3", ">=1.2.3,<1.3.0"),
    ("~1.2", ">=1.2,<1.3"), ("~1", ">=1,<2"), ("*", ""), ("1.2.3", "==1.2.3"),
    (">=1.2, <2.0", ">=1.2,<2.0"), (">= 1.2 < 2", ">=1.2,<2"), ("~=1.4", "~=1.4"),
    ("1.2.*", "==1.2.*"), ("^1.0 || ^2.0", ""),
])
def test_poetry_constraints_become_pep440(constraint: str, expected: str) -> None:
    assert poetry_specifier(constraint) == SpecifierSet(expected)


def test_poetry_constraint_that_cannot_be_read() -> None:
    assert poetry_specifier("^not.a.version") is None


def test_setup_cfg(tmp_path: Path) -> None:
    declared = load_declared(write(tmp_path, {"setup.cfg": """
        [metadata]
        name = cfg_app

        [options]
        python_requires = >=3.9
        install_requires =
            fastapi>=0.100
            sqlmodel; python_version >= "3.8"
            not valid ((

        [options.extras_require]
        postgres =
            asyncpg
        test =
            pytest
    """}))
    assert [(r.name, r.line, r.group) for r in declared.requirements] == [
        ("fastapi", 7, None), ("sqlmodel", 8, None), ("asyncpg", 13, "postgres"),
        ("pytest", 15, "test")]
    assert declared.requires_python is not None and declared.requires_python.line == 5
    assert [(p, line) for p, line, _ in problems(declared)] == [("setup.cfg", 9)]
    assert declared.project_names == ("cfg-app",)


def test_lock_files(tmp_path: Path) -> None:
    declared = load_declared(write(tmp_path, {
        "uv.lock": """
            version = 1
            requires-python = ">=3.11"

            [[package]]
            name = "app"
            source = { editable = "." }

            [[package]]
            name = "FastAPI"
            version = "0.115.6"
            source = { registry = "https://pypi.org/simple" }

            [[package]]
            name = "starlette"
            version = "0.41.3"
        """,
        "poetry.lock": """
            [[package]]
            name = "fastapi"
            version = "0.99.0"

            [[package]]
            name = "pydantic"
            version = "1.10.13"
            description = "Data validation"

            [metadata]
            lock-version = "2.0"
        """,
    }))
    locked = {name: (str(v.version), v.path.name, v.line) for name, v in declared.locked.items()}
    assert locked == {"fastapi": ("0.115.6", "uv.lock", 9), "starlette": ("0.41.3", "uv.lock", 14),
                      "pydantic": ("1.10.13", "poetry.lock", 6)}
    assert declared.locked["fastapi"].version == Version("0.115.6")
    assert not declared.declares_anything  # a lock file alone lists no dependencies


def test_broken_toml_and_bad_entries_are_problems(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": """
            [project]
            dependencies = [
                "fastapi>=0.115",
                "sqlmodel >>= 1",
            ]
            requires-python = ">=3.9,<<4"

            [dependency-groups]
            dev = [{include-group = "missing"}, "pytest"]

            [tool.poetry.dependencies]
            pydantic = "^x.y"
        """,
        "poetry.lock": "[[package]\nname = 'broken'\n",
        "requirements.txt": "uvicorn\n",
    })
    declared = load_declared(tmp_path)
    assert {r.name for r in declared.requirements} == {"fastapi", "pytest", "uvicorn"}
    found = {(p, line) for p, line, _ in problems(declared)}
    assert {("pyproject.toml", 4), ("pyproject.toml", 6), ("pyproject.toml", 9),
            ("pyproject.toml", 12), ("poetry.lock", 1)} == found
    assert any(m.startswith("invalid TOML") for *_, m in problems(declared))


def test_include_group_cycle_is_a_problem(tmp_path: Path) -> None:
    declared = load_declared(write(tmp_path, {"pyproject.toml": """
        [dependency-groups]
        a = [{include-group = "b"}, "ruff"]
        b = [{include-group = "a"}, "pytest"]
    """}))
    assert {r.name for r in declared.requirements} == {"ruff", "pytest"}
    assert any("include cycle" in m for *_, m in problems(declared))


def test_no_dependency_files(tmp_path: Path) -> None:
    declared = load_declared(write(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n"}))
    assert not declared.declares_anything and declared.requirements == ()
    assert declared.dependency_list() is None and declared.problems == ()


def test_cached_until_a_file_changes(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "fastapi\n"})
    first = load_declared(tmp_path)
    assert load_declared(tmp_path) is first
    write(tmp_path, {"requirements.txt": "fastapi\nsqlmodel\n"})
    stat = os.stat(tmp_path / "requirements.txt")
    os.utime(tmp_path / "requirements.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert {r.name for r in load_declared(tmp_path).requirements} == {"fastapi", "sqlmodel"}
    write(tmp_path, {"requirements-dev.txt": "pytest\n"})
    assert load_declared(tmp_path).declares("pytest")


def test_project_context_reads_the_working_dir_too(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n",
                     "backend/requirements.txt": "fastapi\n",
                     "Dockerfile": "FROM python:3.12\nWORKDIR /app\nCOPY backend/ /app/\n"
                                   'CMD ["uvicorn", "main:app"]\n',
                     "backend/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
    project = ProjectContext(tmp_path, Config())
    assert project.layout.working_dir == tmp_path / "backend"
    assert [(r.name, r.path) for r in project.declared.requirements] == [
        ("fastapi", tmp_path / "backend" / "requirements.txt")]


def test_toml_lines_find_keys_items_and_headers() -> None:
    lines = TomlLines(textwrap.dedent("""
        [project]
        dependencies = ["a", "b"]
        optional-dependencies.web = [
            "c",
        ]
        [[package]]
        name = "x"
        [[package]]
        name = "y"
        [tool."poetry".dependencies]
        fastapi = "^0.100"
    """).lstrip("\n"))
    assert lines.item(("project",), "dependencies", "b") == 2
    assert lines.item(("project", "optional-dependencies"), "web", "c") == 4
    assert lines.key(("package",), "name", 1) == 9
    assert lines.key(("tool", "poetry", "dependencies"), "fastapi") == 11
    assert lines.key(("tool", "poetry", "dependencies"), "missing") is None


def test_credentials_in_urls_are_masked(tmp_path: Path) -> None:
    declared = load_declared(write(tmp_path, {"requirements.txt": """
        private @ git+https://deploy:s3cret@git.example.com/org/private.git
        git+https://ghp_T0KEN@github.com/org/nameless.git
        broken @@ https://ghp_T0KEN@github.com/org/x.git
    """}))
    [private] = declared.requirements
    assert private.shown() == "private @ git+https://***@git.example.com/org/private.git"
    messages = " ".join(p.message for p in (*declared.problems, *declared.notes))
    assert "T0KEN" not in messages and "***@github.com" in messages
