"""The plugin never raises: generated programs, the installed web stack's own sources and
hostile files go through every registered rule, and the shared analyses, without an exception.

`STABILITY_FUZZ_EXAMPLES` sets the number of generated programs per fuzz test (default 100:
the whole module takes about 50 s on a busy 2-core machine, 25 s of it fuzzing)."""
from __future__ import annotations

import ast
import importlib.util
import os
import sys
import time
import tokenize
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flake8_runner import run_flake8
from flake8_stability.analysis.objects import ObjectResolver
from flake8_stability.analysis.values import ValueResolver
from flake8_stability.config import Config
from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.rules import all_rules

FUZZ_EXAMPLES = int(os.environ.get("STABILITY_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
STACK = ("fastapi", "sqlalchemy", "pydantic", "sqlmodel", "starlette")
RULES = [rule() for rule in all_rules()]
# Generated programs call literals (`b''()`): compiling them warns, which is no finding.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectContext:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "pyproject.toml").write_text("[project]\nname = 'fuzz'\n")
    return ProjectContext(root, Config(python=sys.executable))


def parse(source: str) -> Optional[ast.Module]:
    """The tree flake8 would give the plugin; None where flake8 reports E999 instead."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def run_rules(module: ModuleContext) -> int:
    """Every rule over `module`, iterators consumed; the number of findings."""
    count = 0
    for rule in RULES:
        for finding in rule.check_module(module):
            assert finding.code == rule.code
            finding.flake8_text()
            count += 1
    return count


def probe_analyses(module: ModuleContext) -> None:
    """Every shared analysis API, on every node: what future rules will call."""
    scopes, values, objects = module.scopes, module.values, module.objects
    for node in ast.walk(module.tree):
        scopes.runs_at_import(node)
        scopes.enclosing_function(node)
        if isinstance(node, ast.Name):
            scopes.lookup(node.id, node)
        if not isinstance(node, ast.expr):
            continue
        module.qualname(node)
        values.string(node)
        values.instance_class(node)
        objects.engine(node)
        objects.factory(node)
        objects.session(node)
        objects.session_annotation(node)
        objects.connection(node)
    for engine in module.engine_calls:
        if engine.url is not None:
            engine.url.shown()
            assert engine.url.memory in (True, False, None)
            engine.url.query()
            engine.url.effective_driver(module.project.sqlalchemy_version)


def check(source: str, project: ProjectContext, module_name: Optional[str] = None) -> None:
    tree = parse(source)
    assume(tree is not None)
    module = ModuleContext("app/db.py", source.splitlines(keepends=True), tree, project,
                           module_name)
    run_rules(module)
    probe_analyses(module)


# -- generated programs: hypothesmith --------------------------------------------------------

@FUZZ
@given(source=hypothesmith.from_grammar())
def test_grammar_programs(project: ProjectContext, source: str) -> None:
    check(source, project)


@FUZZ
@given(source=hypothesmith.from_node())
def test_libcst_programs(project: ProjectContext, source: str) -> None:
    check(source, project)


# -- generated programs: the APIs the rules follow ---------------------------------------------
# hypothesmith rarely writes `create_async_engine(settings.url)`: this generator writes little
# else, with names reused so that bindings collide, refer to themselves and nest.

NAMES = ("url", "DATABASE_URL", "engine", "settings", "Settings", "get_settings", "get_session",
         "make_engine", "SessionLocal", "session", "conn", "self", "SessionDep", "Base", "os")
URLS = ("sqlite://", "sqlite:///./app.db", "sqlite+aiosqlite:///:memory:",
        "sqlite:///a.db?mode=memory", "sqlite:///file::memory:?cache=shared",
        "postgresql://app:pw@db/app", "postgres://app:pw@db/app",
        "postgresql+asyncpg://app:pw@db/app", "postgresql+psycopg2://db/app",
        "mysql+pymysql://u@h/db",
        "oracle://h/db", "mssql+pyodbc://h/db", "%s://x", "{}://x", "{0}", "x", "", "://",
        "postgresql+://", "sqlite:///?a=1&a=2", "AsyncSession", "Optional[AsyncSession]",
        "AsyncSession\x00", "Annotated[", "url", "*")
SIMPLE_TEXT = ("", "sqlite:///", "postgresql+asyncpg://", "postgres://u:", "x")
NUMBERS = ("0", "1", "-1", "3", "True", "None", "...", "99999999999999999999999",
           "-99999999999999999999999", "1.5", "b'sqlite://'")
CALLEES = ("create_engine", "create_async_engine", "sa.create_engine",
           "sa_async.create_async_engine",
           "sqlmodel.create_engine", "AsyncEngine", "make_url", "URL.create", "os.getenv",
           "os.environ.get", "str", "sessionmaker", "async_sessionmaker", "scoped_session",
           "async_scoped_session", "AsyncSession", "Session", "Depends", "Field", "Settings",
           "get_settings", "get_session", "make_engine", "SessionLocal", "text",
           "SessionLocal.begin",
           "engine.begin", "engine.connect", "conn.run_sync", "session.exec", "session.execute")
KEYWORDS = ("url", "drivername", "class_", "expire_on_commit", "default", "bind", "echo",
            "connect_args", "poolclass", "pool_size", "env_prefix")
ATTRIBUTES = ("database_url", "url", "sync_engine", "DATABASE_URL", "engine", "metadata")
METHODS = ("get_secret_value", "unicode_string", "begin", "connect", "upper", "strip")
ANNOTATIONS = ("str", "AsyncSession", "Session", "AsyncEngine", "SessionDep",
               "Optional[AsyncSession]",
               "Annotated[AsyncSession, Depends(get_session)]", "AsyncSession | None",
               "'AsyncSession'", "'AsyncSession\\x00'", "'Optional['", "PostgresDsn", "SecretStr")
IMPORTS = (
    "import os", "import sqlalchemy as sa", "import sqlmodel",
    "from sqlalchemy import create_engine, make_url, URL, text",
    "from sqlalchemy.ext.asyncio import create_async_engine, AsyncEngine, AsyncSession",
    "from sqlalchemy.ext.asyncio import async_sessionmaker, async_scoped_session",
    "from sqlalchemy.ext import asyncio as sa_async",
    "from sqlalchemy.orm import sessionmaker, scoped_session, Session",
    "from sqlmodel import create_engine, Session, SQLModel, Field",
    "from sqlmodel.ext.asyncio.session import AsyncSession",
    "from pydantic_settings import BaseSettings, SettingsConfigDict",
    "from pydantic import Field, PostgresDsn, SecretStr, field_validator, model_validator",
    "from fastapi import Depends", "from typing import Annotated, Optional, TYPE_CHECKING",
    "from . import settings", "from .. import engine", "from ...x import url as url",
    "from .models import *", "import sqlalchemy.ext.asyncio", "from os import getenv as get",
)
DECORATORS = ("@property", "@field_validator('url')", "@field_validator('*')",
              "@model_validator(mode='before')", "@classmethod", "@lru_cache", "@computed_field",
              "@app.get('/')", "@validator('database_url', pre=True)")


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    pick = draw(st.integers(0, 5 if depth >= 3 else 13))
    if pick <= 2:
        return draw(st.sampled_from(NAMES))
    if pick == 3:
        return repr(draw(st.sampled_from(URLS)))
    if pick == 4:
        return draw(st.sampled_from(NUMBERS))
    if pick == 5:
        conversion = draw(st.sampled_from(("", "!r", "!s", ":>10", "!r:>10")))
        return (f'f"{draw(st.sampled_from(SIMPLE_TEXT))}{{{draw(st.sampled_from(NAMES))}'
                f'{conversion}}}{draw(st.sampled_from(SIMPLE_TEXT))}"')
    inner = expressions(depth + 1)
    if pick == 6:
        return f"({draw(inner)} {draw(st.sampled_from(('+', '%', '|', '*')))} {draw(inner)})"
    if pick in (7, 8):
        return f"{draw(st.sampled_from(CALLEES))}({draw(arguments(depth + 1))})"
    if pick == 9:
        extra = draw(st.sampled_from(("", ", 1", ", -1", ", 99999999999999999999999", ", x")))
        return f"{draw(inner)}.replace({draw(inner)}, {draw(inner)}{extra})"
    if pick == 10:
        name = draw(st.sampled_from(METHODS + ATTRIBUTES))
        return f"{draw(inner)}.{name}" + ("()" if name in METHODS else "")
    if pick == 11:
        return f"{draw(st.sampled_from(('Annotated', 'Optional')))}[{draw(inner)}, {draw(inner)}]"
    if pick == 12:
        form = draw(st.sampled_from(("(await {})", "(lambda: {})", "[{}]", "(url := {})",
                                     "({} if {} else None)", "{}.format()")))
        return form.replace("{}", draw(inner))
    return f"{draw(inner)}.format({draw(inner)})"


@st.composite
def arguments(draw: st.DrawFn, depth: int) -> str:
    positional = draw(st.lists(expressions(depth), max_size=2))
    keywords = [f"{name}={draw(expressions(depth))}"
                for name in draw(st.lists(st.sampled_from(KEYWORDS), max_size=2, unique=True))]
    starred = draw(st.sampled_from(("", "*args", "**kwargs")))
    if starred.startswith("**"):
        return ", ".join(positional + keywords + [starred])
    return ", ".join(positional + ([starred] if starred else []) + keywords)


@st.composite
def parameters(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
    plain = names[:1]
    keyword_only = []
    for name in names[1:]:
        form = draw(st.integers(0, 2))
        annotation = draw(st.sampled_from(ANNOTATIONS))
        default = draw(st.sampled_from(("Depends(get_session)", "Depends(get_settings)", "None",
                                        repr(draw(st.sampled_from(URLS))))))
        forms = (name, f"{name}: {annotation}", f"{name}: {annotation} = {default}")
        keyword_only.append(forms[form])
    return ", ".join(plain + (["*"] + keyword_only if keyword_only else []))


@st.composite
def statements(draw: st.DrawFn, depth: int = 0) -> List[str]:
    pick = draw(st.integers(0, 7 if depth >= 3 else 14))
    name = draw(st.sampled_from(NAMES))
    if pick <= 2:
        return [f"{name} = {draw(expressions())}"]
    if pick == 3:
        return [f"{name}: {draw(st.sampled_from(ANNOTATIONS))} = {draw(expressions())}"]
    if pick == 4:
        return [draw(st.sampled_from(IMPORTS))]
    if pick == 5:
        return [draw(st.sampled_from((f"{name} += {{}}", f"{name}.url = {{}}", "{}", "return {}",
                                      "yield {}", f"{name}, *rest = {{}}",
                                      "model_config = SettingsConfigDict(env_prefix={})")))
                .format(draw(expressions()))]
    if pick == 6:
        return [draw(st.sampled_from(("return", "pass", f"del {name}", f"global {name}")))]
    if pick == 7:
        return [f"{name}: {draw(st.sampled_from(ANNOTATIONS))}"]
    body = draw(blocks(depth + 1))
    if pick in (8, 9):
        decorators = draw(st.lists(st.sampled_from(DECORATORS), max_size=2))
        prefix = draw(st.sampled_from(("def", "async def")))
        return decorators + [f"{prefix} {name}({draw(parameters())}):"] + body
    if pick == 10:
        bases = draw(st.lists(st.sampled_from(("BaseSettings", "Base", "Settings", "SQLModel",
                                               "object", "sa.orm.DeclarativeBase")), max_size=2))
        return [f"class {name}({', '.join(bases)}):"] + body
    if pick == 11:
        head = draw(st.sampled_from(("if TYPE_CHECKING:", "if __name__ == '__main__':",
                                     f"for {name} in {{}}:", "while {}:")))
        return [head.format(draw(expressions()))] + body
    if pick == 12:
        keyword = draw(st.sampled_from(("with", "async with")))
        return [f"{keyword} {draw(expressions())} as {name}:"] + body
    if pick == 13:
        return ["try:"] + body + [f"except Exception as {name}:"] + draw(blocks(depth + 1))
    return [f"{name} = {draw(expressions())}", f"{name} = {draw(expressions())}"]


@st.composite
def blocks(draw: st.DrawFn, depth: int) -> List[str]:
    lines: List[str] = []
    for statement in draw(st.lists(statements(depth), min_size=1, max_size=4)):
        lines.extend(statement)
    return ["    " + line for line in lines]


@st.composite
def programs(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.sampled_from(IMPORTS), min_size=1, max_size=5))
    for statement in draw(st.lists(statements(), min_size=1, max_size=10)):
        lines.extend(statement)
    return "\n".join(lines) + "\n"


@FUZZ
@given(source=programs(), module_name=st.sampled_from((None, "app.db", "app.core.db", "db")))
def test_database_programs(project: ProjectContext, source: str,
                           module_name: Optional[str]) -> None:
    check(source, project, module_name)


def test_the_generator_writes_parseable_programs() -> None:
    """Mostly parseable, or the fuzz above tests little: counted on a fixed sample."""
    sources: List[str] = []

    @settings(max_examples=50, database=None, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(programs())
    def collect(source: str) -> None:
        sources.append(source)

    collect()
    parsed = [source for source in sources if parse(source) is not None]
    assert len(parsed) >= 0.8 * len(sources)
    assert any("create_async_engine(" in source for source in parsed)


# -- regressions found by the fuzz above -----------------------------------------------------

@pytest.mark.parametrize("source", [
    'from sqlalchemy.ext.asyncio import create_async_engine\n'
    'engine = create_async_engine("sqlite:///x".replace("x", "y", 99999999999999999999999))\n',
    'from sqlalchemy.ext.asyncio import AsyncSession\n'
    'def get(session: "AsyncSession\\x00"): pass\n',
], ids=["replace-count-overflow", "annotation-with-nul"])
def test_regressions(project: ProjectContext, source: str) -> None:
    module = ModuleContext("app/db.py", source.splitlines(True), ast.parse(source), project)
    run_rules(module)
    probe_analyses(module)


def _recursive(function: str, use: str) -> str:
    returns = "".join(f"    if x == {n}:\n        return {function}(x - {n})\n" for n in range(30))
    return (f"from sqlalchemy import create_engine\n\n\ndef {function}(x):\n{returns}"
            f"    return create_engine('sqlite://')\n\n\n{use}\n")


@pytest.mark.parametrize("source", [
    _recursive("get_settings", "engine = create_engine(get_settings(0).database_url)"),
    _recursive("make_engine", "engine = make_engine(0)"),
    "from sqlalchemy.ext.asyncio import create_async_engine\n\nurl = 'sqlite://'\n"
    + "url = url + 'x'\n" * 30 + "engine = create_async_engine(url)\n",
], ids=["recursive-settings-factory", "recursive-engine-factory", "rebound-name"])
def test_resolution_is_not_exponential(project: ProjectContext, source: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Each resolution step used to follow every return or binding of a name again, down to
    the depth limit: 30 returns meant 30**6 steps, a flake8 run that never finishes."""
    steps = [0]

    def budgeted(function: Callable[..., object]) -> Callable[..., object]:
        def step(*args: object, **kwargs: object) -> object:
            steps[0] += 1
            assert steps[0] < 5_000, "resolution explodes combinatorially"
            return function(*args, **kwargs)
        return step

    for owner, method in ((ValueResolver, "string"), (ValueResolver, "instance_class"),
                          (ObjectResolver, "engine")):
        monkeypatch.setattr(owner, method, budgeted(getattr(owner, method)))
    module = ModuleContext("app/db.py", source.splitlines(True), ast.parse(source), project)
    run_rules(module)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Name):
            module.objects.engine(node)


def test_depth_beyond_the_recursion_limit(project: ProjectContext) -> None:
    """A 2,500-term chain: deeper than Python's recursion limit (1,000); the deepest
    Python 3.11 builds an ast for is about 2,900, and 5,000 fails in flake8 itself."""
    terms = 2500
    source = ("from sqlalchemy.ext.asyncio import create_async_engine\n"
              f"url = {' + '.join(['1'] * terms)}\n"
              f"name = {' + '.join(repr('sqlite://') for _ in range(terms))}\n"
              "engine = create_async_engine(name)\n")
    tree = parse(source)
    assert tree is not None
    module = ModuleContext("app/db.py", source.splitlines(True), tree, project)
    run_rules(module)
    for statement in tree.body:  # not every node: ancestor walks make that quadratic in depth
        value = getattr(statement, "value", None)
        module.values.string(value)
        module.objects.engine(value)
        module.objects.session(value)


# -- the installed web stack's own sources ---------------------------------------------------

def _stack_files() -> Iterator[Tuple[str, Path]]:
    for package in STACK:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        base = Path(list(spec.submodule_search_locations)[0])
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base.parent).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def test_installed_stack_sources(project: ProjectContext) -> None:
    """Every .py file of fastapi, sqlalchemy, pydantic, sqlmodel and starlette (about 470
    files, 335k lines; about 17 s with the analysis probe, 4 s without), through every rule."""
    started, files, findings = time.perf_counter(), 0, 0
    for module_name, path in _stack_files():
        with tokenize.open(path) as handle:
            source = handle.read()
        tree = parse(source)
        assert tree is not None, path
        module = ModuleContext(str(path), source.splitlines(True), tree, project, module_name)
        findings += run_rules(module)
        probe_analyses(module)
        files += 1
    assert files > 400
    print(f"\n{files} files of the installed stack, {findings} findings, "
          f"{time.perf_counter() - started:.1f} s")


