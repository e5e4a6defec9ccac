"""The project's router graph: every `FastAPI()`/`Starlette()` app and `APIRouter()` object,
the routes registered on each, and every `include_router(...)`/`mount(...)` call, resolved
across modules (re-exports, aliases, `import app.api.users as users`, lists of routers included
in a loop, routers returned by functions). What an expression cannot be resolved to stays
unknown; nothing is imported or run."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, Iterator, List, Optional, Set, Tuple, Union

from ..analysis.scopes import Binding
from ..analysis.values import own_nodes, returned_values
from ..context import ModuleContext
from .model import ModuleInfo, ProjectModel
from .resolve import PROJECT, UNKNOWN

APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI",
                         "starlette.applications.Starlette"})
ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})
ROUTE_DECORATORS = frozenset({"get", "post", "put", "patch", "delete", "options", "head",
                              "trace", "api_route", "websocket", "route", "websocket_route"})
ROUTE_CALLS = frozenset({"add_api_route", "add_api_websocket_route", "add_route",
                         "add_websocket_route"})
INCLUDES = frozenset({"include_router", "mount"})
_WORDS = ("APIRouter", "FastAPI", "Starlette", "include_router", "mount")
_MAX_DEPTH = 12


@dataclass(frozen=True)
class RouterObject:
    """An app or router created by a call; `name` is its module-level binding, or
    `function.local` for one created inside a function (`scoped`), or `<line N>` inline."""

    module: str
    name: str
    kind: str  # "app" or "router"
    scoped: bool
    call: ast.Call = field(compare=False, hash=False, repr=False)
    info: ModuleInfo = field(compare=False, hash=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class ModuleValue:
    info: ModuleInfo


@dataclass(frozen=True)
class FunctionValue:
    info: ModuleInfo
    node: Union[ast.FunctionDef, ast.AsyncFunctionDef] = field(compare=False, hash=False)


@dataclass(frozen=True)
class ClassValue:
    info: ModuleInfo
    node: ast.ClassDef = field(compare=False, hash=False)


@dataclass(frozen=True)
class CallResult:
    """What calling a project function gives when it is not a router: `None` or a coroutine."""

    kind: str  # "NoneType" or "coroutine"
    function: FunctionValue


@dataclass(frozen=True)
class ListValue:
    items: Tuple["Value", ...]


Value = Union[RouterObject, ModuleValue, FunctionValue, ClassValue, CallResult, ListValue]


@dataclass(frozen=True)
class Include:
    """One `parent.include_router(child)` / `parent.mount(path, child)` call; `parent` is None
    when it cannot be told, `children` None when the argument cannot be resolved."""

    info: ModuleInfo
    call: ast.Call
    method: str
    argument: Optional[ast.expr]
    parent: Optional[RouterObject]
    children: Optional[Tuple[Value, ...]]

    @property
    def routers(self) -> Tuple[RouterObject, ...]:
        return tuple(c for c in self.children or () if isinstance(c, RouterObject))


@dataclass(frozen=True)
class Registration:
    """A route (or an include) added to `router` by `node`, in `info`."""

    router: RouterObject
    info: ModuleInfo
    node: ast.AST
    label: str


class Resolver:
    """What expressions of the project's modules stand for, as router-graph values."""

    def __init__(self, model: ProjectModel) -> None:
        self.model = model
        self._objects: Dict[Tuple[str, str], RouterObject] = {}

    def context(self, info: ModuleInfo) -> ModuleContext:
        return self.model.context(info)

    def resolve(self, info: ModuleInfo, expr: ast.AST, depth: int = 0) -> Optional[List[Value]]:
        """The values `expr` may have where it is written; None when unknown."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            bindings = self.context(info).scopes.lookup(expr.id, expr)
            return self._bindings(info, expr.id, bindings, depth)
        if isinstance(expr, ast.Attribute):
            return self._attribute(info, expr, depth)
        if isinstance(expr, ast.Call):
            return self._call(info, expr, depth)
        if isinstance(expr, (ast.List, ast.Tuple)):
            items = [self.resolve(info, element, depth + 1) for element in expr.elts]
            if any(item is None for item in items) or any(
                    isinstance(e, ast.Starred) for e in expr.elts):
                return None
            return [ListValue(tuple(v for item in items for v in item or ()))]
        return None

    def top_level(self, info: ModuleInfo, name: str, depth: int = 0) -> Optional[List[Value]]:
        """What module `info`'s global `name` is (a submodule when nothing binds it)."""
        if info.tree is None:
            return None
        bindings = self.context(info).scopes.bindings[info.tree].get(name, [])
        if bindings:
            return self._bindings(info, name, bindings, depth)
        submodule = self.model.modules.get(f"{info.name}.{name}")
        if submodule is not None and info.is_package:
            return [ModuleValue(submodule)]
        return None

    def dotted(self, dotted: str, depth: int = 0) -> Optional[List[Value]]:
        """A dotted name imported from the project (`app.api.users` or `app.api.router`)."""
        info = self.model.project_module(dotted)
        if info is not None:
            return [ModuleValue(info)]
        module, _, name = dotted.rpartition(".")
        owner = self.model.project_module(module) if module else None
        return self.top_level(owner, name, depth + 1) if owner is not None else None

    def _bindings(self, info: ModuleInfo, name: str, bindings: List[Binding],
                  depth: int) -> Optional[List[Value]]:
        found: List[Value] = []
        for binding in bindings:
            values = self._binding(info, name, binding, depth)
            if values is None:
                return None
            found.extend(v for v in values if v not in found)
        return found or None

    def _binding(self, info: ModuleInfo, name: str, binding: Binding,
                 depth: int) -> Optional[List[Value]]:
        if binding.kind == "assign" and binding.value is not None:
            made = self.created(info, binding.value, name, binding.node)
            return [made] if made else self.resolve(info, binding.value, depth + 1)
        if binding.kind == "import":
            imported = self.imported(info, binding.node, name)
            return self.dotted(imported, depth + 1) if imported else None
        if binding.kind == "def":
            return [FunctionValue(info, binding.node)]  # type: ignore[arg-type]
        if binding.kind == "class":
            return [ClassValue(info, binding.node)]  # type: ignore[arg-type]
        if binding.kind == "for" and isinstance(binding.node, (ast.For, ast.AsyncFor)):
            return self._loop_items(info, binding.node, depth)
        return None

    def imported(self, info: ModuleInfo, node: ast.AST, local: str) -> Optional[str]:
        """The dotted name an import statement binds to `local`."""
        return self.context(info).imports.bound(node, local)

    def _loop_items(self, info: ModuleInfo, loop: Union[ast.For, ast.AsyncFor],
                    depth: int) -> Optional[List[Value]]:
        if not isinstance(loop.target, ast.Name):
            return None
        values = self.resolve(info, loop.iter, depth + 1)
        if values is None or not all(isinstance(v, ListValue) for v in values):
            return None
        return [item for v in values for item in v.items]  # type: ignore[union-attr]

    def _attribute(self, info: ModuleInfo, expr: ast.Attribute,
                   depth: int) -> Optional[List[Value]]:
        bases = self.resolve(info, expr.value, depth + 1)
        if bases is None:
            return None
        found: List[Value] = []
        for base in bases:
            if isinstance(base, ModuleValue):
                values = self.top_level(base.info, expr.attr, depth + 1)
            elif isinstance(base, RouterObject) and base.kind == "app" and expr.attr == "router":
                values = [base]  # `app.router` is the app's own router
            else:
                values = None
            if values is None:
                return None
            found.extend(values)
        return found

    def _call(self, info: ModuleInfo, call: ast.Call, depth: int) -> Optional[List[Value]]:
        made = self.created(info, call, None, call)
        if made is not None:
            return [made]
        functions = self.resolve(info, call.func, depth + 1)
        if not functions or len(functions) != 1 or not isinstance(functions[0], FunctionValue):
            return None
        return self.returned(functions[0], depth)

    def returned(self, function: FunctionValue, depth: int = 0) -> Optional[List[Value]]:
        """What calling a project function gives, when it can be told."""
        node = function.node
        if node.decorator_list:
            return None  # a decorator may change what calling it gives
        if isinstance(node, ast.AsyncFunctionDef):
            return [CallResult("coroutine", function)]
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(node)):
            return None
        returns = [n for n in own_nodes(node) if isinstance(n, ast.Return)]
        if all(r.value is None or (isinstance(r.value, ast.Constant) and r.value.value is None)
               for r in returns):
            return [CallResult("NoneType", function)]
        values = returned_values(node)
        found: List[Value] = []
        for value in values:
            resolved = self.resolve(function.info, value, depth + 1)
            if resolved is None:
                return None
            found.extend(resolved)
        return found or None

    def created(self, info: ModuleInfo, expr: ast.AST, name: Optional[str],
                statement: ast.AST) -> Optional[RouterObject]:
        """The app or router `expr` creates (`APIRouter(...)`), named after its binding."""
        if not isinstance(expr, ast.Call):
            return None
        context = self.context(info)
        called = context.call_name(expr)
        if called not in APP_CLASSES and called not in ROUTER_CLASSES:
            return None
        scope = context.scopes.scope_of(statement)
        scoped = not isinstance(scope, ast.Module)
        if name is None:
            label = f"<line {expr.lineno}>"
        else:
            label = f"{getattr(scope, 'name', 'lambda')}.{name}" if scoped else name
        key = (info.name, label)
        if key not in self._objects:
            self._objects[key] = RouterObject(info.name, label,
                                              "app" if called in APP_CLASSES else "router",
                                              scoped or name is None, expr, info)
        return self._objects[key]


