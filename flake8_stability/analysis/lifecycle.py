"""When a piece of code runs: while its module is imported, while the app starts (a lifespan
function up to its `yield`, a startup handler), or when the module runs as a script. Calls to
the module's own functions are followed, so a helper called from a lifespan runs at startup;
calls into other modules are listed (`external_calls`) so that the project can seed those
modules' functions with how they are reached (`project/startup.py`). Code inside a `try` with
handlers (or `contextlib.suppress`) is not followed: its failure is caught and does not stop
the app."""
from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass, replace
from typing import (TYPE_CHECKING, Deque, Dict, Iterator, List, Optional, Sequence, Tuple,
                    Union)

from .values import own_nodes

if TYPE_CHECKING:
    from ..context import ModuleContext

IMPORT = "import"
STARTUP = "startup"
SCRIPT = "script"

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_TRY = (ast.Try, getattr(ast, "TryStar", ast.Try))  # TryStar: `except*`, Python >= 3.11
_CONTEXT_MANAGERS = frozenset({"contextlib.asynccontextmanager", "contextlib.contextmanager"})
_APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI",
                          "starlette.applications.Starlette"})


@dataclass(frozen=True)
class Reach:
    """How a node is reached: its phase, the entry point, and the calls that lead to it."""

    phase: str  # IMPORT, STARTUP or SCRIPT
    start: ast.AST  # the module-level node or the entry function where the chain begins
    entry: str = ""  # e.g. "the lifespan function `lifespan` (line 12)"
    calls: Tuple[Tuple[str, int], ...] = ()  # (function name, line of the call), in order

    @property
    def at_boot(self) -> bool:
        """True when a failure here stops `uvicorn TARGET` from starting."""
        return self.phase in (IMPORT, STARTUP)

    def describe(self) -> str:
        head = {IMPORT: "while the module is imported", STARTUP: "during app startup",
                SCRIPT: "when the module runs as a script"}[self.phase]
        chain = ", which calls ".join(f"`{name}()` (line {line})" for name, line in self.calls)
        if self.entry and chain:
            return f"{head}: {self.entry} calls {chain}"
        if self.entry:
            return f"{head}, in {self.entry}"
        if chain:
            caller = "the `__main__` block" if self.phase == SCRIPT else "the module body"
            return f"{head}: {caller} calls {chain}"
        return head


@dataclass(frozen=True)
class _Visit:
    reach: Reach
    cutoff: Optional[Tuple[int, int]]  # code at or after this position runs at shutdown


