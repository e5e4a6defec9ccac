"""Requirement-file fixes (SBA205, SBA206, SBA207, SBA210) end to end: real fixture projects,
findings from the real engine judged with a real second interpreter (hand-written
distributions, `rules/_dependency_envs.py`), `stability-fix` run as a subprocess for the diff
(`git apply`-able), the write (bytes outside the edit kept, CRLF, no final newline) and
idempotence; every edited line parses with `packaging`, pip resolves it to the package the
failure asks for, and with that package installed the finding is gone. Forms that cannot be
edited safely are skipped with their reason."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from rules._dependency_envs import Dist, venv_with

from flake8_stability.dependencies.toml_lines import loads
from flake8_stability.engine import ProjectAudit, audit
from flake8_stability.fix.apply import fix_files
from flake8_stability.fix.requirement_text import (REQUIREMENTS, TOML, AddExtra,
                                                   AddUpperBound, find)

from .test_cli import fix_cli

FIXED_CODES = ("SBA204", "SBA205", "SBA206", "SBA207", "SBA210")
FASTAPI = ("fastapi", "0.165.0", ["starlette>=0.40", "pydantic>=2.7",
                                  'python-multipart>=0.0.18; extra == "standard"'], ["fastapi"])
FASTAPI_OLD = ("fastapi", "0.99.1", ["starlette>=0.27", "pydantic>=1.7.4,<2",
                                     'python-multipart>=0.0.5; extra == "all"'], ["fastapi"])
STARLETTE = ("starlette", "1.10.0", [], ["starlette"])
PYDANTIC = ("pydantic", "2.14.4", ["email-validator>=2.0.0; extra == 'email'"], ["pydantic"])
PYDANTIC_1 = ("pydantic", "1.10.13", ["email-validator>=1.0.3; extra == 'email'"], ["pydantic"])
SQLALCHEMY = ("SQLAlchemy", "2.1.9", ['greenlet>=1; extra == "asyncio"'], ["sqlalchemy"])
AIOSQLITE = ("aiosqlite", "0.22.1", [], ["aiosqlite"])
# What pip installs for each fixed requirement, as the module it provides.
MODULES = {"greenlet": "greenlet", "email-validator": "email_validator",
           "python-multipart": "python_multipart"}

APP = '''\
from fastapi import FastAPI, Form
from pydantic import BaseModel, EmailStr
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
app = FastAPI()


class Signup(BaseModel):
    email: EmailStr


@app.post("/login")
async def login(name: str = Form(...)):
    return {"name": name}
'''
REQUIREMENTS_TXT = (b"# the app's dependencies\r\n"
                    b"fastapi>=0.115  # web framework\r\n"
                    b"sqlalchemy>=2.0 ; python_version >= \"3.9\"\r\n"
                    b"\r\n"
                    b"aiosqlite==0.22.1")  # no final newline
FIXED_TXT = (b"# the app's dependencies\r\n"
             b"fastapi>=0.115  # web framework\r\n"
             b"python-multipart>=0.0.18\r\n"
             b"email-validator>=2.0.0\r\n"
             b"sqlalchemy[asyncio]>=2.0 ; python_version >= \"3.9\"\r\n"
             b"\r\n"
             b"aiosqlite==0.22.1")


@pytest.fixture(scope="module")
def env_without(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An interpreter with the web stack and SQLAlchemy 2.1, but no greenlet, email-validator
    or python-multipart."""
    return venv_with(tmp_path_factory.mktemp("before"),
                     [FASTAPI, STARLETTE, PYDANTIC, SQLALCHEMY, AIOSQLITE])


def project(root: Path, python: Path, files: Dict[str, bytes], *,
            pyproject: str = "[project]\nname = 'shop'\n") -> Path:
    """A backend at `root` judged with `python`, with `files` besides its app."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f"{pyproject}\n[tool.flake8-stability]\npython = '{python}'\n")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(APP)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def codes(root: Path) -> List[str]:
    return sorted(f.code for result in audit([root]) for f in result.findings
                  if f.code in FIXED_CODES)


def changed_lines(diff: str) -> List[str]:
    return [line[1:].strip() for line in diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")]


def pip_resolves(requirements: Sequence[str]) -> Dict[str, str]:
    """What `pip install` would install for `requirements` (name -> version), asked of the
    package index with pip's own resolver; the test is skipped when the index is unreachable."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
         "--only-binary", ":all:", "--quiet", "--report", "-", *requirements],
        capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"pip cannot resolve {requirements} here: {done.stderr.strip()[-300:]}")
    report = json.loads(done.stdout)
    return {item["metadata"]["name"].lower(): item["metadata"]["version"]
            for item in report["install"]}


