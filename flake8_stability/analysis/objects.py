"""What an expression is, for the database APIs: an engine (sync or async, and from which
call), a session (of which class), or a connection. Names, factories, dependency functions,
context managers, `self.<attribute>` and annotations (`Annotated[AsyncSession,
Depends(...)]`) are followed; unknown stays None."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Callable, Dict, Iterable, Iterator, List, Optional, Sequence,
                    Tuple, TypeVar, Union)

from ..context import argument
from ..knowledge import names as N
from .models import parse_string_annotation
from .scopes import Binding
from .values import agreed, own_nodes, returned_values
from .walk import walk

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 10
_GENERATOR_TYPES = frozenset({"AsyncGenerator", "AsyncIterator", "AsyncIterable", "Generator",
                              "Iterator", "Iterable"})
_CONTEXT_MANAGERS = frozenset({"contextmanager", "asynccontextmanager"})
T = TypeVar("T")
FunctionDef = Union[ast.FunctionDef, ast.AsyncFunctionDef]


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
    declared: bool = False  # known only from a type annotation, not from the code making it

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


# An instance attribute: the values assigned to it, and its declared type.
_Assigned = Tuple[List[ast.expr], Optional[ast.expr]]


class ObjectResolver:
    def __init__(self, module: "ModuleContext") -> None:
        self.module = module
        self._attributes: Dict[ast.ClassDef, Dict[str, _Assigned]] = {}

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
                cls = self._factory_class(expr, name)
                return Factory(cls, expr) if cls else None
            if name in (N.SCOPED_SESSION, N.ASYNC_SCOPED_SESSION) and expr.args:
                return self.factory(expr.args[0], depth + 1)
            return self._via_function(expr, self.factory, depth)
        if isinstance(expr, ast.Name):
            return self._via_name(expr, self.factory, None, depth)
        return None

    def _factory_class(self, call: ast.Call, name: str) -> Optional[str]:
        """The session class a factory makes; None when `class_` may hide in `*args`/`**kw`."""
        if any(isinstance(a, ast.Starred) for a in call.args):
            return None
        # class_ was the second positional parameter of sessionmaker up to SQLAlchemy 1.4.
        class_expr = argument(call, 1, "class_")
        if class_expr is not None:
            return self.module.qualname(class_expr)
        if any(kw.arg is None for kw in call.keywords):
            return None
        return N.SA_ASYNC_SESSION if name == N.ASYNC_SESSIONMAKER else N.SA_SESSION

    # -- sessions ----------------------------------------------------------------------------
    def session(self, expr: Optional[ast.AST], depth: int = 0) -> Optional[Session]:
        """The session class of `expr`, an object used as a session."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            return self._session_of_name(expr, depth)
        if isinstance(expr, ast.Attribute):
            return self._session_of_attribute(expr, depth)
        return self._session_made_by(expr, depth, entered=False)

    def _session_of_name(self, expr: ast.Name, depth: int) -> Optional[Session]:
        bindings = self.module.scopes.lookup(expr.id, expr)
        return _agreed(self._session_of_binding(b, depth) for b in bindings)

    def _session_of_binding(self, binding: Binding, depth: int) -> Optional[Session]:
        found = None
        if binding.kind == "param" and binding.value is not None:
            found = self._session_from_depends(binding.value, depth + 1)
        elif binding.kind in ("assign", "with") and binding.value is not None:
            found = self._session_made_by(binding.value, depth + 1, entered=binding.kind == "with")
        if found is None and binding.annotation is not None and binding.kind in ("param", "assign"):
            found = self.session_annotation(binding.annotation, depth + 1)
        return found

    def _session_made_by(self, expr: ast.AST, depth: int, entered: bool) -> Optional[Session]:
        """The session `expr` evaluates to (`entered`: the object `async with expr as s` binds):
        `AsyncSession(engine)`, `factory()`, `factory.begin()`, `await make_session()`..."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            return self._awaited_session(expr.value, depth)
        if isinstance(expr, (ast.Name, ast.Attribute)):
            return self.session(expr, depth + 1)
        if not isinstance(expr, ast.Call):
            return None
        name = self.module.call_name(expr)
        if name in N.ASYNC_SESSION_CLASSES | N.SYNC_SESSION_CLASSES:
            return Session(name, expr)
        func = expr.func
        if entered and isinstance(func, ast.Attribute) and func.attr == "begin" and not expr.args:
            factory = self.factory(func.value, depth + 1)
            return Session(factory.cls, factory.call) if factory else None
        factory = self.factory(func, depth + 1)
        if factory is not None:
            return Session(factory.cls, factory.call)
        return self._session_from_call(expr, depth, entered)

    def _session_from_call(self, call: ast.Call, depth: int, entered: bool) -> Optional[Session]:
        """`make_session()`, or `async with session_scope() as s` over a context manager."""
        func = self._local_function(call.func)
        if func is None:
            return None
        if _is_generator(func):
            if entered and _is_context_manager(func):
                return self._common_session(_yielded_values(func), depth)
            return None
        if isinstance(func, ast.AsyncFunctionDef):
            return None  # calling it makes a coroutine, not a session
        return self._returned_session(func, depth)

    def _awaited_session(self, expr: ast.AST, depth: int) -> Optional[Session]:
        if not isinstance(expr, ast.Call):
            return None
        func = self._local_function(expr.func)
        if isinstance(func, ast.AsyncFunctionDef) and not _is_generator(func):
            return self._returned_session(func, depth)
        return None

    def _returned_session(self, func: FunctionDef, depth: int) -> Optional[Session]:
        found = self._common_session(returned_values(func), depth)
        if found is None and func.returns is not None:
            found = self.session_annotation(func.returns, depth + 1)
        return found

    def _common_session(self, values: Sequence[ast.AST], depth: int) -> Optional[Session]:
        return _agreed(self._session_made_by(v, depth + 1, entered=False) for v in values)

    def _session_of_attribute(self, expr: ast.Attribute, depth: int) -> Optional[Session]:
        """`self.session`: what the class's methods assign to it, else its declared type."""
        cls = self._owner_class(expr)
        if cls is None:
            return None
        values, declared = self._instance_attributes(cls).get(expr.attr, ([], None))
        found = self._common_session(values, depth) if values else None
        if found is None and declared is not None:
            found = self.session_annotation(declared, depth + 1)
        return found

    def _instance_attributes(self, cls: ast.ClassDef) -> Dict[str, _Assigned]:
        """attribute -> (values its methods assign to `self.<attribute>`, declared type), built
        in one walk per class."""
        if cls not in self._attributes:
            found: Dict[str, _Assigned] = {}
            for stmt in cls.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    values, _ = found.get(stmt.target.id, ([], None))
                    found[stmt.target.id] = (values, stmt.annotation)
                elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for node in walk(stmt):
                        for attr, value, annotation in _self_assignments(node):
                            values, declared = found.get(attr, ([], None))
                            found[attr] = (values + ([value] if value is not None else []),
                                           annotation or declared)
            self._attributes[cls] = found
        return self._attributes[cls]

    def _owner_class(self, expr: ast.Attribute) -> Optional[ast.ClassDef]:
        """The class whose instance `expr.value` is, when it is a method's `self`."""
        if not isinstance(expr.value, ast.Name):
            return None
        func = self.module.scopes.enclosing_function(expr)
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or not func.args.args:
            return None
        owner = self.module.scopes.parent(func)
        if not isinstance(owner, ast.ClassDef) or func.args.args[0].arg != expr.value.id:
            return None
        if any(_decorator_name(d) in ("staticmethod", "classmethod") for d in func.decorator_list):
            return None
        return owner

    def session_annotation(self, annotation: ast.expr, depth: int = 0) -> Optional[Session]:
        """The session an annotation stands for: the dependency of `Annotated[X, Depends(f)]`
        when it can be followed, else the annotated class (`declared`)."""
        if depth > _MAX_DEPTH:
            return None
        dependency = self._annotated_dependency(annotation)
        if dependency is not None:
            found = self._dependency_session(dependency, depth + 1)
            if found is not None:
                return found
        inner = _unwrap_annotation(annotation)
        name = self.module.qualname(inner)
        if name in N.ASYNC_SESSION_CLASSES | N.SYNC_SESSION_CLASSES:
            return Session(name, annotation, declared=True)
        if isinstance(inner, ast.Name):
            # A type alias: SessionDep = Annotated[AsyncSession, Depends(get_session)]
            bindings = self.module.scopes.lookup(inner.id, inner)
            if len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].value:
                return self.session_annotation(bindings[0].value, depth + 1)
        return None

    def _session_from_depends(self, default: ast.expr, depth: int) -> Optional[Session]:
        """`session=Depends(get_session)`: what `get_session` yields or returns."""
        dependency = self._dependency(default)
        return self._dependency_session(dependency, depth) if dependency is not None else None

    def _dependency_session(self, func: FunctionDef, depth: int) -> Optional[Session]:
        if not _is_generator(func):
            return self._returned_session(func, depth)
        found = self._common_session(_yielded_values(func), depth)
        if found is None and func.returns is not None:
            found = self.session_annotation(_yield_type(func.returns), depth + 1)
        return found

    def _dependency(self, expr: ast.AST) -> Optional[FunctionDef]:
        """The module's own function `f` of `Depends(f)`."""
        if not (isinstance(expr, ast.Call) and _callee(expr) == "Depends"):
            return None
        target = argument(expr, 0, "dependency")
        return self._local_function(target) if target is not None else None

    def _annotated_dependency(self, annotation: ast.expr) -> Optional[FunctionDef]:
        if not (isinstance(annotation, ast.Subscript) and _head(annotation) == "Annotated"):
            return None
        inner = annotation.slice
        metadata = inner.elts[1:] if isinstance(inner, ast.Tuple) else []
        found = [self._dependency(m) for m in metadata]
        return next((f for f in found if f is not None), None)

    def _local_function(self, expr: ast.AST) -> Optional[FunctionDef]:
        if not isinstance(expr, ast.Name):
            return None
        bindings = self.module.scopes.lookup(expr.id, expr)
        if len(bindings) != 1 or bindings[0].kind != "def":
            return None
        return bindings[0].node  # type: ignore[return-value]

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
        if isinstance(made, ast.Call) and isinstance(made.func, ast.Attribute) \
                and made.func.attr in ("connect", "begin"):
            engine = self.engine(made.func.value, depth + 1)
            return Connection(engine) if engine else None
        return None

    # -- shared following --------------------------------------------------------------------
    def _via_name(self, expr: ast.Name, from_value: Callable[[ast.AST, int], Optional[T]],
                  from_annotation: Optional[Callable[[ast.expr], Optional[T]]],
                  depth: int) -> Optional[T]:
        bindings = self.module.scopes.lookup(expr.id, expr)
        results = set()
        for binding in bindings:
            found = None
            if binding.kind in ("assign", "with") and binding.value is not None:
                found = from_value(binding.value, depth + 1)
            if found is None and binding.annotation is not None and from_annotation is not None:
                found = from_annotation(binding.annotation)
            if found is None:
                return None
            results.add(found)
        return results.pop() if len(results) == 1 else None

    def _via_function(self, call: ast.Call, resolve: Callable[[ast.AST, int], Optional[T]],
                      depth: int) -> Optional[T]:
        """`get_engine()` -> what the module's own `get_engine` returns on every path."""
        func = self._local_function(call.func)
        if func is None or isinstance(func, ast.AsyncFunctionDef) or _is_generator(func):
            return None  # a coroutine or a generator, not what the function returns
        return agreed(resolve(v, depth + 1) for v in returned_values(func))


