"""What an expression is, for the database APIs: an engine (sync or async, and from which
call), a session (of which class), or a connection. Names, factories, dependency functions
and annotations (`Annotated[AsyncSession, Depends(...)]`) are followed; unknown stays None."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, List, Optional, TypeVar

from ..knowledge import names as N
from .values import agreed, returned_values

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 10
T = TypeVar("T")


@dataclass(frozen=True)
class Engine:
    is_async: bool
    call: Optional[ast.Call] = None  # the create_engine / create_async_engine call, if known

    @property
    def kind(self) -> str:
        return "AsyncEngine" if self.is_async else "Engine"


@dataclass(frozen=True)
class Session:
    cls: str  # canonical class name, e.g. N.SA_ASYNC_SESSION
    origin: Optional[ast.AST] = None  # where the class was chosen (annotation, factory call)

    @property
    def is_async(self) -> bool:
        return self.cls in N.ASYNC_SESSION_CLASSES

    @property
    def short(self) -> str:
        return {
            N.SA_ASYNC_SESSION: "sqlalchemy.ext.asyncio.AsyncSession",
            N.SQLMODEL_ASYNC_SESSION: "sqlmodel.ext.asyncio.session.AsyncSession",
            N.SA_SESSION: "sqlalchemy.orm.Session",
            N.SQLMODEL_SESSION: "sqlmodel.Session",
        }.get(self.cls, self.cls)


@dataclass(frozen=True)
class Factory:
    """A session factory: sessionmaker / async_sessionmaker / scoped_session."""

    cls: str
    call: ast.Call


@dataclass(frozen=True)
class Connection:
    engine: Engine


class ObjectResolver:
    def __init__(self, module: "ModuleContext") -> None:
        self.module = module

    # -- engines -----------------------------------------------------------------------------
    def engine(self, expr: Optional[ast.AST], depth: int = 0) -> Optional[Engine]:
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Call):
            name = self.module.call_name(expr)
            if name == N.CREATE_ENGINE:
                return Engine(False, expr)
            if name == N.CREATE_ASYNC_ENGINE:
                return Engine(True, expr)
            if name == N.ASYNC_ENGINE and expr.args:
                inner = self.engine(expr.args[0], depth + 1)
                return Engine(True, inner.call if inner else None)
            return self._via_function(expr, self.engine, depth)
        if isinstance(expr, ast.Attribute) and expr.attr == "sync_engine":
            inner = self.engine(expr.value, depth + 1)
            return Engine(False, inner.call) if inner and inner.is_async else None
        if isinstance(expr, ast.Name):
            return self._via_name(expr, self.engine, self._engine_annotation, depth)
        return None

    def _engine_annotation(self, annotation: ast.expr) -> Optional[Engine]:
        name = self.module.qualname(_unwrap_annotation(annotation))
        if name == N.ASYNC_ENGINE:
            return Engine(True)
        if name in ("sqlalchemy.Engine", "sqlalchemy.base.Engine"):
            return Engine(False)
        return None

    # -- session factories -------------------------------------------------------------------
    def factory(self, expr: Optional[ast.AST], depth: int = 0) -> Optional[Factory]:
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Call):
            name = self.module.call_name(expr)
            if name in (N.ASYNC_SESSIONMAKER, N.SESSIONMAKER):
                default = N.SA_ASYNC_SESSION if name == N.ASYNC_SESSIONMAKER else N.SA_SESSION
                class_kw = next((k.value for k in expr.keywords if k.arg == "class_"), None)
                cls = self.module.qualname(class_kw) if class_kw is not None else default
                return Factory(cls, expr) if cls else None
            if name in (N.SCOPED_SESSION, N.ASYNC_SCOPED_SESSION) and expr.args:
                return self.factory(expr.args[0], depth + 1)
            return self._via_function(expr, self.factory, depth)
        if isinstance(expr, ast.Name):
            return self._via_name(expr, self.factory, None, depth)
        return None

    # -- sessions ----------------------------------------------------------------------------
    def session(self, expr: Optional[ast.AST], depth: int = 0) -> Optional[Session]:
        """The session class of `expr`, an object used as a session."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            return self._via_name(expr, self._session_from_value, self.session_annotation, depth,
                                  param_default=self._session_from_depends)
        if isinstance(expr, ast.Call):
            return self._session_from_value(expr, depth)
        return None

    def _session_from_value(self, expr: ast.AST, depth: int) -> Optional[Session]:
        """A session made by `expr`: `AsyncSession(engine)`, `factory()`, `factory.begin()`."""
        if isinstance(expr, ast.Await):
            return None
        if not isinstance(expr, ast.Call):
            return self.session(expr, depth + 1) if isinstance(expr, ast.Name) else None
        name = self.module.call_name(expr)
        if name in N.ASYNC_SESSION_CLASSES | N.SYNC_SESSION_CLASSES:
            return Session(name, expr)
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr == "begin" and not expr.args:
            factory = self.factory(func.value, depth + 1)
            return Session(factory.cls, factory.call) if factory else None
        factory = self.factory(func, depth + 1)
        if factory is not None:
            return Session(factory.cls, factory.call)
        return self._via_function(expr, self._session_from_generator, depth)

    def _session_from_generator(self, expr: ast.AST, depth: int) -> Optional[Session]:
        return self.session(expr, depth + 1)

    def session_annotation(self, annotation: ast.expr, depth: int = 0) -> Optional[Session]:
        inner = _unwrap_annotation(annotation)
        name = self.module.qualname(inner)
        if name in N.ASYNC_SESSION_CLASSES | N.SYNC_SESSION_CLASSES:
            return Session(name, annotation)
        if isinstance(inner, ast.Name) and depth < _MAX_DEPTH:
            # A type alias: SessionDep = Annotated[AsyncSession, Depends(get_session)]
            bindings = self.module.scopes.lookup(inner.id, inner)
            if len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].value is not None:
                return self.session_annotation(bindings[0].value, depth + 1)
        return None

    def _session_from_depends(self, default: ast.expr, depth: int) -> Optional[Session]:
        """`session=Depends(get_session)`: what `get_session` yields or returns."""
        if not (isinstance(default, ast.Call) and _callee(default) == "Depends" and default.args):
            return None
        dep = default.args[0]
        if not isinstance(dep, ast.Name):
            return None
        bindings = self.module.scopes.lookup(dep.id, dep)
        if len(bindings) != 1 or bindings[0].kind != "def":
            return None
        func = bindings[0].node
        if func.returns is not None:  # type: ignore[attr-defined]
            found = self.session_annotation(func.returns, depth + 1)  # type: ignore[attr-defined]
            if found:
                return found
        results = {self.session(v, depth + 1) for v in _yielded_or_returned(func)}
        results.discard(None)
        return results.pop() if len(results) == 1 else None

    # -- connections -------------------------------------------------------------------------
    def connection(self, expr: Optional[ast.AST], depth: int = 0) -> Optional[Connection]:
        """`conn` bound by `with engine.connect() as conn` / `async with engine.begin() as conn`."""
        if not isinstance(expr, ast.Name) or depth > _MAX_DEPTH:
            return None
        bindings = self.module.scopes.lookup(expr.id, expr)
        if len(bindings) != 1 or bindings[0].kind != "with":
            return None
        made = bindings[0].value
        if isinstance(made, ast.Await):
            made = made.value
        if isinstance(made, ast.Call) and isinstance(made.func, ast.Attribute) and made.func.attr in ("connect", "begin"):
            engine = self.engine(made.func.value, depth + 1)
            return Connection(engine) if engine else None
        return None

    # -- shared following --------------------------------------------------------------------
    def _via_name(self, expr: ast.Name, from_value: Callable[[ast.AST, int], Optional[T]],
                  from_annotation: Optional[Callable[[ast.expr], Optional[T]]], depth: int,
                  param_default: Optional[Callable[[ast.expr, int], Optional[T]]] = None) -> Optional[T]:
        bindings = self.module.scopes.lookup(expr.id, expr)
        results = set()
        for binding in bindings:
            found = None
            if binding.kind in ("assign", "with") and binding.value is not None:
                found = from_value(binding.value, depth + 1)
            if found is None and binding.annotation is not None and from_annotation is not None:
                found = from_annotation(binding.annotation)
            if found is None and binding.kind == "param" and binding.value is not None and param_default:
                found = param_default(binding.value, depth + 1)
            if found is None:
                return None
            results.add(found)
        return results.pop() if len(results) == 1 else None

    def _via_function(self, call: ast.Call, resolve: Callable[[ast.AST, int], Optional[T]],
                      depth: int) -> Optional[T]:
        """`get_engine()` -> what the module's own `get_engine` returns on every path."""
        if not isinstance(call.func, ast.Name):
            return None
        bindings = self.module.scopes.lookup(call.func.id, call.func)
        if len(bindings) != 1 or bindings[0].kind != "def":
            return None
        return agreed(resolve(v, depth + 1) for v in returned_values(bindings[0].node))


def _yielded_or_returned(func: ast.AST) -> List[ast.expr]:
    found: List[ast.expr] = []
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Yield, ast.Return)) and node.value is not None:
            found.append(node.value)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _unwrap_annotation(annotation: ast.expr) -> ast.expr:
    """`Annotated[X, ...]`, `Optional[X]`, `X | None` and `"X"` -> X."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except (SyntaxError, ValueError):  # a NUL byte: ValueError on Python 3.9, 3.10
            return annotation
    if isinstance(annotation, ast.Subscript):
        head = annotation.value
        name = head.attr if isinstance(head, ast.Attribute) else head.id if isinstance(head, ast.Name) else None
        if name in ("Annotated", "Optional"):
            inner = annotation.slice
            if isinstance(inner, ast.Tuple) and inner.elts:
                inner = inner.elts[0]
            return _unwrap_annotation(inner)  # type: ignore[arg-type]
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        for side in (annotation.left, annotation.right):
            if not (isinstance(side, ast.Constant) and side.value is None):
                return _unwrap_annotation(side)
    return annotation


def _callee(call: ast.Call) -> Optional[str]:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