def test_requirements_txt_fixes_diff_write_and_idempotence(tmp_path: Path,
                                                           env_without: Path) -> None:
    root = project(tmp_path / "shop", env_without, {"requirements.txt": REQUIREMENTS_TXT})
    assert codes(root) == ["SBA205", "SBA206", "SBA207"]

    shown = fix_cli(root)
    assert shown.returncode == 1, shown.stderr
    assert "# stability-fix: requirements.txt: add-python-multipart, pydantic-email-extra, " \
           "sqlalchemy-asyncio-extra" in shown.stdout
    assert "# note: re-install: pip install -r requirements.txt" in shown.stdout
    assert (root / "requirements.txt").read_bytes() == REQUIREMENTS_TXT
    for line in changed_lines(shown.stdout):
        Requirement(line)
    applies = tmp_path / "copy"
    shutil.copytree(root, applies)
    subprocess.run(["git", "init", "-q"], cwd=applies, check=True)
    checked = subprocess.run(["git", "apply", "--check", "-"], cwd=applies,
                             input=fix_cli(root, text=False).stdout, capture_output=True)
    assert checked.returncode == 0, checked.stderr

    written = fix_cli(root, "--write")
    assert written.returncode == 0, written.stderr
    assert (root / "requirements.txt").read_bytes() == FIXED_TXT
    assert (root / "app" / "main.py").read_text() == APP
    subprocess.run(["git", "apply", "-"], cwd=applies, check=True,
                   input=fix_cli(tmp_path / "copy", text=False).stdout)
    assert (applies / "requirements.txt").read_bytes() == FIXED_TXT

    again = fix_cli(root, "--write")
    assert "nothing to fix" in again.stdout and "already declared" in again.stderr
    assert (root / "requirements.txt").read_bytes() == FIXED_TXT
    quiet = fix_cli(root)
    assert (quiet.returncode, quiet.stdout) == (0, "")


def test_pip_resolves_the_fixed_lines_to_what_the_failures_ask_for_and_the_findings_go(
        tmp_path: Path, env_without: Path) -> None:
    root = project(tmp_path / "shop", env_without, {"requirements.txt": REQUIREMENTS_TXT})
    fix_cli(root, "--write")
    edited = [line for line in (root / "requirements.txt").read_text().splitlines()
              if line.startswith(("sqlalchemy", "python-multipart", "email-validator"))]
    resolved = pip_resolves(edited)
    assert {"sqlalchemy", "greenlet", "python-multipart", "email-validator"} <= set(resolved)
    installed: List[Dist] = [(name, resolved[name], [], [module])
                             for name, module in MODULES.items()]
    after = venv_with(tmp_path / "after",
                      [FASTAPI, STARLETTE, PYDANTIC, SQLALCHEMY, AIOSQLITE, *installed])
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(str(env_without), str(after)))
    assert codes(root) == []


def test_pep621_array_items_are_edited_inside_their_quotes(tmp_path: Path) -> None:
    old = venv_with(tmp_path / "env", [FASTAPI_OLD, STARLETTE, PYDANTIC_1, SQLALCHEMY,
                                       AIOSQLITE])
    root = project(tmp_path / "shop", old, {}, pyproject=(
        "[project]\n"
        "name = 'shop'\n"
        "dependencies = [\n"
        "    'fastapi>=0.95',  # web\n"
        '    "sqlalchemy>=2.0", "aiosqlite"\n'
        "]\n"
        "[project.optional-dependencies]\n"
        'test = ["pytest"]\n'))
    assert codes(root) == ["SBA205", "SBA206", "SBA207", "SBA210"]

    done = fix_cli(root, "--write")
    assert done.returncode == 0, done.stderr
    text = (root / "pyproject.toml").read_text()
    assert text.startswith(
        "[project]\n"
        "name = 'shop'\n"
        "dependencies = [\n"
        "    'fastapi>=0.95,<0.100.0',  # web\n"
        "    'python-multipart>=0.0.5',\n"
        "    'email-validator>=1.0.3',\n"
        '    "sqlalchemy[asyncio]>=2.0", "aiosqlite"\n'
        "]\n"
        "[project.optional-dependencies]\n"
        'test = ["pytest"]\n')
    dependencies = [Requirement(item) for item in loads(text)["project"]["dependencies"]]
    assert [str(r) for r in dependencies] == [
        "fastapi<0.100.0,>=0.95", "python-multipart>=0.0.5", "email-validator>=1.0.3",
        "sqlalchemy[asyncio]>=2.0", "aiosqlite"]
    assert "SBA210" not in codes(root)  # declared, so gone without a re-install
    assert fix_cli(root).stdout == ""


