"""The flake8 door as users run it: flake8 in a subprocess, on small projects."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from importlib.metadata import version
from typing import Dict, List, Set, Tuple

import pytest
from flake8.options.manager import OptionManager
from packaging.version import Version

from flake8_runner import Flake8Run, run_flake8
from flake8_stability.findings import Category, Severity
from flake8_stability.plugin import StabilityChecker
from flake8_stability.rules import Rule

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*(SBA\d{3})")
PASSWORD = "s3cr3t-Pa55"
# Tests that judge a bare postgresql:// with the running interpreter expect SQLAlchemy 2.1,
# where it loads psycopg (async-capable) instead of psycopg2.
needs_sqlalchemy_21 = pytest.mark.skipif(
    Version(version("sqlalchemy")) < Version("2.1.0b1"), reason="needs SQLAlchemy >= 2.1 here")

BARE_POSTGRES = '''\
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("postgresql://u:p@h/db")
'''
SQLITE_ASYNC = '''\
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("sqlite:///./app.db")
'''


def write(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def python_setting(python: object) -> str:
    return f"\n[tool.flake8-stability]\npython = '{python}'\n"


def project(root: Path, files: Dict[str, str], config: str = "") -> Path:
    """A project folder: a pyproject.toml (with `config` appended) and `files`."""
    return write(root, {"pyproject.toml": "[project]\nname = 'door'\n" + config, **files})


def found(run: Flake8Run) -> Set[Tuple[str, int, str]]:
    """(path relative to the run's folder, line, code) of every result."""
    return {(Path(r.path).as_posix(), r.line, r.code) for r in run.results}


def internal_errors(stderr: str) -> List[str]:
    return [line for line in stderr.splitlines() if "internal error" in line]


# -- the same findings whatever the number of jobs ---------------------------------------------

@pytest.fixture
def door_project(tmp_path: Path) -> Path:
    """A small FastAPI + SQLModel backend (a copy: the repository's config excludes fixtures)."""
    return Path(shutil.copytree(FIXTURES / "door", tmp_path / "door"))


def expected_markers(root: Path) -> Set[Tuple[str, int, str]]:
    marked = set()
    for path in root.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for code in _EXPECT.findall(line):
                marked.add((path.relative_to(root).as_posix(), number, code))
    return marked


def test_jobs_2_reports_what_jobs_1_reports(door_project: Path) -> None:
    serial = run_flake8(["--jobs", "1", "."], cwd=door_project)
    parallel = run_flake8(["--jobs", "2", "."], cwd=door_project)
    expected = expected_markers(door_project)
    assert len({path for path, _, _ in expected}) >= 4
    assert found(serial) == expected
    assert sorted(parallel.results, key=str) == sorted(serial.results, key=str)
    assert not internal_errors(serial.stderr + parallel.stderr)


# -- selection and suppression are flake8's own ------------------------------------------------

NOQA = {
    "db.py": '''\
        import os

        from sqlalchemy.ext.asyncio import create_async_engine

        plain = create_async_engine("sqlite:///./a.db")
        coded = create_async_engine("sqlite:///./b.db")  # noqa: SBA302
        bare = create_async_engine("sqlite:///./c.db")  # noqa
        other = create_async_engine("sqlite:///./d.db")  # noqa: F401
        several = create_async_engine("sqlite:///./e.db")  # noqa: E501,SBA302
    ''',
    "sync.py": '''\
        from sqlalchemy import create_engine

        engine = create_engine("sqlite+aiosqlite:///./app.db")
    ''',
}


def test_noqa_suppresses(tmp_path: Path) -> None:
    run = run_flake8(["."], cwd=project(tmp_path, NOQA))
    assert run.lines_of("SBA302", "db.py") == [5, 8]
    assert run.lines_of("SBA301", "sync.py") == [3]


def test_extend_ignore_drops_one_code(tmp_path: Path) -> None:
    run = run_flake8(["--extend-ignore", "SBA302", "."], cwd=project(tmp_path, NOQA))
    assert run.codes() == ["SBA301"]


def test_select_f_extend_select_sba_reports_both_families(tmp_path: Path) -> None:
    run = run_flake8(["--extend-select", "SBA", "."], cwd=project(tmp_path, NOQA), select="F")
    assert run.lines_of("F401", "db.py") == [1]
    assert run.lines_of("SBA302", "db.py") == [5, 8]
    assert {r.code[0] for r in run.results} == {"F", "S"}


def test_default_selection_includes_sba(tmp_path: Path) -> None:
    run = run_flake8(["."], cwd=project(tmp_path, NOQA), select=None)
    assert run.lines_of("SBA302", "db.py") == [5, 8]
    assert run.lines_of("SBA301", "sync.py") == [3]
    assert "F401" in run.codes("db.py")


OPT_IN_DRIVER = '''
import sys
from flake8_stability.findings import Category, Severity
from flake8_stability.rules import Rule

class OptIn(Rule):
    code = "SBA398"
    name = "opt-in-probe"
    severity = Severity.WARNING
    category = Category.DATABASE
    summary = what = why = how_to_fix = "test rule"
    enabled_by_default = False

    def check_module(self, module):
        yield self.report(module, module.tree, "opt-in finding", "test", "test")

from flake8.main.cli import main
main(sys.argv[1:])
'''


@pytest.mark.parametrize("args,reported", [
    ([], False),
    (["--extend-select", "SBA398"], True),
    (["--select", "SBA398"], True),
], ids=["default", "extend-select", "select"])
def test_rule_off_by_default_needs_selecting(tmp_path: Path, args: List[str],
                                             reported: bool) -> None:
    run = run_flake8([*args, "."], cwd=project(tmp_path, {"db.py": SQLITE_ASYNC}),
                     select=None, driver=OPT_IN_DRIVER)
    assert ("SBA398" in run.codes()) is reported
    assert ("SBA302" in run.codes()) is (args != ["--select", "SBA398"])


def test_add_options_on_flake8s_option_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    class OptIn(Rule):  # no `code` in the class body: not registered by subclassing
        name = "opt-in-probe"
        severity = Severity.WARNING
        category = Category.DATABASE
        enabled_by_default = False

    OptIn.code = "SBA397"
    monkeypatch.setitem(Rule._registry, "SBA397", OptIn)
    monkeypatch.setattr(StabilityChecker, "python_option", None)
    manager = OptionManager(version="test", plugin_versions="", parents=[], formatter_names=[])
    StabilityChecker.add_options(manager)
    assert sorted(manager.extended_default_ignore) == ["SBA397", "SBA603"]
    StabilityChecker.parse_options(manager.parse_args(["--stability-python", "/opt/py/bin/python"]))
    assert StabilityChecker.python_option == "/opt/py/bin/python"


# -- editors lint the unsaved buffer -------------------------------------------------------------

def test_stdin_lints_the_buffer_not_the_file(tmp_path: Path) -> None:
    on_disk = SQLITE_ASYNC.replace("sqlite://", "sqlite+aiosqlite://")
    root = project(tmp_path, {"src/db.py": on_disk})
    buffer = SQLITE_ASYNC + "\nother = create_async_engine('sqlite://')\n"
    run = run_flake8(["-", "--stdin-display-name", "src/db.py"], cwd=root, stdin=buffer)
    assert [(r.path, r.line, r.code) for r in run.results] == [
        ("src/db.py", 3, "SBA302"), ("src/db.py", 5, "SBA302")]


@pytest.fixture(scope="module")
def sqlalchemy_20_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real second interpreter whose only distribution is SQLAlchemy 2.0.44 (metadata only:
    the plugin reads versions, it never imports the project's packages)."""
    venv = tmp_path_factory.mktemp("sa20") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    dist_info = Path(purelib) / "SQLAlchemy-2.0.44.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: SQLAlchemy\nVersion: 2.0.44\n")
    return python


@needs_sqlalchemy_21
def test_stdin_finds_the_project_from_the_display_name(
        tmp_path: Path, sqlalchemy_20_python: Path) -> None:
    """The buffer is judged with the configuration of the project the display name is in,
    wherever the editor runs flake8 from."""
    sa20 = project(tmp_path / "sa20", {}, python_setting(sqlalchemy_20_python))
    plain = project(tmp_path / "plain", {}, python_setting(sys.executable))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for root, expected in ((sa20, ["SBA302"]), (plain, [])):
        display = str(root / "app" / "db.py")  # a new, unsaved file: not on disk
        run = run_flake8(["-", "--stdin-display-name", display], cwd=elsewhere, stdin=BARE_POSTGRES)
        assert run.codes() == expected, run.stderr
        assert all(r.path == display for r in run.results)


# -- the interpreter whose versions are judged --------------------------------------------------

@needs_sqlalchemy_21
def test_project_python_chooses_the_versions(tmp_path: Path, sqlalchemy_20_python: Path) -> None:
    files = {"db.py": BARE_POSTGRES}
    venv = sqlalchemy_20_python.parent.parent
    project(tmp_path / "absolute", files, python_setting(sqlalchemy_20_python))
    project(tmp_path / "relative", files, python_setting("env/bin/python"))
    (tmp_path / "relative" / "env").symlink_to(venv, target_is_directory=True)
    project(tmp_path / "dotvenv", files)
    (tmp_path / "dotvenv" / ".venv").symlink_to(venv, target_is_directory=True)
    project(tmp_path / "main", files, python_setting(sys.executable))
    project(tmp_path / "missing", files, python_setting("/nonexistent/python"))
    run = run_flake8(["--jobs", "1", "."], cwd=tmp_path)
    by_folder = {Path(r.path).parts[0]: r for r in run.results}
    assert sorted(by_folder) == ["absolute", "dotvenv", "missing", "relative"], run.stderr
    for folder in ("absolute", "dotvenv", "relative"):
        assert by_folder[folder].text.endswith("driver psycopg2 is not async [blocking]")
    assert by_folder["missing"].text.endswith("[warning]")  # versions unknown: not sure
    assert run.stderr.count("configured interpreter is unusable") == 1, run.stderr


@needs_sqlalchemy_21
def test_stability_python_option_overrides_the_project(
        tmp_path: Path, sqlalchemy_20_python: Path) -> None:
    project(tmp_path / "configured", {"db.py": BARE_POSTGRES}, python_setting(sqlalchemy_20_python))
    project(tmp_path / "plain", {"db.py": BARE_POSTGRES})
    to_sa20 = run_flake8(["--stability-python", str(sqlalchemy_20_python), "."], cwd=tmp_path)
    to_main = run_flake8(["--stability-python", sys.executable, "."], cwd=tmp_path)
    assert found(to_sa20) == {("configured/db.py", 3, "SBA302"), ("plain/db.py", 3, "SBA302")}
    assert found(to_main) == set()


def test_stability_python_from_flake8_config(tmp_path: Path, sqlalchemy_20_python: Path) -> None:
    root = project(tmp_path, {"db.py": BARE_POSTGRES})
    (root / "setup.cfg").write_text(f"[flake8]\nstability-python = {sqlalchemy_20_python}\n")
    assert found(run_flake8(["."], cwd=root)) == {("db.py", 3, "SBA302")}


@pytest.mark.parametrize("pyproject,problem", [
    ("[tool.flake8-stability\npython = 'x'\n", "not read"),
    ("[tool]\nflake8-stability = 3\n", "is not a table"),
    ("[tool.flake8-stability]\npython = 3\n", "must be a string"),
], ids=["malformed", "not-a-table", "not-a-string"])
def test_bad_pyproject_is_reported_and_the_run_continues(
        tmp_path: Path, pyproject: str, problem: str) -> None:
    write(tmp_path, {"pyproject.toml": pyproject, "db.py": SQLITE_ASYNC})
    run = run_flake8(["--jobs", "1", "."], cwd=tmp_path)
    assert found(run) == {("db.py", 3, "SBA302")}
    lines = [line for line in run.stderr.splitlines() if line.startswith("flake8-stability: ")]
    assert len(lines) == 1 and "pyproject.toml" in lines[0] and problem in lines[0], run.stderr


# -- never raises ------------------------------------------------------------------------------

RAISING_DRIVER = '''
import os
import sys
from flake8_stability.findings import Category, Severity
from flake8_stability.rules import Rule

class Raising(Rule):
    code = "SBA399"
    name = "raising-probe"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    summary = what = why = how_to_fix = "test rule"

    def check_module(self, module):
        yield self.report(module, module.tree, "lost finding", "test", "test")
        raise RuntimeError("probe failure in " + os.path.basename(module.path))

from flake8.main.cli import main
main(sys.argv[1:])
'''


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_raising_rule_costs_only_its_own_findings(tmp_path: Path, jobs: str) -> None:
    postgres = BARE_POSTGRES.replace("postgresql", "postgres")
    root = project(tmp_path, {"a.py": SQLITE_ASYNC, "b.py": postgres})
    run = run_flake8(["--jobs", jobs, "."], cwd=root, driver=RAISING_DRIVER)
    assert found(run) == {("a.py", 3, "SBA302"), ("b.py", 3, "SBA303")}
    assert "Traceback" not in run.stderr
    for name in ("a.py", "b.py"):
        assert run.stderr.count(f"flake8-stability: ./{name}: internal error in SBA399 "
                                "(raising-probe)") == 1, run.stderr
        assert run.stderr.count(f"RuntimeError: probe failure in {name}") == 1
    if jobs == "1":  # two workers' lines can interleave: the plugin writes a line in two parts
        assert len(internal_errors(run.stderr)) == 2


# -- secrets -----------------------------------------------------------------------------------

def test_findings_never_show_a_password(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "literal.py": f'''\
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import create_async_engine

            a = create_engine("postgresql+asyncpg://app:{PASSWORD}@db/app")
            b = create_async_engine("postgresql+psycopg2://app:{PASSWORD}@db:5432/app?ssl=on")
            c = create_async_engine("postgres://app:{PASSWORD}@db/app")
        ''',
        "settings.py": f'''\
            import os

            import sqlalchemy as sa
            from pydantic_settings import BaseSettings
            from sqlalchemy.ext.asyncio import create_async_engine

            class Settings(BaseSettings):
                database_url: str = "mysql+pymysql://root:{PASSWORD}@localhost/app"

            engine = create_async_engine(Settings().database_url)
            other = create_async_engine(os.getenv("URL", "postgres://u:{PASSWORD}@h/db"))
            host = os.environ["DB_HOST"]
            third = sa.create_engine(f"postgresql+asyncpg://app:{PASSWORD}@{{host}}/app")
        ''',
    })
    run = run_flake8(["--extend-ignore", "SBA501", "."], cwd=root)  # DB_HOST names no URL
    assert len(run.results) == 6, run.results
    assert PASSWORD not in run.stderr
    for result in run.results:
        assert PASSWORD not in result.text
        assert "***" in result.text, result.text


@pytest.mark.parametrize("password", ["pa/ss-" + PASSWORD, "pa ss-" + PASSWORD])
def test_passwords_with_a_slash_or_space_are_redacted(tmp_path: Path, password: str) -> None:
    source = SQLITE_ASYNC.replace("sqlite:///./app.db", f"mysql+pymysql://app:{password}@db/app")
    run = run_flake8(["."], cwd=project(tmp_path, {"db.py": source}))
    assert run.codes() == ["SBA302"]
    assert PASSWORD not in run.results[0].text, run.results[0].text
