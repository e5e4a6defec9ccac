"""FastAPI routes of a module and the parameters FastAPI reads from the request: those of the
route function (`@app.post(...)`, `@router.get(...)`) and of the module's own dependency
functions it reaches through `Depends(f)` / `Security(f)` (also in `dependencies=[...]` and
`Annotated` aliases), as FastAPI analyses them when the route is registered."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, List, Optional, Set, Tuple, Union

from .models import parse_string_annotation, subscript_elements

if TYPE_CHECKING:
    from ..context import ModuleContext

FunctionDef = Union[ast.FunctionDef, ast.AsyncFunctionDef]

ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "options", "head", "trace",
                           "api_route", "websocket"})
_APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.APIRouter", "fastapi.routing.APIRouter",
                          "fastapi.applications.FastAPI"})
_DEPENDS = frozenset({"fastapi.Depends", "fastapi.Security", "fastapi.params.Depends",
                      "fastapi.params.Security", "fastapi.param_functions.Depends",
                      "fastapi.param_functions.Security"})
_MAX_DEPTH = 6


@dataclass(frozen=True)
class Parameter:
    """One parameter of a route or of a dependency function the route reaches."""

    arg: ast.arg
    default: Optional[ast.expr]
    function: FunctionDef

    @property
    def annotation(self) -> Optional[ast.expr]:
        return self.arg.annotation


@dataclass(frozen=True)
class Route:
    function: FunctionDef
    decorator: ast.Call  # `@app.post("/login")`: FastAPI analyses the parameters here

    @property
    def label(self) -> str:
        return f"{ast.unparse(self.decorator.func)}() route {self.function.name}()"


def routes(module: "ModuleContext") -> List[Route]:
    """Every function of the module registered as a route by a decorator."""
    if not module.imports.imports_from("fastapi"):
        return []
    found = []
    for function in module.scopes.functions:
        for decorator in function.decorator_list:
            if _is_route_decorator(module, decorator):
                found.append(Route(function, decorator))  # type: ignore[arg-type]
                break
    return found


def parameters(module: "ModuleContext", route: Route) -> Iterator[Parameter]:
    """The route's parameters, then those of the module's dependency functions it reaches."""
    seen: Set[ast.AST] = set()
    pending: List[Tuple[FunctionDef, int]] = [(route.function, 0)]
    for keyword in route.decorator.keywords:
        if keyword.arg == "dependencies" and isinstance(keyword.value, (ast.List, ast.Tuple)):
            pending.extend((f, 1) for f in _dependency_functions(module, keyword.value.elts))
    while pending:
        function, depth = pending.pop(0)
        if function in seen or depth > _MAX_DEPTH:
            continue
        seen.add(function)
        for parameter in own_parameters(function):
            yield parameter
            pending.extend((f, depth + 1) for f in _dependency_functions(
                module, depends_calls(module, parameter)))


def own_parameters(function: FunctionDef) -> Iterator[Parameter]:
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    defaults: List[Optional[ast.expr]] = [None] * (len(positional) - len(arguments.defaults))
    pairs = list(zip(positional, defaults + list(arguments.defaults)))
    pairs += list(zip(arguments.kwonlyargs, arguments.kw_defaults))
    for argument, default in pairs:
        yield Parameter(argument, default, function)


def annotation_metadata(module: "ModuleContext", parameter: Parameter) -> List[ast.expr]:
    """The `Annotated[...]` metadata of a parameter's annotation (through a module-level alias
    such as `FormDep = Annotated[OAuth2PasswordRequestForm, Depends()]`)."""
    annotation = expand_alias(module, parameter.annotation)
    if not isinstance(annotation, ast.Subscript):
        return []
    if module.models.is_typing(annotation.value, annotation, "Annotated"):
        return subscript_elements(annotation)[1:]
    return []


def expand_alias(module: "ModuleContext", annotation: Optional[ast.expr]) -> Optional[ast.expr]:
    """A string annotation parsed, and a name bound once to a subscript replaced by it."""
    if annotation is None:
        return None
    annotation = parse_string_annotation(annotation) or annotation
    if isinstance(annotation, ast.Name):
        bindings = module.scopes.lookup(annotation.id, annotation)
        if len(bindings) == 1 and bindings[0].kind == "assign" \
                and isinstance(bindings[0].value, ast.Subscript):
            return bindings[0].value
    return annotation


def depends_calls(module: "ModuleContext", parameter: Parameter) -> List[ast.Call]:
    """The `Depends(...)` / `Security(...)` calls of a parameter: its default or metadata."""
    candidates = [parameter.default, *annotation_metadata(module, parameter)]
    return [c for c in candidates if isinstance(c, ast.Call) and is_depends(module, c)]


def is_depends(module: "ModuleContext", call: ast.Call) -> bool:
    return module.call_name(call) in _DEPENDS


def dependency_target(call: ast.Call) -> Optional[ast.expr]:
    """The callable of `Depends(f)`; None for `Depends()` (the annotation is the callable)."""
    for keyword in call.keywords:
        if keyword.arg == "dependency":
            return keyword.value
    return call.args[0] if call.args else None


def _dependency_functions(module: "ModuleContext", calls: List[ast.expr]) -> Iterator[FunctionDef]:
    for call in calls:
        if not (isinstance(call, ast.Call) and is_depends(module, call)):
            continue
        target = dependency_target(call)
        if isinstance(target, ast.Name):
            bindings = module.scopes.lookup(target.id, target)
            if len(bindings) == 1 and bindings[0].kind == "def":
                yield bindings[0].node  # type: ignore[misc]


def _is_route_decorator(module: "ModuleContext", decorator: ast.expr) -> bool:
    """`@<app or router>.<method>(...)`, the object not bound to anything but FastAPI() or
    APIRouter() in this module (an imported router is accepted)."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in ROUTE_METHODS):
        return False
    owner = decorator.func.value
    if not isinstance(owner, ast.Name):
        return False
    bindings = module.scopes.lookup(owner.id, owner)
    if not bindings:
        return False
    for binding in bindings:
        if binding.kind == "import":
            continue
        if binding.kind != "assign" or not isinstance(binding.value, ast.Call) \
                or module.call_name(binding.value) not in _APP_CLASSES:
            return False
    return True