def test_a_rewrite_and_an_added_item_share_an_inline_array(
        tmp_path: Path, env_without: Path) -> None:
    root = project(tmp_path / "shop", env_without, {}, pyproject=(
        "[project]\nname = 'shop'\n"
        'dependencies = ["fastapi>=0.115", "pydantic>=2.7", "sqlalchemy>=2.0"]\n'))
    fix_cli(root, "--write")
    line = (root / "pyproject.toml").read_text().splitlines()[2]
    assert line == ('dependencies = ["fastapi>=0.115", "python-multipart>=0.0.18", '
                    '"pydantic[email]>=2.7", "sqlalchemy[asyncio]>=2.0"]')


def skipped(root: Path) -> Tuple[Set[str], List[str]]:
    """The files stability-fix would change and the reasons it gives for the findings."""
    results: List[ProjectAudit] = audit([root])
    fixes = fix_files([f for r in results for f in r.findings if f.code in FIXED_CODES],
                      projects=[r.project for r in results])
    return ({Path(f.path).name for f in fixes if f.changed},
            [s.reason for f in fixes for s in f.skipped])


@pytest.mark.parametrize("files, pyproject, reason", [
    ({}, "[tool.poetry]\nname = 'shop'\n[tool.poetry.dependencies]\npython = '^3.11'\n"
         "fastapi = '>=0.115'\nsqlalchemy = '>=2.0'\n", "Poetry table"),
    ({"requirements.txt": b"fastapi>=0.115\nsqlalchemy>=2.0\n"},
     "[project]\nname = 'shop'\ndependencies = ['pydantic>=2']\n", "several files"),
    ({"requirements.txt": b"fastapi>=0.115\n"
                          b"sqlalchemy @ https://example.org/SQLAlchemy-2.1.9.tar.gz\n"},
     "[project]\nname = 'shop'\n", "declared as a URL"),
    ({"requirements.txt": b"fastapi==0.165.0 \\\n    --hash=sha256:" + b"0" * 64 + b"\n"
                          b"sqlalchemy==2.1.9 \\\n    --hash=sha256:" + b"1" * 64 + b"\n"},
     "[project]\nname = 'shop'\n", "hash-checking mode"),
    ({}, "[project]\nname = 'shop'\n", "declares no dependencies"),
], ids=["poetry", "two-files", "url", "hashes", "nowhere"])
def test_forms_it_cannot_edit_safely_are_skipped_with_a_reason(
        tmp_path: Path, env_without: Path, files: Dict[str, bytes], pyproject: str,
        reason: str) -> None:
    root = project(tmp_path / "shop", env_without, files, pyproject=pyproject)
    before = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    changed, reasons = skipped(root)
    if reason == "declared as a URL":  # python-multipart and email-validator still go in
        assert changed == {"requirements.txt"}
    else:
        assert changed == set()
    assert "SBA205" in codes(root) and any(reason in why for why in reasons), reasons
    fix_cli(root, "--write")
    after = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    assert (after == before) is (reason != "declared as a URL")


def test_no_cap_when_the_installed_version_is_past_the_break(
        tmp_path: Path, env_without: Path) -> None:
    root = project(tmp_path / "shop", env_without, {}, pyproject=(
        "[project]\nname = 'shop'\n"
        'dependencies = ["fastapi>=0.115", "pydantic>=1.10", "sqlalchemy[asyncio]>=2.0"]\n'))
    _, reasons = skipped(root)
    assert "SBA210" in codes(root)
    assert any("the installed pydantic 2.14.4 is not below 2.0" in why for why in reasons)


