"""A table module executed twice under two names: SBA605."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Tuple

from ...analysis.models import SQLMODEL, ModelClass
from ...context import ModuleContext
from ...findings import Category, Finding, Location, Severity
from ...project.model import ModuleInfo, ProjectModel
from ...project.module_names import Arrival, boot_arrivals
from ...project.tables import module_contexts, table_modules
from ..base import Invalid, ProjectRule, Valid

_RUNNERS = frozenset({"uvicorn.run", "uvicorn.main.run"})

_ALREADY = ("sqlalchemy.exc.InvalidRequestError: Table '{table}' is already defined for this "
            "MetaData instance.  Specify 'extend_existing=True' to redefine options and columns "
            "on an existing Table object.")


def _shared_tables(model: ProjectModel, name: str) -> List[ModelClass]:
    """SQLModel tables of module `name`: they all share `SQLModel.metadata`, so a second
    execution of the module redefines them there."""
    return [table for table in table_modules(model).get(name, []) if table.kind == SQLMODEL]


def _table_name(table: ModelClass) -> str:
    """SQLModel's default table name (the class name lowered) unless `__tablename__` is a
    literal."""
    for stmt in table.node.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Constant):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in targets) \
                    and isinstance(stmt.value.value, str):
                return stmt.value.value
    return table.name.lower()


def _self_target(module: ModuleContext, path: Path) -> Iterator[Tuple[ast.Call, str]]:
    """`uvicorn.run("<this module>:app")` calls in the file: run as a script, the file is
    `__main__`, and uvicorn imports it again under its module name."""
    for call in module.calls:
        if module.call_name(call) not in _RUNNERS or not call.args:
            continue
        first = call.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        name = first.value.partition(":")[0]
        if name and all(part.isidentifier() for part in name.split(".")) \
                and _names_file(name, path):
            yield call, first.value


def _split(model: ProjectModel, arrivals: List[Arrival],
           names: List[str]) -> Tuple[Arrival, Arrival]:
    """The arrival to keep (the name under the first import root, the one the app's own
    module is spelled against, else the first) and the first arrival by another name."""
    first_root = model.layout.import_roots[0] if model.layout.import_roots else None
    preferred = next((name for name in names if first_root is not None
                      and _names_file(name, arrivals[0].path)
                      and _under(arrivals[0].path, first_root, name)), names[0])
    others = [a for a in arrivals if a.name != preferred and a.importer is not None]
    if not others:  # only the entry module itself has another name: keep its name
        preferred = arrivals[0].name
        others = [a for a in arrivals if a.name != preferred]
    return next(a for a in arrivals if a.name == preferred), others[0]


def _under(path: Path, root: Path, name: str) -> bool:
    """Whether `root` holds `path` as module `name`."""
    relative = Path(*name.split("."))
    return path in ((root / relative).with_suffix(".py").resolve(),
                    (root / relative / "__init__.py").resolve())


def _names_file(name: str, path: Path) -> bool:
    parts = name.split(".")
    spelled = list(path.with_suffix("").parts)
    if path.name == "__init__.py":
        spelled = spelled[:-1]
    return spelled[-len(parts):] == parts


class ModuleImportedUnderTwoNames(ProjectRule):
    code = "SBA605"
    name = "module-imported-under-two-names"
    severity = Severity.BLOCKING
    category = Category.STRUCTURE
    versions = "Any SQLAlchemy and sqlmodel version."
    summary = "a module defining tables is imported twice, under two module names"
    references = ("S03",)
    what = ("A file that defines SQLModel tables is executed twice while the app boots because "
            "it is imported under two module names: two import roots hold it (`src.models` "
            "from the working dir and `models` from `PYTHONPATH=src` or a module's "
            "`sys.path.insert(0, ...)` that can be computed statically), or the file is run as a "
            "script (`python main.py`, it is `__main__`) and its own `uvicorn.run(\"main:app\")` "
            "imports it again as `main`.")
    why = ("Python keys `sys.modules` by name, so the second name runs the file again, and "
           "every `table=True` class is declared a second time on the shared "
           "`SQLModel.metadata`: `sqlalchemy.exc.InvalidRequestError: Table 'hero' is already "
           "defined for this MetaData instance.  Specify 'extend_existing=True' to redefine "
           "options and columns on an existing Table object.` The server never starts.")
    how_to_fix = ("Give every module one name: import the project's code from one import root "
                  "only (`from src.models import Hero` everywhere, or `from models import Hero` "
                  "everywhere with `src/` on the path), and keep `uvicorn.run(...)` out of "
                  "modules that define tables (start the server with `uvicorn app.main:app`, or "
                  "pass the app object: `uvicorn.run(app)`). Do not add `extend_existing=True`: "
                  "it hides the double import, which also duplicates engines and settings.")
    fix_safety = ("Changing imports to one spelling is safe when the names point to the same "
                  "file; moving `uvicorn.run` changes how the app is started.")
    valid = (
        Valid({
            "Dockerfile": '''
                FROM python:3.12-slim
                WORKDIR /app
                COPY . /app
                ENV PYTHONPATH=/app/src
                CMD ["uvicorn", "main:app", "--app-dir", "src", "--host", "0.0.0.0"]
            ''',
            "src/main.py": '''
                from fastapi import FastAPI

                from api import router
                from models import Hero  # noqa: F401

                app = FastAPI()
                app.include_router(router)
            ''',
            "src/api.py": '''
                from fastapi import APIRouter

                from models import Hero

                router = APIRouter()

                @router.get("/heroes/count")
                def count() -> int:
                    return len(Hero.model_fields)
            ''',
            "src/models.py": '''
                from typing import Optional

                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
            ''',
        }, note="one spelling of every module"),
        Valid({
            "main.py": '''
                from typing import Optional

                import uvicorn
                from fastapi import FastAPI
                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)

                app = FastAPI()

                if __name__ == "__main__":
                    uvicorn.run(app, host="0.0.0.0", port=8000)
            ''',
        }, note="uvicorn.run given the app object does not import the file again"),
    )
    invalid = (
        Invalid({
            "main.py": '''
                from typing import Optional

                import uvicorn
                from fastapi import FastAPI
                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)

                app = FastAPI()

                if __name__ == "__main__":
                    uvicorn.run("main:app", port=8765)  # expect: SBA605
            ''',
        }, raises="sqlalchemy.exc.InvalidRequestError: Table 'hero' is already defined for this "
                  "MetaData instance.", run="import runpy\nrunpy.run_path('main.py', "
                                            "run_name='__main__')",
           note="`python main.py`: uvicorn imports main.py again as `main`"),
        Invalid({
            "Dockerfile": '''
                FROM python:3.12-slim
                WORKDIR /app
                COPY . /app
                ENV PYTHONPATH=/app/src
                CMD ["uvicorn", "src.main:app", "--host", "0.0.0.0"]
            ''',
            "src/__init__.py": "",
            "src/main.py": '''
                from fastapi import FastAPI

                from src.models import Hero  # noqa: F401
                from api import router

                app = FastAPI()
                app.include_router(router)
            ''',
            "src/api.py": '''
                from fastapi import APIRouter

                from models import Hero  # expect: SBA605

                router = APIRouter()
            ''',
            "src/models.py": '''
                from typing import Optional

                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
            ''',
        }, raises="sqlalchemy.exc.InvalidRequestError: Table 'hero' is already defined for this "
                  "MetaData instance.", run="import sys\nsys.path.append('src')\nimport src.main",
           note="src/models.py is imported as src.models and as models"),
        Invalid({
            "Dockerfile": '''
                FROM python:3.12-slim
                WORKDIR /srv
                COPY . /srv
                ENV PYTHONPATH=/srv/app
                CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app import db
                from app.models import Team  # noqa: F401

                app = FastAPI(lifespan=db.lifespan)
            ''',
            "app/db.py": '''
                from contextlib import asynccontextmanager

                from sqlalchemy.ext.asyncio import create_async_engine
                from sqlmodel import SQLModel

                import models  # expect: SBA605

                engine = create_async_engine("sqlite+aiosqlite://")

                @asynccontextmanager
                async def lifespan(app):
                    async with engine.begin() as conn:
                        await conn.run_sync(SQLModel.metadata.create_all)
                    yield
            ''',
            "app/models.py": '''
                from typing import Optional

                from sqlmodel import Field, SQLModel

                class Team(SQLModel, table=True):
                    __tablename__ = "teams"
                    id: Optional[int] = Field(default=None, primary_key=True)
            ''',
        }, raises="sqlalchemy.exc.InvalidRequestError: Table 'teams' is already defined for "
                  "this MetaData instance.", run="import sys\nsys.path.append('app')\n"
                                                 "import app.main",
           note="app/models.py is imported as models (PYTHONPATH) and as app.models"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                import os
                import sys

                sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "db"))

                from fastapi import FastAPI

                from app.db.tables import Hero  # noqa: F401
                from tables import Hero as LegacyHero  # noqa: F401  # expect: SBA605

                app = FastAPI()
            ''',
            "app/db/__init__.py": "",
            "app/db/tables.py": '''
                from typing import Optional

                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
            ''',
        }, raises="sqlalchemy.exc.InvalidRequestError: Table 'hero' is already defined for this "
                  "MetaData instance.", run="import app.main",
           note="a sys.path.insert() makes app/db/ an import root too"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        yield from self._two_roots(model)
        yield from self._run_as_script(model)

    def _two_roots(self, model: ProjectModel) -> Iterator[Finding]:
        target = model.layout.target
        if target is None:
            return
        for path, arrivals in sorted(boot_arrivals(model, target.module).items()):
            names = list(dict.fromkeys(arrival.name for arrival in arrivals))
            if len(names) < 2:
                continue  # imported under one name: nothing is defined twice
            info = model.module_at(path)
            tables = _shared_tables(model, info.name) if info is not None else []
            if tables:
                kept, other = _split(model, arrivals, names)
                yield self._twice(model, kept, other, tables[0])

    def _twice(self, model: ProjectModel, first: Arrival, second: Arrival,
               table: ModelClass) -> Finding:
        assert second.importer is not None and second.record is not None
        related: Tuple[Location, ...] = ()
        if first.importer is not None and first.record is not None:
            related = (Location(str(first.importer.path), first.record.line, first.record.col,
                                f"imported as {first.name}"),)
        shown = _relative(first.path, model.layout.root)
        return self.report_in(
            second.importer, second.record.node,
            f"{shown} is imported as {second.name} here and as {first.name}{_by(first)}; its "
            f"tables are defined twice",
            f"Two import roots (one may come from a sys.path change) hold {shown}, so "
            f"Python runs it once as {first.name} and once "
            f"as {second.name}; the second run declares {table.name} again on "
            f"SQLModel.metadata and raises "
            f"{_ALREADY.format(table=_table_name(table))}",
            f"Import it by one name: write `{first.name}` here, as the app's own modules are "
            f"spelled, and drop the extra import root.",
            related=related,
        )

    def _run_as_script(self, model: ProjectModel) -> Iterator[Finding]:
        contexts = module_contexts(model)
        for name in sorted(table_modules(model)):
            tables = _shared_tables(model, name)
            info = model.modules[name]
            if not tables or name not in contexts:
                continue
            for call, spelled in _self_target(contexts[name], info.path):
                yield self._rerun(info, call, spelled, tables[0])

    def _rerun(self, info: ModuleInfo, call: ast.Call, spelled: str,
               table: ModelClass) -> Finding:
        return self.report_in(
            info, call,
            f"uvicorn.run({spelled!r}...) imports {info.path.name} again as "
            f"{spelled.partition(':')[0]}; its tables are defined twice",
            f"Run as a script, {info.path.name} is the module __main__ and has declared "
            f"{table.name} on SQLModel.metadata already; uvicorn then imports "
            f"{spelled.partition(':')[0]}, a second name for the same file, and raises "
            f"{_ALREADY.format(table=_table_name(table))}",
            "Pass the app object (`uvicorn.run(app, ...)`), or move `uvicorn.run` to a module "
            "without tables, or start the server with the uvicorn command instead.",
        )


def _by(arrival: Arrival) -> str:
    if arrival.importer is None or arrival.record is None:
        return " (the app's module)"
    return f" by {arrival.importer.name} line {arrival.record.line}"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