# -- hostile files through the flake8 subprocess ---------------------------------------------

def _hostile_tree(root: Path) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'hostile'\n")
    (root / "empty.py").write_bytes(b"")
    (root / "comments.py").write_text("# only\n# comments\n")
    (root / "bom.py").write_bytes(
        b"\xef\xbb\xbfimport sqlalchemy as sa\n\nengine = sa.create_engine('sqlite://')\n")
    (root / "latin1.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n"
        b"engine = create_async_engine('sqlite:///caf\xe9.db')\n")
    (root / "crlf.py").write_bytes(b"import os\r\n\r\nURL = os.getenv('X', 'postgres://a')\r\n")
    (root / "unfinished.py").write_bytes(b"import sqlalchemy\nx = sqlalchemy.create_engine(")
    generated = ["from sqlalchemy import create_engine",
                 "from sqlalchemy.ext.asyncio import create_async_engine", ""]
    generated += [f"value_{n} = create_engine('sqlite:///db_{n}.db')" if n % 1000 else
                  f"value_{n} = create_async_engine('sqlite:///db_{n}.db')" for n in range(20_000)]
    (root / "huge.py").write_text("\n".join(generated) + "\n")
    depth = 300  # pyflakes, which flake8 always runs, fails on deeper trees at the default limit
    (root / "deep.py").write_text(
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        f"url = {' + '.join(repr('sqlite://') for _ in range(depth))}\n"
        f"engine = create_async_engine({'str(' * 150}url{')' * 150})\n"
        f"x = {'(' * 150}1{')' * 150}\n")
    (root / "wide.py").write_text(
        f"x = [{', '.join(['1'] * 5000)}]\n"
        f"from sqlalchemy import create_engine\ny = create_engine({', '.join(['1'] * 5000)})\n")


def test_hostile_files_through_flake8(tmp_path: Path) -> None:
    _hostile_tree(tmp_path)
    run = run_flake8(["--jobs", "1", "."], cwd=tmp_path)
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert run.lines_of("SBA302", "latin1.py") == [4]
    assert run.lines_of("SBA303", "crlf.py") == []  # a URL in a variable no engine uses
    assert run.lines_of("SBA302", "huge.py") == list(range(4, 20_004, 1000))
