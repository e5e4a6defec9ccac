"""What Python version a module needs to run: syntax newer than some Python (`match`,
`except*`), standard-library names added later (`typing.Self`, `tomllib`, `datetime.UTC`), and
annotations that something evaluates at run time, using `X | Y` (3.10) or `list[int]` (3.9).

Annotations are evaluated by Python itself when a function is defined and in class and module
bodies, unless the module has `from __future__ import annotations`; then only pydantic / SQLModel
model fields and the parameters FastAPI reads (routes and their dependencies) are still
evaluated, by those libraries. Imports or names behind a version check, a `try`, or
`TYPE_CHECKING` are left out (a fallback is expected there).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, List, Optional, Set, Tuple, Union

from ..knowledge.python_versions import MODULES, NAMES, PythonVersion
from .import_guards import import_guard
from .models import parse_string_annotation, subscript_elements
from .pydantic_classes import pydantic_classes
from .routes import parameters, routes

if TYPE_CHECKING:
    from ..context import ModuleContext

_BUILTIN_GENERICS = frozenset({"list", "dict", "set", "frozenset", "tuple", "type"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]

PYTHON = "python"  # evaluated by Python itself
LIBRARY = "library"  # evaluated by pydantic / FastAPI (a string, or postponed annotations)
PLAIN, MODEL, ROUTE = "plain", "model", "route"  # kinds of annotated places


@dataclass(frozen=True)
class Feature:
    """A use of something newer than some Python. `anchor` is the statement whose execution
    fails (the whole module for syntax)."""

    node: ast.AST
    anchor: ast.AST
    needs: PythonVersion
    what: str
    error: str
    fix: str
    syntax: bool = False
    when: str = "importing the module"  # what fails: `creating class Hero`, ...


def features(module: "ModuleContext") -> List[Feature]:
    """Every feature of the module that needs a Python newer than 3.8, in source order."""
    found = [*_syntax(module), *_names(module), *_annotations(module)]
    return sorted(found, key=lambda f: (getattr(f.node, "lineno", 0),
                                        getattr(f.node, "col_offset", 0)))


def _syntax(module: "ModuleContext") -> Iterator[Feature]:
    match = getattr(ast, "Match", None)  # Python >= 3.10
    try_star = getattr(ast, "TryStar", None)  # Python >= 3.11
    for node in ast.walk(module.tree):
        if match is not None and isinstance(node, match):
            yield Feature(node, module.tree, (3, 10), "a `match` statement",
                          "SyntaxError: invalid syntax", "rewrite it as `if`/`elif`", True,
                          "compiling the module")
        elif try_star is not None and isinstance(node, try_star):
            yield Feature(node, module.tree, (3, 11), "`except*`",
                          "SyntaxError: invalid syntax", "catch the exception group with a "
                          "plain `except` (or the `exceptiongroup` backport)", True,
                          "compiling the module")


def _guarded(module: "ModuleContext", node: ast.AST) -> bool:
    return import_guard(module.scopes, node) is not None or any(
        isinstance(a, (ast.Try, ast.If)) for a in module.scopes.ancestors(node))


def _names(module: "ModuleContext") -> Iterator[Feature]:
    for node in module.scopes.imports:
        if _guarded(module, node):
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in MODULES:
                    yield Feature(node, node, MODULES[top], f"`import {alias.name}`",
                                  f"ModuleNotFoundError: No module named '{top}'",
                                  _module_fix(top))
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield from _from_import(node)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Attribute) and not _guarded(module, node):
            name = module.qualname(node)
            if name in NAMES and isinstance(node.value, ast.Name):
                owner = name.rsplit(".", 1)[0]
                yield Feature(node, node, NAMES[name], f"`{ast.unparse(node)}`",
                              f"AttributeError: module '{owner}' has no attribute "
                              f"'{node.attr}'", _name_fix(name))


def _from_import(node: ast.ImportFrom) -> Iterator[Feature]:
    top = node.module.split(".")[0]
    if top in MODULES:
        yield Feature(node, node, MODULES[top], f"`from {node.module} import ...`",
                      f"ModuleNotFoundError: No module named '{top}'", _module_fix(top))
        return
    for alias in node.names:
        name = f"{node.module}.{alias.name}"
        if name in NAMES:
            yield Feature(node, node, NAMES[name], f"`from {node.module} import {alias.name}`",
                          f"ImportError: cannot import name '{alias.name}' from "
                          f"'{node.module}'", _name_fix(name))


def _module_fix(top: str) -> str:
    backports = {"tomllib": "tomli", "zoneinfo": "backports.zoneinfo"}
    if top in backports:
        return (f"fall back to the `{backports[top]}` backport (`try: import {top} except "
                f"ImportError: import {backports[top]} as {top.split('.')[-1]}`)")
    return f"guard the import of {top} with a version check"


def _name_fix(name: str) -> str:
    if name.startswith("typing."):
        return f"import {name.rsplit('.', 1)[1]} from `typing_extensions`"
    if name == "datetime.UTC":
        return "use `datetime.timezone.utc`"
    return f"guard {name} with a version check"


def _annotations(module: "ModuleContext") -> Iterator[Feature]:
    postponed = any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
                    and any(a.name == "annotations" for a in n.names) for n in module.tree.body)
    rebound = _module_names(module.tree)
    seen: Set[int] = set()
    for annotation, anchor, label, kind in _evaluated(module):
        parsed = parse_string_annotation(annotation)
        by = _evaluator(kind, postponed or parsed is not None)
        if by is None:
            continue
        for feature in _in_annotation(parsed or annotation, annotation, anchor, label, by,
                                      rebound, _when(anchor, kind)):
            if id(feature.node) not in seen:
                seen.add(id(feature.node))
                yield feature


def _when(anchor: ast.AST, kind: str) -> str:
    if kind == ROUTE:
        return "registering the route"
    if isinstance(anchor, ast.ClassDef):
        return f"creating class {anchor.name}"
    if isinstance(anchor, _FUNCTIONS):
        return f"defining {anchor.name}()"
    return "importing the module"


def _evaluator(kind: str, deferred: bool) -> Optional[str]:
    """Who evaluates an annotation of `kind` (PLAIN, MODEL, ROUTE) that is `deferred` (a string,
    or postponed by the module): Python, the library, or nobody."""
    if not deferred:
        return None if kind == ROUTE else PYTHON
    return None if kind == PLAIN else LIBRARY


def _evaluated(module: "ModuleContext") -> Iterator[Tuple[ast.expr, ast.AST, str, str]]:
    """(annotation, the statement evaluating it, where it is, its kind)."""
    models = {id(c.node) for c in pydantic_classes(module)}
    yield from _route_parameters(module)
    for cls in module.scopes.classes:
        for statement in cls.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                label = f"field {cls.name}.{statement.target.id}"
                if id(cls) in models:
                    yield statement.annotation, cls, label, MODEL
                else:
                    yield statement.annotation, statement, label, PLAIN
    for statement in module.tree.body:
        if isinstance(statement, ast.AnnAssign):
            yield statement.annotation, statement, "a module-level annotation", PLAIN
    for function in module.scopes.functions:
        for argument, annotation in _signature(function):
            yield annotation, function, f"{argument} of {function.name}()", PLAIN


def _route_parameters(module: "ModuleContext") -> Iterator[Tuple[ast.expr, ast.AST, str, str]]:
    for route in routes(module):
        for parameter in parameters(module, route):
            if parameter.annotation is not None:
                yield (parameter.annotation, route.function,
                       f"parameter {parameter.arg.arg} of {parameter.function.name}() "
                       f"(FastAPI reads it)", ROUTE)


def _signature(function: Function) -> Iterator[Tuple[str, ast.expr]]:
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
             *filter(None, (arguments.vararg, arguments.kwarg))]
    for argument in every:
        if argument.annotation is not None:
            yield f"parameter {argument.arg}", argument.annotation
    if function.returns is not None:
        yield "the return annotation", function.returns


def _module_names(tree: ast.Module) -> Set[str]:
    """Names bound at module level (a rebound `list` is not the builtin)."""
    names: Set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.ClassDef, *_FUNCTIONS)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _in_annotation(expr: ast.expr, original: ast.expr, anchor: ast.AST, label: str, by: str,
                   rebound: Set[str], when: str) -> Iterator[Feature]:
    union = _first(expr, _is_union)
    if union is not None:
        text = ast.unparse(union)
        error = ("TypeError: unsupported operand type(s) for |" if by == PYTHON else
                 f"TypeError: Unable to evaluate type annotation '{text}'")
        yield Feature(original if original is not expr else union, anchor, (3, 10),
                      f"`{text}` in the annotation of {label}", error,
                      "use `Optional[X]` / `Union[X, Y]` from typing", when=when)
    generic = _first(expr, lambda n: _is_builtin_generic(n, rebound)) if by == PYTHON else None
    if generic is not None:
        text = ast.unparse(generic)
        yield Feature(generic, anchor, (3, 9), f"`{text}` in the annotation of {label}",
                      "TypeError: 'type' object is not subscriptable",
                      "use `List`/`Dict`/... from typing", when=when)


def _first(expr: ast.expr, wanted) -> Optional[ast.expr]:
    """The first node at a type position of an annotation for which `wanted` holds (the
    metadata of `Annotated[...]` and the values of `Literal[...]` are not types)."""
    pending: List[ast.expr] = [expr]
    while pending:
        node = pending.pop(0)
        if wanted(node):
            return node
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            pending += [node.left, node.right]
        elif isinstance(node, ast.Subscript):
            head = _head(node.value)
            if head == "Literal":
                continue
            elements = subscript_elements(node)
            pending += elements[:1] if head == "Annotated" else elements
        elif isinstance(node, (ast.List, ast.Tuple)):
            pending += list(node.elts)
    return None


def _head(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Name):
        return expr.id
    return expr.attr if isinstance(expr, ast.Attribute) else None


def _is_union(node: ast.expr) -> bool:
    """`X | Y` between types (a string operand fails on every Python: not this check's)."""
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and not any(
        isinstance(side, ast.Constant) and isinstance(side.value, str)
        for side in (node.left, node.right)))


def _is_builtin_generic(node: ast.expr, rebound: Set[str]) -> bool:
    return (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
            and node.value.id in _BUILTIN_GENERICS and node.value.id not in rebound)