@dataclass
class RouterGraph:
    resolver: Resolver
    objects: Dict[Tuple[str, str], RouterObject]
    includes: List[Include]
    registrations: List[Registration]
    app: Optional[RouterObject]

    @property
    def complete(self) -> bool:
        """Whether every include argument of the project was resolved."""
        return all(include.children is not None for include in self.includes)

    def children(self, router: RouterObject) -> Iterator[RouterObject]:
        for include in self.includes:
            if include.parent == router:
                yield from include.routers

    def reachable(self) -> Set[RouterObject]:
        """Apps and routers the target app serves (through includes and mounts)."""
        if self.app is None:
            return set()
        seen = {self.app}
        pending = [self.app]
        while pending:
            for child in self.children(pending.pop()):
                if child not in seen:
                    seen.add(child)
                    pending.append(child)
        return seen

    def included(self, router: RouterObject) -> List[Include]:
        return [include for include in self.includes if router in include.routers]

    def module_routers(self, info: ModuleInfo) -> List[RouterObject]:
        """The routers module `info` binds to global names."""
        found = []
        for name, bindings in self.resolver.context(info).scopes.bindings[info.tree].items():
            for binding in bindings:
                made = (self.resolver.created(info, binding.value, name, binding.node)
                        if binding.kind == "assign" and binding.value is not None else None)
                if made is not None and made.kind == "router" and made not in found:
                    found.append(made)
        return found

    def routes(self, router: RouterObject) -> List[Registration]:
        return [r for r in self.registrations if r.router == router]

    def served_routes(self, router: RouterObject) -> List[Registration]:
        """The routes of `router` and of the routers included into it."""
        found: List[Registration] = []
        seen: Set[RouterObject] = set()
        pending = [router]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            found.extend(self.routes(current))
            pending.extend(self.children(current))
        return found