def _agreed(candidates: Iterable[Optional[Session]]) -> Optional[Session]:
    """The first session when every candidate is known and of the same class; stops at the
    first unknown one."""
    first: Optional[Session] = None
    for found in candidates:
        if found is None or (first is not None and found.cls != first.cls):
            return None
        first = first or found
    return first


def _self_assignments(
        node: ast.AST) -> Iterator[Tuple[str, Optional[ast.expr], Optional[ast.expr]]]:
    """(attribute, value, annotation) of `self.<attr> = value` / `self.<attr>: T = value`."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if _is_self_attribute(target):
                yield target.attr, node.value, None  # type: ignore[attr-defined]
    elif isinstance(node, ast.AnnAssign) and _is_self_attribute(node.target):
        yield node.target.attr, node.value, node.annotation  # type: ignore[attr-defined]


def _is_self_attribute(target: ast.AST) -> bool:
    return (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
            and target.value.id == "self")


def _is_generator(func: ast.AST) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(func))


def _yielded_values(func: ast.AST) -> List[ast.expr]:
    """What a generator yields; [] when it delegates (`yield from`) or yields nothing."""
    nodes = list(own_nodes(func))
    if any(isinstance(n, ast.YieldFrom) for n in nodes):
        return []
    return [n.value for n in nodes if isinstance(n, ast.Yield) and n.value is not None]


def _is_context_manager(func: FunctionDef) -> bool:
    return any(_decorator_name(d) in _CONTEXT_MANAGERS for d in func.decorator_list)


def _yield_type(annotation: ast.expr) -> ast.expr:
    """`AsyncGenerator[X, None]`, `Iterator[X]` -> X; anything else unchanged."""
    if isinstance(annotation, ast.Subscript) and _head(annotation) in _GENERATOR_TYPES:
        inner = annotation.slice
        return inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
    return annotation


def _unwrap_annotation(annotation: ast.expr) -> ast.expr:
    """`Annotated[X, ...]`, `Optional[X]`, `X | None` and `"X"` -> X."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        parsed = parse_string_annotation(annotation)
        if parsed is None:
            return annotation
        annotation = parsed
    if isinstance(annotation, ast.Subscript) and _head(annotation) in ("Annotated", "Optional"):
        inner = annotation.slice
        if isinstance(inner, ast.Tuple) and inner.elts:
            inner = inner.elts[0]
        return _unwrap_annotation(inner)  # type: ignore[arg-type]
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        for side in (annotation.left, annotation.right):
            if not (isinstance(side, ast.Constant) and side.value is None):
                return _unwrap_annotation(side)
    return annotation


def _last_name(expr: ast.AST) -> Optional[str]:
    """`Depends` for `Depends` and `fastapi.Depends`."""
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return expr.id if isinstance(expr, ast.Name) else None


def _head(subscript: ast.Subscript) -> Optional[str]:
    return _last_name(subscript.value)


def _decorator_name(dec: ast.expr) -> Optional[str]:
    return _last_name(dec.func if isinstance(dec, ast.Call) else dec)


def _callee(call: ast.Call) -> Optional[str]:
    return _last_name(call.func)
