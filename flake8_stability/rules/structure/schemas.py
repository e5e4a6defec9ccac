"""Schema classes FastAPI cannot complete: SBA606."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

from packaging.version import Version

from ...analysis.forward_refs import UnresolvedRef, unresolved_refs
from ...analysis.routes import own_parameters
from ...context import ModuleContext
from ...findings import Category, Finding, Location, Severity
from ...project.model import ProjectModel
from ...project.tables import module_contexts
from ..base import Invalid, ProjectRule, Valid

_ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "options", "head", "trace",
                            "api_route", "websocket"})
_DEPENDENCIES = frozenset({"Depends", "Security"})
_REBUILDS = frozenset({"model_rebuild", "update_forward_refs"})
_DEFERRED_SINCE = Version("2.10")  # pydantic builds FastAPI's adapters on first use from here
_MAX_DEPTH = 5
_REQUEST = '''
import asyncio
import app.main

async def request(method, path, body=b""):
    scope = {"type": "http", "method": method, "path": path, "query_string": b"",
             "headers": [(b"content-type", b"application/json")], "root_path": "",
             "server": ("test", 80), "scheme": "http", "http_version": "1.1",
             "app": app.main.app}

    async def receive():
        return {"type": "http.request", "body": body}

    async def send(message):
        pass

    await app.main.app(scope, receive, send)
'''


@dataclass(frozen=True)
class _Use:
    """A route that makes FastAPI build `model` (module, class)."""

    module: ModuleContext
    node: ast.AST
    route: str


def _rebuilt(contexts: Dict[str, ModuleContext]) -> FrozenSet[str]:
    """Class names some module calls `.model_rebuild()` / `.update_forward_refs()` on."""
    found: Set[str] = set()
    for module in contexts.values():
        if not module.mentions(tuple(_REBUILDS)):
            continue
        for call in module.calls:
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in _REBUILDS:
                head = func.value
                found.add(head.attr if isinstance(head, ast.Attribute) else
                          getattr(head, "id", ""))
    return frozenset(found)


def _defining(model: ProjectModel, module: str, name: str,
              depth: int = 0) -> Optional[Tuple[str, str]]:
    """(module, class) that `name` in `module` is, following from-imports and re-exports."""
    info = model.modules.get(module)
    if info is None or info.tree is None or info.summary is None or depth > _MAX_DEPTH:
        return None
    if any(isinstance(stmt, ast.ClassDef) and stmt.name == name for stmt in info.tree.body):
        return module, name
    for record in info.summary.imports:
        if not record.runs_at_import:
            continue
        for original, alias in record.names:
            target = info.absolute(record)
            if (alias or original) == name and target is not None:
                return _defining(model, target, original, depth + 1)
    return None


def _route(decorator: ast.expr) -> Optional[ast.Call]:
    if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) \
            and decorator.func.attr in _ROUTE_METHODS:
        return decorator
    return None


def _route_types(function: ast.AST, route: ast.Call) -> Iterator[ast.expr]:
    """What FastAPI turns into pydantic fields: response_model, parameters, return type."""
    for keyword in route.keywords:
        if keyword.arg == "response_model":
            yield keyword.value
    assert isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
    for parameter in own_parameters(function):
        annotation = parameter.annotation
        if annotation is not None and not _dependency(annotation, parameter.default):
            yield annotation
    if function.returns is not None:
        yield function.returns


def _dependency(annotation: ast.expr, default: Optional[ast.expr]) -> bool:
    """A `Depends(...)` / `Security(...)` parameter: FastAPI calls it, it is no body field."""
    for expr in (annotation, default):
        for node in ast.walk(expr) if expr is not None else ():
            if isinstance(node, ast.Call) and _name(node.func) in _DEPENDENCIES:
                return True
    return False


def _name(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    return expr.attr if isinstance(expr, ast.Attribute) else None


def _uses(model: ProjectModel, contexts: Dict[str, ModuleContext]) -> Dict[Tuple[str, str], _Use]:
    """(module, class) of each model a route uses -> the first route using it."""
    found: Dict[Tuple[str, str], _Use] = {}
    for name in sorted(contexts):
        module = contexts[name]
        if not module.mentions(("fastapi", "APIRouter", "FastAPI")):
            continue
        for function in ast.walk(module.tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in function.decorator_list:
                route = _route(decorator)
                if route is None:
                    continue
                label = f"{ast.unparse(route.func)}() of {function.name}()"
                for expr in _route_types(function, route):
                    for node in ast.walk(expr):
                        key = _defining(model, name, node.id) \
                            if isinstance(node, ast.Name) else None
                        if key is not None and key not in found:
                            found[key] = _Use(module, route, label)
    return found


class ForwardReferenceUnresolved(ProjectRule):
    code = "SBA606"
    name = "forward-reference-unresolved"
    severity = Severity.BLOCKING
    category = Category.STRUCTURE
    versions = ("pydantic >= 2: before 2.10 route registration fails at import, from 2.10 every "
                "request to the route fails.")
    summary = "a schema used by a route refers to a class its module never defines at run time"
    references = ("S04",)
    what = ("A pydantic or SQLModel schema class whose string annotation (or any annotation "
            "under `from __future__ import annotations`) names a class that its module does not "
            "bind at run time: it is imported only under `if TYPE_CHECKING:`, or nowhere; no "
            "`Model.model_rebuild()` is called anywhere in the project; and a route uses the "
            "schema (`response_model=`, a parameter or the return annotation), so FastAPI has "
            "to build it.")
    why = ("Pydantic resolves the name in the schema's module and cannot: the schema stays "
           "\"not fully defined\". With pydantic < 2.10 FastAPI's route registration fails at "
           "import: `pydantic.errors.PydanticUndefinedAnnotation: name 'HeroRead' is not "
           "defined`. From pydantic 2.10 on the app boots and every request to the route fails "
           "with ``pydantic.errors.PydanticUserError: `TypeAdapter[typing.Annotated[app.schemas."
           "TeamRead, FieldInfo(annotation=NoneType, required=True)]]` is not fully defined; "
           "you should define ... and all referenced types, then call `.rebuild()` on the "
           "instance.``; building the schema directly gives ``PydanticUserError: `TeamRead` is "
           "not fully defined; you should define `HeroRead`, then call "
           "`TeamRead.model_rebuild()`.``")
    how_to_fix = ("Make the name exist at run time, then rebuild: import the referenced schema "
                  "for real in one place that runs after both modules are loaded (typically "
                  "`schemas/__init__.py`: import every schema module, then call "
                  "`TeamRead.model_rebuild()`), or import it at run time in the schema's module "
                  "when that creates no cycle.")
    fix_safety = ("Safe: `model_rebuild()` only completes the schema; a run-time import can "
                  "create an import cycle, which the rebuild in `schemas/__init__.py` avoids.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.schemas import TeamRead

                app = FastAPI()

                @app.get("/teams/{team_id}", response_model=TeamRead)
                async def read_team(team_id: int) -> dict:
                    return {"id": team_id, "heroes": []}
            ''',
            "app/schemas/__init__.py": '''
                from app.schemas.hero import HeroRead
                from app.schemas.team import TeamRead

                TeamRead.model_rebuild()

                __all__ = ["HeroRead", "TeamRead"]
            ''',
            "app/schemas/hero.py": '''
                from pydantic import BaseModel

                class HeroRead(BaseModel):
                    id: int
                    name: str
            ''',
            "app/schemas/team.py": '''
                from typing import TYPE_CHECKING, List

                from pydantic import BaseModel

                if TYPE_CHECKING:
                    from app.schemas.hero import HeroRead

                class TeamRead(BaseModel):
                    id: int
                    heroes: List["HeroRead"] = []
            ''',
        }, note="TYPE_CHECKING import, rebuilt in schemas/__init__.py"),
        Valid('''
            from __future__ import annotations

            from typing import List, Literal, Optional

            from fastapi import FastAPI
            from sqlmodel import Field, SQLModel

            app = FastAPI()

            class TeamRead(SQLModel):
                id: int
                role: Literal["admin", "member"] = "member"
                heroes: List[HeroRead] = []

            class HeroRead(SQLModel):
                id: int
                team: Optional[TeamRead] = Field(default=None)

            @app.get("/teams/{team_id}")
            async def read_team(team_id: int) -> TeamRead:
                return TeamRead(id=team_id)
        ''', note="a forward reference to a class defined later in the same module"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.schemas.team import TeamRead

                app = FastAPI()

                @app.get("/teams/{team_id}", response_model=TeamRead)
                async def read_team(team_id: int) -> dict:
                    return {"id": team_id, "heroes": []}
            ''',
            "app/schemas/__init__.py": "",
            "app/schemas/hero.py": '''
                from pydantic import BaseModel

                class HeroRead(BaseModel):
                    id: int
            ''',
            "app/schemas/team.py": '''
                from typing import TYPE_CHECKING, List

                from pydantic import BaseModel

                if TYPE_CHECKING:
                    from app.schemas.hero import HeroRead

                class TeamRead(BaseModel):
                    id: int
                    heroes: List["HeroRead"] = []  # expect: SBA606
            ''',
        }, raises="pydantic.errors.PydanticUserError: `TypeAdapter[typing.Annotated["
                  "app.schemas.team.TeamRead, FieldInfo(annotation=NoneType, required=True)]]` "
                  "is not fully defined",
           run=_REQUEST + "\nasyncio.run(request('GET', '/teams/1'))",
           note="pydantic >= 2.10: the first request fails (< 2.10: the import)"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.schemas import TeamCreate

                app = FastAPI()

                @app.post("/teams")
                async def create_team(team: TeamCreate) -> dict:
                    return {"name": team.name}
            ''',
            "app/schemas.py": '''
                from __future__ import annotations

                from typing import Optional

                from pydantic import BaseModel

                class TeamCreate(BaseModel):
                    name: str
                    owner: Optional[UserCreate] = None  # expect: SBA606
            ''',
        }, raises="pydantic.errors.PydanticUserError: `TypeAdapter[typing.Annotated["
                  "app.schemas.TeamCreate, FieldInfo(annotation=NoneType, required=True, "
                  "alias='team'",
           run=_REQUEST + "\nasyncio.run(request('POST', '/teams', b'{\"name\": \"x\"}'))",
           note="a name defined nowhere, in a request body"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        contexts = module_contexts(model)
        rebuilt = _rebuilt(contexts)
        uses: Optional[Dict[Tuple[str, str], _Use]] = None
        for name in sorted(contexts):
            refs = [ref for ref in unresolved_refs(contexts[name])
                    if ref.model.name not in rebuilt]
            if not refs:
                continue
            uses = _uses(model, contexts) if uses is None else uses
            yield from self._findings(model, name, refs, uses)

    def _findings(self, model: ProjectModel, module: str, refs: List[UnresolvedRef],
                  uses: Dict[Tuple[str, str], _Use]) -> Iterator[Finding]:
        info = model.modules[module]
        reported: Set[str] = set()
        for ref in refs:
            use = uses.get((module, ref.model.name))
            if use is None or ref.model.name in reported:
                continue
            reported.add(ref.model.name)
            severity, when = self._when(model, ref.name)
            yield self.report_in(
                info, ref.annotation,
                f"{ref.model.name}.{ref.attribute} refers to {ref.name!r}, which {module} does "
                f"not define or import at run time; {use.route} uses {ref.model.name}",
                f"Pydantic resolves {ref.name!r} in {module}'s namespace, where it only exists "
                f"for type checkers (or nowhere), and nothing calls "
                f"{ref.model.name}.model_rebuild(), so {ref.model.name} is not fully defined: "
                f"{when}",
                f"Import {ref.name} at run time where it causes no cycle (e.g. in the schemas "
                f"package's __init__.py, after importing every schema module) and call "
                f"{ref.model.name}.model_rebuild() there.",
                severity=severity,
                related=(Location(use.module.path, use.node.lineno, use.node.col_offset,
                                  f"{use.route} makes FastAPI build {ref.model.name}"),),
            )

    @staticmethod
    def _when(model: ProjectModel, name: str) -> Tuple[Severity, str]:
        version = model.environment.version("pydantic")
        if version is None:
            return Severity.WARNING, (
                f"pydantic's version is unknown ({model.environment.describe('pydantic')}); "
                f"assumed pydantic 2, which fails at import before 2.10 "
                f"(PydanticUndefinedAnnotation) and on the first request to the route from 2.10 "
                f"(PydanticUserError)")
        if version.major < 2:
            return Severity.WARNING, (
                f"pydantic {version} (v1) needs update_forward_refs(); assumed to fail when the "
                f"route is used")
        if version < _DEFERRED_SINCE:
            return Severity.BLOCKING, (
                f"with pydantic {version} FastAPI fails while registering the route, at import: "
                f"PydanticUndefinedAnnotation: name {name!r} is not defined")
        return Severity.RUNTIME, (
            f"with pydantic {version} the app boots and the first request to the route fails "
            f"with PydanticUserError: `TypeAdapter[...]` is not fully defined")