def _relevant(info: ModuleInfo) -> bool:
    text = info.source.text or ""
    return info.tree is not None and not is_test(info) and any(word in text for word in _WORDS)


def is_test(info: ModuleInfo) -> bool:
    """A module of the test suite (its apps and routers are not the served app's)."""
    parts = info.path.parts
    name = info.path.name
    return (any(part in ("tests", "test") for part in parts[:-1]) or name == "conftest.py"
            or name.startswith("test_") or name.endswith("_test.py"))


@lru_cache(maxsize=8)
def router_graph(model: ProjectModel) -> RouterGraph:
    resolver = Resolver(model)
    includes: List[Include] = []
    registrations: List[Registration] = []
    for info in sorted(model, key=lambda i: str(i.path)):
        if not _relevant(info):
            continue
        context = model.context(info)
        includes.extend(_includes(resolver, info, context))
        registrations.extend(_registrations(resolver, info, context))
    return RouterGraph(resolver, resolver._objects, includes, registrations,
                       _target_app(model, resolver))


def _owner(resolver: Resolver, info: ModuleInfo, expr: ast.expr) -> Optional[RouterObject]:
    values = resolver.resolve(info, expr)
    if values and len(values) == 1 and isinstance(values[0], RouterObject):
        return values[0]
    return None


