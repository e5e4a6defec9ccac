"""Route signatures FastAPI analyses when a route is registered: SBA412 (a parameter or return
type FastAPI cannot turn into a field) and SBA413 (`Depends(get_db())`, the dependency called)."""
from __future__ import annotations

import ast
import dataclasses
from typing import Dict, Iterator, Optional, Set, Tuple

from ...analysis.routes import (Route, annotation_metadata, depends_calls, dependency_target,
                                expand_alias, is_depends, parameters, routes)
from ...analysis.values import own_nodes
from ...context import ModuleContext, keyword
from ...findings import Category, Finding, Severity
from ...knowledge.names import canonical
from ...project.model import ModuleInfo, ProjectModel
from ...project.reach import loaded_at_boot
from ...project.routers import FunctionValue, Resolver
from ..base import Invalid, ProjectRule, Rule, Valid

# Canonical name -> the class as Python shows it in FastAPI's error.
_NOT_FIELDS = {
    "sqlalchemy.orm.Session": "sqlalchemy.orm.session.Session",
    "sqlmodel.Session": "sqlmodel.orm.session.Session",
    "sqlalchemy.ext.asyncio.AsyncSession": "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlmodel.ext.asyncio.AsyncSession": "sqlmodel.ext.asyncio.session.AsyncSession",
    "sqlalchemy.ext.asyncio.AsyncEngine": "sqlalchemy.ext.asyncio.engine.AsyncEngine",
    "sqlalchemy.ext.asyncio.AsyncConnection": "sqlalchemy.ext.asyncio.engine.AsyncConnection",
    "sqlalchemy.Engine": "sqlalchemy.engine.base.Engine",
    "sqlalchemy.base.Engine": "sqlalchemy.engine.base.Engine",
    "sqlalchemy.Connection": "sqlalchemy.engine.base.Connection",
    "sqlalchemy.base.Connection": "sqlalchemy.engine.base.Connection",
}
# Class members that make a plain class usable by pydantic.
_PYDANTIC_HOOKS = frozenset({"__get_pydantic_core_schema__", "__get_validators__",
                             "__get_pydantic_json_schema__", "__modify_schema__"})
_ERROR = ("fastapi.exceptions.FastAPIError: Invalid args for response field! Hint: check that "
          "<class '{name}'> is a valid Pydantic field type.")

_DB = '''
    from typing import Iterator

    from sqlmodel import Session, create_engine

    engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})


    def get_db() -> Iterator[Session]:
        with Session(engine) as session:
            yield session
'''