class Lifecycle:
    """Phases of one module's functions, computed once on first use. `seeds` name top-level
    functions that other modules call at import or startup, with how they are reached."""

    def __init__(self, module: "ModuleContext", seeds: Sequence[Tuple[str, Reach]] = ()) -> None:
        self.module = module
        self._reached: Dict[ast.AST, _Visit] = {}
        # (dotted name of a function elsewhere, how the call to it is reached)
        self.external_calls: List[Tuple[str, Reach]] = []
        self._walk(seeds)

    # -- queries ---------------------------------------------------------------------------
    def reach(self, node: ast.AST) -> Optional[Reach]:
        """How `node` is reached at import, startup or as a script; None when it only runs
        when something outside this module calls its function, or when a failure is caught."""
        if self.caught(node):
            return None
        scopes = self.module.scopes
        func = scopes.enclosing_function(node)
        if func is None:
            return Reach(IMPORT if scopes.runs_at_import(node) else SCRIPT, node)
        visit = self._reached.get(func)
        if visit is None or (visit.cutoff is not None and _position(node) >= visit.cutoff):
            return None
        return visit.reach

    def caught(self, node: ast.AST) -> bool:
        """Whether an exception raised at `node` is caught in its own function (or module)."""
        child = node
        for ancestor in self.module.scopes.ancestors(node):
            if isinstance(ancestor, _NESTED) or isinstance(ancestor, ast.Module):
                return False
            if isinstance(ancestor, _TRY) and ancestor.handlers and child in ancestor.body:
                return True
            if isinstance(ancestor, (ast.With, ast.AsyncWith)) and child in ancestor.body:
                if any(self._is_suppress(item.context_expr) for item in ancestor.items):
                    return True
            child = ancestor
        return False

    @property
    def app_calls(self) -> List[ast.Call]:
        """`FastAPI(...)` / `Starlette(...)` calls that create an app in this module."""
        return [call for call in self.module.calls if self.module.call_name(call) in _APP_CLASSES]

    # -- construction ----------------------------------------------------------------------
    def _walk(self, seeds: Sequence[Tuple[str, Reach]]) -> None:
        queue: Deque[Tuple[Function, _Visit]] = deque()
        for call in self.module.calls:
            if self.module.scopes.enclosing_function(call) is None and not self.caught(call):
                phase = IMPORT if self.module.scopes.runs_at_import(call) else SCRIPT
                self._follow(queue, call, Reach(phase, call))
        for func, entry in self._startup_entries():
            self._visit(queue, func, Reach(STARTUP, func, entry))
        for name, reach in seeds:
            func = self._function(ast.Name(id=name, ctx=ast.Load()))
            if func is not None:
                self._visit(queue, func, replace(reach, start=func))
        while queue:
            func, visit = queue.popleft()
            for call in _calls_in(func):
                if visit.cutoff is not None and _position(call) >= visit.cutoff:
                    continue
                if not self.caught(call):
                    self._follow(queue, call, visit.reach)

    def _follow(self, queue: Deque[Tuple[Function, _Visit]], call: ast.Call,
                reach: Reach) -> None:
        """Reach what `call` runs: this module's functions, and (listed) other modules'."""
        for target in self._call_targets(call):
            if isinstance(target, str):
                hop = ((target.rsplit(".", 1)[-1], call.lineno),)
                if reach.phase != SCRIPT:
                    self.external_calls.append((target, replace(reach, calls=reach.calls + hop)))
            else:
                hop = ((target.name, call.lineno),)
                self._visit(queue, target, replace(reach, calls=reach.calls + hop))

    def _visit(self, queue: Deque[Tuple[Function, _Visit]], func: Function, reach: Reach) -> None:
        """Record `reach` unless the function is already reached in an earlier phase."""
        known = self._reached.get(func)
        if known is not None and _rank(known.reach.phase) <= _rank(reach.phase):
            return
        visit = _Visit(reach, _first_yield(func))
        self._reached[func] = visit
        queue.append((func, visit))

    def _call_targets(self, call: ast.Call) -> Iterator[Union[Function, str]]:
        """What `call` runs, `f()` and `conn.run_sync(f)`: the module's own functions, and the
        dotted names of imported ones."""
        names: List[ast.expr] = [call.func]
        if isinstance(call.func, ast.Attribute) and call.func.attr == "run_sync" and call.args:
            names.append(call.args[0])
        for name in names:
            func = self._function(name)
            if func is not None:
                yield func
                continue
            dotted = self.module.qualname(name)
            if dotted is not None:
                yield dotted

    def _function(self, expr: ast.AST) -> Optional[Function]:
        if not isinstance(expr, ast.Name):
            return None
        bindings = self.module.scopes.lookup(expr.id, expr)
        if len(bindings) != 1 or bindings[0].kind != "def":
            return None
        return bindings[0].node  # type: ignore[return-value]

    # -- entry points ----------------------------------------------------------------------
    def _startup_entries(self) -> Iterator[Tuple[Function, str]]:
        for func in self._lifespans():
            yield func, f"the lifespan function `{func.name}` (line {func.lineno})"
        for func in self._startup_handlers():
            yield func, f"the startup handler `{func.name}` (line {func.lineno})"

    def _lifespans(self) -> Iterator[Function]:
        for call in self.module.calls:
            for kw in call.keywords:
                if kw.arg == "lifespan":
                    found = self._function(kw.value)
                    if found is not None:
                        yield found
        for assignment in self.module.scopes.attribute_assignments:
            if any(isinstance(t, ast.Attribute) and t.attr == "lifespan_context"
                   for t in assignment.targets):
                found = self._function(assignment.value)
                if found is not None:
                    yield found
        for node in self.module.scopes.functions:
            if node.name == "lifespan" and self._is_lifespan_shaped(node):
                yield node

    def _startup_handlers(self) -> Iterator[Function]:
        for node in self.module.scopes.functions:
            if any(self._is_startup_decorator(d) for d in node.decorator_list):
                yield node
        for call in self.module.calls:
            func = call.func
            if (isinstance(func, ast.Attribute) and func.attr == "add_event_handler"
                    and len(call.args) == 2 and self._is_startup(call.args[0])):
                found = self._function(call.args[1])
                if found is not None:
                    yield found
            for kw in call.keywords:
                if kw.arg == "on_startup" and isinstance(kw.value, (ast.List, ast.Tuple)):
                    for element in kw.value.elts:
                        found = self._function(element)
                        if found is not None:
                            yield found

    def _is_startup_decorator(self, decorator: ast.expr) -> bool:
        return (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "on_event" and len(decorator.args) == 1
                and self._is_startup(decorator.args[0]))

    def _is_startup(self, expr: ast.expr) -> bool:
        value = self.module.values.string(expr)
        return value is not None and value.complete and value.text == "startup"

    def _is_lifespan_shaped(self, func: Function) -> bool:
        """An `@asynccontextmanager` function, or a generator (Starlette's older form)."""
        return _first_yield(func) is not None or any(
            self.module.qualname(d) in _CONTEXT_MANAGERS for d in func.decorator_list)

    def _is_suppress(self, expr: ast.expr) -> bool:
        return isinstance(expr, ast.Call) and self.module.call_name(expr) == "contextlib.suppress"


def _rank(phase: str) -> int:
    return (IMPORT, STARTUP, SCRIPT).index(phase)


def _position(node: ast.AST) -> Tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _calls_in(func: Function) -> Iterator[ast.Call]:
    """Calls that run when `func` runs (not its decorators, defaults or nested functions)."""
    for stmt in func.body:
        if not isinstance(stmt, _NESTED):
            yield from (node for node in own_nodes(stmt) if isinstance(node, ast.Call))


def _first_yield(func: Function) -> Optional[Tuple[int, int]]:
    """Where a generator first yields: the code after it runs at shutdown for a lifespan."""
    yields = [_position(node) for node in own_nodes(func)
              if isinstance(node, (ast.Yield, ast.YieldFrom))]
    return min(yields) if yields else None
