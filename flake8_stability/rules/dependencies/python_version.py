"""Code that needs a newer Python than the project's `requires-python` allows: SBA208."""
from __future__ import annotations

from typing import Iterator, Optional

from ...analysis.python_features import Feature, features
from ...context import ModuleContext
from ...dependencies.declared import RequiresPython
from ...findings import Category, Finding, Location, Severity
from ...knowledge.python_versions import PythonVersion, lowest_python, shown
from ..base import Invalid, Rule, Valid

# A real CPython 3.9 with the last stack releases that support it: the invalid examples are
# judged and proven there (the test suite builds it from these pins).
PY39_STACK = (
    "python==3.9", "fastapi==0.115.6", "starlette==0.41.3", "pydantic==2.11.7",
    "pydantic-core==2.33.2", "sqlmodel==0.0.24", "SQLAlchemy==2.0.44",
    "typing-extensions==4.12.2", "typing-inspection==0.4.2", "annotated-types==0.7.0",
    "anyio==4.12.1", "idna==3.20", "exceptiongroup==1.3.2", "greenlet==3.2.5")
EVIDENCE = ("checked on CPython 3.8.18, 3.9.18 and 3.10.13; the library errors with pydantic "
            "2.11.7 and fastapi 0.115.6 on 3.9.18")


def _pyproject(requires: str) -> str:
    return f'[project]\nname = "shop"\nrequires-python = "{requires}"\n' \
           f'dependencies = ["fastapi", "sqlmodel"]\n'