class InvalidTypeInRouteSignature(Rule):
    code = "SBA412"
    name = "invalid-type-in-route-signature"
    severity = Severity.BLOCKING
    category = Category.APP
    versions = "Any FastAPI version."
    summary = "route parameter or return type FastAPI cannot turn into a field (Session, ...)"
    references = ("E12",)
    triggers = ("fastapi",)
    what = ("A parameter of a route, or of a dependency function the route reaches through "
            "`Depends`, annotated with a class FastAPI cannot read from a request and that has "
            "no `Depends`: a SQLAlchemy or SQLModel `Session`/`AsyncSession`, an engine or "
            "connection, or a plain class of the module (not a pydantic model, dataclass or "
            "enum). Also a route's return annotation (or `response_model`) of such a class, "
            "which FastAPI turns into the response model.")
    why = ("FastAPI builds a pydantic field for every such parameter when the route is "
           "registered, at import: `fastapi.exceptions.FastAPIError: Invalid args for response "
           "field! Hint: check that <class 'sqlalchemy.orm.session.Session'> is a valid "
           "Pydantic field type.` and uvicorn never starts.")
    how_to_fix = ("Inject sessions with a dependency: `db: Session = Depends(get_db)` or an "
                  "`Annotated[Session, Depends(get_db)]` alias. Return schema models, or pass "
                  "`response_model=None` to keep a return annotation FastAPI should not use.")
    fix_safety = "No automatic fix: the dependency that provides the object must be chosen."
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/db.py": _DB,
            "app/main.py": '''
                from typing import Annotated

                from fastapi import Depends, FastAPI, Request
                from sqlmodel import Field, Session, SQLModel, select

                from app.db import get_db

                SessionDep = Annotated[Session, Depends(get_db)]


                class Hero(SQLModel, table=True):
                    id: int = Field(primary_key=True)
                    name: str


                app = FastAPI()


                @app.get("/heroes")
                def read_heroes(session: SessionDep, request: Request) -> list[Hero]:
                    return list(session.exec(select(Hero)))


                @app.get("/heroes/{hero_id}")
                def read_hero(hero_id: int, db: Session = Depends(get_db)) -> Hero:
                    return db.get(Hero, hero_id)
            ''',
        }, note="sessions injected through Depends, an Annotated alias, SQLModel responses"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from collections.abc import AsyncIterator

                from fastapi import Depends, FastAPI
                from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
                SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


                async def get_session() -> AsyncIterator[AsyncSession]:
                    async with SessionLocal() as session:
                        yield session


                class UserRepository:
                    def __init__(self, session: AsyncSession = Depends(get_session)):
                        self.session = session


                app = FastAPI()


                @app.get("/users/count", response_model=None)
                async def count(repo: UserRepository = Depends()) -> AsyncSession:
                    return repo.session
            ''',
        }, note="a class injected with Depends(); response_model=None"),
    )
    invalid = (
        Invalid('''
            from fastapi import FastAPI
            from sqlalchemy import create_engine, select
            from sqlalchemy.orm import Session

            engine = create_engine("sqlite://")
            app = FastAPI()


            @app.get("/users")
            def read_users(db: Session):  # expect: SBA412
                return db.execute(select(1)).all()
        ''', raises=_ERROR.format(name="sqlalchemy.orm.session.Session")),
        Invalid('''
            from fastapi import APIRouter, Depends
            from sqlmodel.ext.asyncio.session import AsyncSession


            class UserService:
                def __init__(self, session):
                    self.session = session


            async def get_service(session: AsyncSession) -> UserService:  # expect: SBA412
                return UserService(session)


            router = APIRouter()


            @router.get("/users/me")
            async def read_me(service=Depends(get_service)) -> UserService:  # expect: SBA412
                return service
        ''', raises=_ERROR.format(name="sqlmodel.ext.asyncio.session.AsyncSession"),
           note="a dependency's parameter, and a plain class as the response model"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        seen: Set[int] = set()
        for route in routes(module):
            severity = self.severity_at(module, route.function)
            for parameter in parameters(module, route):
                annotation = parameter.annotation
                if annotation is None or id(annotation) in seen \
                        or not isinstance(parameter.default, (ast.Constant, type(None))) \
                        or depends_calls(module, parameter) \
                        or annotation_metadata(module, parameter):
                    continue
                shown = _not_a_field(module, annotation)
                if shown is not None:
                    seen.add(id(annotation))
                    yield self._parameter(module, route, parameter.arg, parameter.function,
                                          shown, severity)
            yield from self._response(module, route, severity)

    def _parameter(self, module: ModuleContext, route: Route, arg: ast.arg,
                   function: ast.AST, shown: str, severity: Severity) -> Finding:
        name = getattr(function, "name", "?")
        place = (f"route {name}()" if function is route.function
                 else f"dependency {name}() of route {route.function.name}()")
        return self.report(
            module, arg.annotation or arg,
            f"parameter `{arg.arg}: {ast.unparse(arg.annotation)}` of {place} is not a type "
            f"FastAPI can read from a request",
            f"{_version(module)} analyses {place} when {route.label} is registered and tries "
            f"to build a pydantic field for `{arg.arg}`; {shown} is not a pydantic type and "
            f"there is no Depends(): {_ERROR.format(name=shown)}",
            f"Inject it: `{arg.arg}: {ast.unparse(arg.annotation)} = Depends(<provider>)` (or "
            f"an `Annotated[{ast.unparse(arg.annotation)}, Depends(<provider>)]` alias).",
            severity=severity)

    def _response(self, module: ModuleContext, route: Route,
                  severity: Severity) -> Iterator[Finding]:
        if route.decorator.func.attr == "websocket":  # type: ignore[attr-defined]
            return
        declared = keyword(route.decorator, "response_model")
        annotation = declared.value if declared else route.function.returns
        if annotation is None:
            return
        shown = _not_a_field(module, annotation)
        if shown is None:
            return
        source = "response_model" if declared else "return annotation"
        yield self.report(
            module, annotation,
            f"{source} `{ast.unparse(annotation)}` of route {route.function.name}() is not a "
            f"type FastAPI can turn into a response model",
            f"{_version(module)} builds the response model from the {source} when "
            f"{route.label} is registered; {shown} is not a pydantic type: "
            f"{_ERROR.format(name=shown)}",
            "Return a schema model (a pydantic model/SQLModel), or pass `response_model=None` "
            "to the decorator." if not declared else
            "Give a schema model as response_model, or `response_model=None`.",
            severity=severity)


def _version(module: ModuleContext) -> str:
    version = module.project.version("fastapi")
    return f"FastAPI {version}" if version else "FastAPI"


def _not_a_field(module: ModuleContext, annotation: ast.expr) -> Optional[str]:
    """The class (as Python shows it) an annotation names when FastAPI cannot make it a field;
    None when it can or when it cannot be told."""
    annotation = expand_alias(module, annotation) or annotation
    if not isinstance(annotation, (ast.Name, ast.Attribute)):
        return None
    qualname = module.qualname(annotation)
    if qualname is not None:
        return _NOT_FIELDS.get(canonical(qualname))
    if not isinstance(annotation, ast.Name):
        return None
    bindings = module.scopes.lookup(annotation.id, annotation)
    if len(bindings) != 1 or bindings[0].kind != "class":
        return None
    cls = bindings[0].node
    assert isinstance(cls, ast.ClassDef)
    if not _plain_class(cls):
        return None
    return f"{module.module_name}.{cls.name}" if module.module_name else None


def _plain_class(cls: ast.ClassDef) -> bool:
    """A class with no base but `object`, no decorator (not a dataclass) and no pydantic
    hooks: pydantic cannot build a schema for it."""
    if cls.decorator_list or cls.keywords:
        return False
    if any(not (isinstance(b, ast.Name) and b.id == "object") for b in cls.bases):
        return False
    members = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    members |= {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}
    return not members & _PYDANTIC_HOOKS


class DependsCalled(ProjectRule):
    code = "SBA413"
    name = "depends-called"
    severity = Severity.RUNTIME
    category = Category.APP
    versions = "Any FastAPI version."
    summary = "Depends(get_db()) passes the generator or coroutine, not the dependency"
    references = ("E13",)
    codemod = "depends-uncall"
    what = ("`Depends(f())` / `Security(f())` where `f` is a generator, async generator or "
            "async function of the project: the call's result (a generator or coroutine "
            "object) is given to FastAPI instead of `f`. Only functions whose result is never "
            "callable are reported, so dependency factories (`Depends(require_role(\"admin\"))`) "
            "are left alone.")
    why = ("FastAPI inspects the dependency's signature when the route using it is registered: "
           "`TypeError: <async_generator object get_db at 0x7f...> is not a callable object`, "
           "at import when the route is declared at module level (the catalog's runtime "
           "default is raised to blocking then).")
    how_to_fix = "Pass the function itself: `Depends(get_db)`."
    fix_safety = ("Safe: the `depends-uncall` codemod removes the empty call parentheses "
                  "(`Depends(get_db)`, also in `Security()` and `dependency=`); calls with "
                  "arguments are left to the user.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/db.py": _DB,
            "app/main.py": '''
                from fastapi import Depends, FastAPI
                from sqlmodel import Session

                from app.db import get_db

                app = FastAPI()


                @app.get("/ping")
                def ping(db: Session = Depends(get_db)):
                    return {"ok": db.is_active}
            ''',
        }),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import Depends, FastAPI, HTTPException


                def require_role(role: str):
                    def checker(x_role: str = "guest"):
                        if x_role != role:
                            raise HTTPException(status_code=403)
                    return checker


                app = FastAPI()


                @app.delete("/items/{item_id}", dependencies=[Depends(require_role("admin"))])
                def delete_item(item_id: int):
                    return {"deleted": item_id}
            ''',
        }, note="a dependency factory returns the callable"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/db.py": '''
                from collections.abc import AsyncIterator

                from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

                engine = create_async_engine("sqlite+aiosqlite://")
                SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


                async def get_db() -> AsyncIterator[AsyncSession]:
                    async with SessionLocal() as session:
                        yield session
            ''',
            "app/main.py": '''
                from fastapi import Depends, FastAPI
                from sqlalchemy.ext.asyncio import AsyncSession

                from app.db import get_db

                app = FastAPI()


                @app.get("/ping")
                async def ping(db: AsyncSession = Depends(get_db())):  # expect: SBA413
                    return {"ok": db.is_active}
            ''',
        }, raises="TypeError: <async_generator object get_db at 0x", run="import app.main"),
        Invalid('''
            from typing import Annotated, Iterator

            from fastapi import Depends, FastAPI
            from sqlmodel import Session, create_engine

            engine = create_engine("sqlite://")


            def get_session() -> Iterator[Session]:
                with Session(engine) as session:
                    yield session


            SessionDep = Annotated[Session, Depends(get_session())]  # expect: SBA413
            app = FastAPI()


            @app.get("/ping")
            def ping(session: SessionDep):
                return {"ok": session.is_active}
        ''', raises="TypeError: <generator object get_session at 0x",
           note="in an Annotated alias"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        resolver = Resolver(model)
        boot = loaded_at_boot(model)
        for info in model:
            if info.tree is None or "Depends" not in (info.source.text or "") \
                    and "Security" not in (info.source.text or ""):
                continue
            context = model.context(info)
            in_routes = _route_depends(context)
            for call in context.calls:
                if not is_depends(context, call):
                    continue
                called = dependency_target(call)
                if not isinstance(called, ast.Call):
                    continue
                found = _produced(resolver, info, called)
                if found is None:
                    continue
                route = in_routes.get(id(call))
                severity = Severity.RUNTIME
                if route is not None and context.scopes.runs_at_import(route.function) \
                        and boot is not None and info.name in boot:
                    severity = Severity.BLOCKING
                yield self._finding(info, called, found, route, severity)

    def _finding(self, info: ModuleInfo, called: ast.Call, found: Tuple[str, str],
                 route: Optional[Route], severity: Severity) -> Finding:
        kind, name = found
        function = ast.unparse(called.func)
        when = (f"when {route.label} is registered at import" if route is not None and
                severity is Severity.BLOCKING else "when a route using it is registered")
        finding = self.report_in(
            info, called,
            f"Depends({ast.unparse(called)}) passes a {kind} object, not the dependency "
            f"{function}",
            f"{name}() is a {_described(kind)}, so calling it gives a {kind} object; FastAPI "
            f"reads the dependency's signature {when} and raises TypeError: <{kind} object "
            f"{name} at 0x...> is not a callable object.",
            f"Pass the function: `Depends({function})`.", severity=severity)
        if called.args or called.keywords:
            return dataclasses.replace(finding, fix=dataclasses.replace(finding.fix, codemod=None))
        return finding


def _described(kind: str) -> str:
    return {"async_generator": "async generator function (async def with yield)",
            "generator": "generator function (def with yield)",
            "coroutine": "coroutine function (async def)"}[kind]


def _produced(resolver: Resolver, info: ModuleInfo, called: ast.Call) -> Optional[Tuple[str, str]]:
    """(kind of object the call gives, function name) when a project function is called
    whose result is never callable: a generator, async generator or coroutine."""
    values = resolver.resolve(info, called.func)
    if not values or len(values) != 1 or not isinstance(values[0], FunctionValue):
        return None
    node = values[0].node
    if any(isinstance(d, (ast.Name, ast.Attribute, ast.Call)) for d in node.decorator_list):
        return None  # a decorator (contextmanager, lru_cache...) may change what it returns
    yields = any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(node))
    if isinstance(node, ast.AsyncFunctionDef):
        return ("async_generator" if yields else "coroutine"), node.name
    return ("generator", node.name) if yields else None


def _route_depends(context: ModuleContext) -> Dict[int, Route]:
    """id of each Depends call FastAPI analyses for a route of the module -> the route."""
    found: Dict[int, Route] = {}
    for route in routes(context):
        for parameter in parameters(context, route):
            for call in depends_calls(context, parameter):
                found.setdefault(id(call), route)
        for kw in route.decorator.keywords:
            if kw.arg == "dependencies" and isinstance(kw.value, (ast.List, ast.Tuple)):
                for element in kw.value.elts:
                    found.setdefault(id(element), route)
    return found
