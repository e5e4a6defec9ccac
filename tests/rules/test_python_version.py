"""SBA208: code that needs a newer Python than `requires-python` allows, through flake8, and the
errors it predicts checked on a real CPython 3.9 (tests/stack_venvs.py) and 3.8 when present."""
from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

import stack_venvs
from flake8_runner import Flake8Run
from flake8_stability.knowledge.python_versions import lowest_python
from packaging.specifiers import SpecifierSet

Lint = Callable[..., Flake8Run]


def project(requires: str, files: Dict[str, str]) -> Dict[str, str]:
    config = f'[project]\nname = "shop"\nrequires-python = "{requires}"\n'
    return {"pyproject.toml": config, "app/__init__.py": "",
            **{path: textwrap.dedent(code).lstrip("\n") for path, code in files.items()}}


def found(run: Flake8Run) -> List[Tuple[str, int, str]]:
    return [(r.path, r.line, r.text.rsplit("[", 1)[1].rstrip("]")) for r in run.results
            if r.code == "SBA208"]


PEP604 = {
    "app/models.py": '''
        from typing import Optional

        from pydantic import BaseModel


        class Item(BaseModel):
            name: Optional[str] = None
            price: float | None = None


        def build(name: str | None = None) -> "Item | None":
            def inner(x: int | None) -> None:
                pass
            local: int | None = None
            return None


        LIMIT: int | None = None
    ''',
    "app/postponed.py": '''
        from __future__ import annotations

        from typing import Annotated, Literal

        from fastapi import APIRouter, Depends
        from sqlmodel import SQLModel

        router = APIRouter()


        class Hero(SQLModel):
            age: int | None = None
            kind: Literal["a", "b"] = "a"


        def helper(x: int | None) -> str | None:
            return None


        def get_limit(limit: int | None = None) -> int:
            return limit or 10


        @router.get("/heroes")
        def heroes(q: Annotated[str, Depends(lambda: "x")], limit: int = Depends(get_limit)):
            return []
    ''',
    "app/quoted.py": '''
        from pydantic import BaseModel


        class Quoted(BaseModel):
            note: "str | None" = None


        def plain(x: "int | None") -> None:
            pass
    ''',
}


def test_pep604_where_it_is_evaluated(lint: Lint) -> None:
    run = lint(project(">=3.9", PEP604), "--select", "SBA208")
    assert found(run) == [
        ("./app/models.py", 8, "blocking"),  # the model field
        ("./app/models.py", 11, "blocking"),  # the signature, at def time
        ("./app/models.py", 12, "runtime"),  # a nested def runs when build() is called
        ("./app/models.py", 18, "blocking"),  # a module annotation
        ("./app/postponed.py", 12, "blocking"),  # pydantic evaluates it anyway
        ("./app/postponed.py", 20, "blocking"),  # a dependency FastAPI reads
        ("./app/quoted.py", 5, "blocking"),  # pydantic evaluates the string
    ]
    texts = [r.text for r in run.results if r.code == "SBA208"]
    assert texts[0].startswith("`float | None` in the annotation of field Item.price "
                               "needs Python 3.10; requires-python \">=3.9\" (pyproject.toml:3) "
                               "allows Python 3.9")
    assert "parameter limit of get_limit() (FastAPI reads it)" in texts[5]


def test_pep604_is_fine_from_310_and_without_requires_python(lint: Lint) -> None:
    assert found(lint(project(">=3.10", PEP604), "--select", "SBA208")) == []
    files = project(">=3.9", PEP604)
    files["pyproject.toml"] = '[project]\nname = "shop"\n'
    assert found(lint(files, "--select", "SBA208")) == []


NEWER = {
    "app/syntax.py": '''
        def kind(value):
            match value:
                case 1:
                    return "one"
            return "other"


        def run():
            try:
                pass
            except* ValueError:
                pass
    ''',
    "app/names.py": '''
        import datetime
        import sys
        import typing
        from typing import TYPE_CHECKING

        import tomllib
        from typing import Self

        if TYPE_CHECKING:
            from typing import Never

        try:
            from typing import override
        except ImportError:
            from typing_extensions import override

        if sys.version_info >= (3, 11):
            from enum import StrEnum
        else:
            StrEnum = str

        NOW = datetime.UTC
        ALSO = typing.TypeGuard


        def later():
            return datetime.datetime.now(datetime.timezone.utc)
    ''',
}