class SyntaxNewerThanRequiresPython(Rule):
    code = "SBA208"
    name = "syntax-newer-than-requires-python"
    severity = Severity.BLOCKING
    category = Category.DEPENDENCIES
    versions = ("Pythons older than the syntax, down to the `requires-python` lower bound: `X | "
                "None` and `match` need 3.10, `typing.Self` 3.11.")
    summary = "code needs a newer Python than the declared requires-python allows"
    references = ("D14",)
    what = ("Code that fails on the oldest Python (3.8 to 3.14) the project's `requires-python` "
            "(PEP 621, Poetry `python`, setup.cfg `python_requires`) allows: `X | Y` in an "
            "annotation that is evaluated at run time (function signatures, class and module "
            "annotations; with `from __future__ import annotations` still pydantic/SQLModel "
            "model fields and the parameters FastAPI reads), `list[int]`-style annotations "
            "evaluated on 3.8, `match` and `except*`, and standard-library names added later "
            "(`typing.Self`, `datetime.UTC`, `tomllib`, `enum.StrEnum`, ...) unless they sit "
            "behind a version check, a `try` or `TYPE_CHECKING`. Not checked: PEP 695 syntax "
            "(the checker's own parser, Python 3.11, cannot read it) and parenthesized context "
            "managers (CPython 3.9 already accepts them; only 3.8 rejects them).")
    why = ("On Python 3.9 a model field `age: int | None = None` fails while the class is "
           "created: `TypeError: unsupported operand type(s) for |: 'type' and 'NoneType'`; "
           "with `from __future__ import annotations` pydantic evaluates it instead and raises "
           "`TypeError: Unable to evaluate type annotation 'int | None'. If you are making use "
           "of the new typing syntax (unions using `|` since Python 3.10 or builtins "
           "subscripting since Python 3.9), you should either replace the use of new syntax "
           "with the existing `typing` constructs or install the `eval_type_backport` "
           "package.`; a `match` statement is `SyntaxError: invalid syntax`; `from typing "
           "import Self` is `ImportError: cannot import name 'Self' from 'typing'`. The "
           "project says it runs on that Python, so a deployment image built for it fails "
           "at import.")
    how_to_fix = ("Either raise `requires-python` to the version the code needs (e.g. "
                  "`>=3.10`), or write the code for the oldest allowed Python: "
                  "`Optional[int]` instead of `int | None`, `typing_extensions` for new "
                  "typing names, a backport behind `try`/`except ImportError`.")
    fix_safety = ("Safe either way: raising `requires-python` only stops installs on Pythons "
                  "that cannot run the code.")
    valid = (
        Valid({
            "pyproject.toml": _pyproject(">=3.10"),
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)
                    age: int | None = None

                app = FastAPI()

                @app.get("/heroes")
                def list_heroes(name: str | None = None) -> list[Hero]:
                    return []
            ''',
        }),
        Valid({
            "pyproject.toml": _pyproject(">=3.9"),
            "app/__init__.py": "",
            "app/main.py": '''
                from __future__ import annotations

                import sys
                from typing import Optional

                from fastapi import FastAPI
                from sqlmodel import Field, SQLModel

                if sys.version_info >= (3, 11):
                    import tomllib
                else:
                    import tomli as tomllib

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    name: str

                class HeroRead(SQLModel):
                    name: str
                    tags: list[str] = []

                def clean(name: str | None) -> str | None:
                    return name.strip() if name else None

                app = FastAPI()
            ''',
        }, note="postponed annotations of a plain function are never evaluated"),
    )
    invalid = (
        Invalid({
            "pyproject.toml": _pyproject(">=3.9"),
            "app/__init__.py": "",
            "app/models.py": '''
                from typing import Optional

                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    age: int | None = None  # expect: SBA208
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.models import Hero

                app = FastAPI()
            ''',
        }, raises="TypeError: unsupported operand type(s) for |: 'type' and 'NoneType'",
           run="import app.main", installed=PY39_STACK, note="proven on a real CPython 3.9"),
        Invalid({
            "pyproject.toml": '''
                [tool.poetry]
                name = "shop"
                version = "0.1.0"

                [tool.poetry.dependencies]
                python = "^3.9"
                fastapi = "^0.115"
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from __future__ import annotations

                from fastapi import FastAPI

                app = FastAPI()

                @app.get("/items")
                def read_items(q: str | None = None):  # expect: SBA208
                    return {"q": q}
            ''',
        }, raises="TypeError: Unable to evaluate type annotation 'str | None'",
           run="import app.main", installed=PY39_STACK,
           note="FastAPI evaluates the postponed annotation when the route is registered"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        declared = module.project.declared.requires_python
        floor = lowest_python(declared.specifier) if declared is not None else None
        if declared is None or floor is None:
            return
        for feature in features(module):
            if feature.needs > floor:
                yield self._report(module, feature, declared, floor)

    def _report(self, module: ModuleContext, feature: Feature, declared: RequiresPython,
                floor: PythonVersion) -> Finding:
        needs = shown(feature.needs)
        where = f"{declared.path.name}:{declared.line}"
        severity = (Severity.BLOCKING if feature.syntax
                    else self.severity_at(module, feature.anchor))
        return self.report(
            module, feature.node,
            f"{feature.what} needs Python {needs}; requires-python "
            f"\"{declared.specifier}\" ({where}) allows Python {shown(floor)}",
            f"On Python {shown(floor)}, {feature.when} fails with `{feature.error}` "
            f"({EVIDENCE}).{self._interpreter(module, feature.needs)}",
            f"{feature.fix[0].upper()}{feature.fix[1:]}, or declare requires-python "
            f"\">={needs}\" in {declared.path.name}.",
            severity=severity,
            related=(Location(str(declared.path), declared.line, 0, "requires-python"),),
        )

    @staticmethod
    def _interpreter(module: ModuleContext, needs: PythonVersion) -> str:
        running = _python(module.project.environment.python)
        if running is None:
            return ""
        if running < needs:
            return f" The project's interpreter is Python {shown(running)}: it fails there now."
        return (f" The project's interpreter is Python {shown(running)}, so it works here and "
                f"fails on a deployment with an older Python the project says it supports.")


def _python(raw: Optional[str]) -> Optional[PythonVersion]:
    try:
        major, minor = (int(part) for part in (raw or "").split(".")[:2])
    except ValueError:
        return None
    return major, minor