@pytest.mark.parametrize("rewrite, before, after", [
    (AddExtra("asyncio"), "sqlalchemy>=2.0", "sqlalchemy[asyncio]>=2.0"),
    (AddExtra("asyncio"), "SQLAlchemy [mypy] >= 2.0", "SQLAlchemy [mypy,asyncio] >= 2.0"),
    (AddExtra("email"), 'pydantic ; python_version < "4"',
     'pydantic[email] ; python_version < "4"'),
    (AddExtra("email"), "pydantic[email]>=2", "pydantic[email]>=2"),
    (AddExtra("asyncio"), "sqlalchemy @ https://example.org/sqlalchemy.whl", None),
    (AddUpperBound("2.0"), "sqlalchemy>=1.4", "sqlalchemy>=1.4,<2.0"),
    (AddUpperBound("2.0"), 'sqlalchemy >= 1.4 ; os_name == "posix"',
     'sqlalchemy >= 1.4,<2.0 ; os_name == "posix"'),
    (AddUpperBound("2.0"), "sqlalchemy (>=1.4)", "sqlalchemy (>=1.4,<2.0)"),
    (AddUpperBound("2.0"), "sqlalchemy>=1.4,<1.5", "sqlalchemy>=1.4,<1.5"),
    (AddUpperBound("2.0"), "sqlalchemy", None),
])
def test_rewrites_mean_the_old_requirement_plus_the_change(
        rewrite: object, before: str, after: Optional[str]) -> None:
    assert rewrite.apply(before) == after  # type: ignore[attr-defined]


@pytest.mark.parametrize("form, line, found", [
    (REQUIREMENTS, "  sqlalchemy>=2.0 --hash=sha256:abc  # pinned", "sqlalchemy>=2.0"),
    (REQUIREMENTS, "sqlalchemy>=2.0 \\", "sqlalchemy>=2.0"),
    (REQUIREMENTS, "-e git+https://example.org/sqlalchemy.git#egg=sqlalchemy", None),
    (REQUIREMENTS, "# sqlalchemy>=2.0", None),
    (TOML, '    "sqlalchemy>=2.0",  # "fastapi"', "sqlalchemy>=2.0"),
    (TOML, "deps = ['fastapi', 'sqlalchemy']", "sqlalchemy"),
    (TOML, '    "sqlalchemy\\u003e=2.0",', None),
])
def test_the_requirement_is_found_on_its_line(form: str, line: str,
                                              found: Optional[str]) -> None:
    span = find(line, "SQLAlchemy", form)
    assert (span.text(line) if span else None) == found


DRIVERS_APP = '''\
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
reports = create_engine("postgresql+psycopg2://app:secret@db/reports")
'''


def test_the_missing_driver_is_added_after_sqlalchemy(tmp_path: Path,
                                                      env_without: Path) -> None:
    root = project(tmp_path / "shop", env_without, {
        "requirements.txt": b"sqlalchemy[asyncio]>=2.0\nfastapi>=0.115\n",
        "app/db.py": DRIVERS_APP.encode()})
    results = audit([root])
    found = [f for r in results for f in r.findings if f.code == "SBA204"]
    assert len(found) == 2
    fixes = fix_files(found, projects=[r.project for r in results])
    changed = [fix for fix in fixes if fix.changed]
    assert [Path(fix.path).name for fix in changed] == ["requirements.txt"]
    assert changed[0].after == b"sqlalchemy[asyncio]>=2.0\nasyncpg\nfastapi>=0.115\n"
    reasons = [s.reason for fix in fixes for s in fix.skipped]
    assert reasons == ["the psycopg2 driver comes in psycopg2 or psycopg2-binary: declare the "
                       "one you deploy"]
    assert "secret" not in "".join(reasons)
    (root / "requirements.txt").write_bytes(changed[0].after)
    after = venv_with(tmp_path / "after", [FASTAPI, STARLETTE, PYDANTIC, SQLALCHEMY,
                                           AIOSQLITE, ("asyncpg", "0.31.0", [], ["asyncpg"])])
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(str(env_without), str(after)))
    still = [f.line for r in audit([root]) for f in r.findings if f.code == "SBA204"]
    assert still == [5]  # only the psycopg2 engine, left to the user


PIECES = [*"sqlalchemy[]<>=!~,.;@ #\\\"'-_2()\t", "sqlalchemy", "asyncio", " == ", "1.4"]


@settings(max_examples=200, deadline=None)
@given(line=st.lists(st.sampled_from(PIECES), max_size=20).map("".join),
       form=st.sampled_from([REQUIREMENTS, TOML]))
def test_any_line_is_found_and_rewritten_safely_or_left_alone(line: str, form: str) -> None:
    span = find(line, "sqlalchemy", form)
    if span is None:
        return
    text = span.text(line)
    old = Requirement(text)
    for rewrite in (AddExtra("asyncio"), AddUpperBound("2.0")):
        new = rewrite.apply(text)
        if new is not None:
            result = Requirement(new)
            assert (result.name, result.marker) == (old.name, old.marker)
            assert result.extras >= old.extras