def test_syntax_and_names_against_39(lint: Lint) -> None:
    run = lint(project(">=3.9", NEWER), "--select", "SBA208")
    assert found(run) == [
        ("./app/names.py", 6, "blocking"),
        ("./app/names.py", 7, "blocking"),
        ("./app/names.py", 22, "blocking"),
        ("./app/names.py", 23, "blocking"),
        ("./app/syntax.py", 2, "blocking"),
        ("./app/syntax.py", 9, "blocking"),  # the `try` of `except*`
    ]
    texts = {r.line: r.text for r in run.results if r.path == "./app/names.py"}
    assert "`import tomllib` needs Python 3.11" in texts[6]
    assert "`from typing import Self` needs Python 3.11" in texts[7]
    assert "`datetime.UTC` needs Python 3.11" in texts[22]


def test_syntax_and_names_against_310_and_311(lint: Lint) -> None:
    run = lint(project(">=3.10,<4", NEWER), "--select", "SBA208")
    assert [line for _, line, _ in found(run)] == [6, 7, 22, 9]
    assert found(lint(project("~=3.11", NEWER), "--select", "SBA208")) == []


def test_builtin_generics_only_when_38_is_allowed(lint: Lint) -> None:
    files = {"app/api.py": '''
        from typing import List


        def names(items: list[str]) -> dict[str, int]:
            return {}


        class list_like:
            pass


        def keep(items: List[str]) -> None:
            pass
    '''}
    assert found(lint(project(">=3.8", files), "--select", "SBA208")) == [
        ("./app/api.py", 4, "blocking"), ("./app/api.py", 4, "blocking")]
    assert found(lint(project(">=3.9", files), "--select", "SBA208")) == []


def test_poetry_python_and_setup_cfg_python_requires(lint: Lint) -> None:
    code = "from typing import Optional\n\nLIMIT: int | None = None\n"
    poetry = {"pyproject.toml": '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n'
                                '[tool.poetry.dependencies]\npython = "^3.9"\n',
              "app/__init__.py": "", "app/limits.py": code}
    assert found(lint(poetry, "--select", "SBA208")) == [("./app/limits.py", 3, "blocking")]


@pytest.mark.parametrize("spec,lowest", [(">=3.9", (3, 9)), (">=3.7", (3, 8)),
                                         (">=3.9.2,<3.13", (3, 9)), ("==3.12.*", (3, 12)),
                                         ("<3", None)])
def test_lowest_python(spec: str, lowest) -> None:
    assert lowest_python(SpecifierSet(spec)) == lowest


# The errors the messages quote, from real interpreters --------------------------------------

def last_error(python: Path, code: str, folder: Path) -> str:
    (folder / "probe.py").write_text(textwrap.dedent(code))
    done = subprocess.run([str(python), "-c", "import probe"], cwd=folder, capture_output=True,
                          text=True, timeout=60)
    return done.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def python39() -> Path:
    try:
        return stack_venvs.build(stack_venvs.STACKS["python3.9-fastapi-sqlmodel"])
    except FileNotFoundError:
        pytest.skip("no Python 3.9 on this machine")


@pytest.mark.parametrize("code,error", [
    ("from sqlmodel import SQLModel\nclass A(SQLModel):\n    x: int | None = None\n",
     "TypeError: unsupported operand type(s) for |: 'type' and 'NoneType'"),
    ("from __future__ import annotations\nfrom pydantic import BaseModel\n"
     "class A(BaseModel):\n    x: int | None = None\n",
     "TypeError: Unable to evaluate type annotation 'int | None'"),
    ("def f(x):\n    match x:\n        case 1:\n            pass\n",
     "SyntaxError: invalid syntax"),
    ("from typing import Self\n", "ImportError: cannot import name 'Self' from 'typing'"),
    ("import tomllib\n", "ModuleNotFoundError: No module named 'tomllib'"),
    ("import datetime\nx = datetime.UTC\n",
     "AttributeError: module 'datetime' has no attribute 'UTC'"),
])
def test_predicted_errors_on_python_39(python39: Path, tmp_path: Path, code: str,
                                       error: str) -> None:
    assert last_error(python39, code, tmp_path).startswith(error)


def test_builtin_generic_error_on_python_38(tmp_path: Path) -> None:
    try:
        python = stack_venvs.base_python("3.8")
    except FileNotFoundError:
        pytest.skip("no Python 3.8 on this machine")
    assert last_error(Path(python), "def f(x: list[int]) -> None:\n    pass\n", tmp_path) == \
        "TypeError: 'type' object is not subscriptable"