def _includes(resolver: Resolver, info: ModuleInfo, context: ModuleContext) -> Iterator[Include]:
    for call in context.calls:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in INCLUDES):
            continue
        position, keyword = (0, "router") if func.attr == "include_router" else (1, "app")
        argument = _argument(call, position, keyword)
        parent = _owner(resolver, info, func.value)
        if parent is None and func.attr == "mount":
            continue  # not an app of the project (an os mount, another library's object)
        values = resolver.resolve(info, argument) if argument is not None else None
        if values is None and argument is not None and _external_call(resolver, info, argument):
            values = []  # another library's app or router (StaticFiles(), a plugin's router)
        children = _flatten(values) if values is not None else None
        yield Include(info, call, func.attr, argument, parent, children)


def _external_call(resolver: Resolver, info: ModuleInfo, expr: ast.expr) -> bool:
    """Whether `expr` calls something imported from outside the project (it cannot return
    one of the project's routers)."""
    if not isinstance(expr, ast.Call):
        return False
    root = expr.func
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name):
        return False
    context = resolver.context(info)
    bindings = context.scopes.lookup(root.id, root)
    if len(bindings) != 1 or bindings[0].kind != "import":
        return False
    dotted = resolver.imported(info, bindings[0].node, root.id)
    top = dotted.split(".")[0] if dotted else None
    return top is not None and resolver.model.resolve(top).kind not in (PROJECT, UNKNOWN)


def _argument(call: ast.Call, position: int, name: str) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords):
        return None
    return call.args[position] if position < len(call.args) else None


def _flatten(values: List[Value]) -> Tuple[Value, ...]:
    found: List[Value] = []
    for value in values:
        found.extend(_flatten(list(value.items)) if isinstance(value, ListValue) else [value])
    return tuple(found)


def _registrations(resolver: Resolver, info: ModuleInfo,
                   context: ModuleContext) -> Iterator[Registration]:
    for function in context.scopes.functions:
        for decorator in function.decorator_list:
            if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) \
                    and decorator.func.attr in ROUTE_DECORATORS:
                owner = _owner(resolver, info, decorator.func.value)
                if owner is not None:
                    yield Registration(owner, info, decorator,
                                       f"{decorator.func.attr}() route {function.name}()")
    for call in context.calls:
        if isinstance(call.func, ast.Attribute) and call.func.attr in ROUTE_CALLS:
            owner = _owner(resolver, info, call.func.value)
            if owner is not None:
                yield Registration(owner, info, call, f"{call.func.attr}() at line {call.lineno}")


def _target_app(model: ProjectModel, resolver: Resolver) -> Optional[RouterObject]:
    """The app object the ASGI target names (the app a factory returns, with a factory)."""
    target = model.layout.target
    info = model.project_module(target.module) if target else None
    if target is None or info is None or "." in target.attribute:
        return None
    values = resolver.top_level(info, target.attribute)
    if values and len(values) == 1 and isinstance(values[0], FunctionValue):
        values = resolver.returned(values[0])  # uvicorn calls a factory even without --factory
    if values and len(values) == 1 and isinstance(values[0], RouterObject) \
            and values[0].kind == "app":
        return values[0]
    return None


def module_apps(model: ProjectModel, info: ModuleInfo) -> List[Tuple[str, ast.stmt]]:
    """(name, statement) of every `NAME = FastAPI(...)` / `Starlette(...)` of module `info`,
    at any depth (module level, under `if`, inside functions), in source order."""
    if not _relevant(info) and not (info.tree is not None and is_test(info)):
        return []
    context = model.context(info)
    found = []
    for scope_names in context.scopes.bindings.values():
        for name, bindings in scope_names.items():
            for binding in bindings:
                if binding.kind == "assign" and isinstance(binding.value, ast.Call) \
                        and context.call_name(binding.value) in APP_CLASSES:
                    found.append((name, binding.node))
    return sorted(found, key=lambda item: (item[1].lineno, item[0]))
