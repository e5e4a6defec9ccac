"""`on-event-to-lifespan` (SBA408): `@app.on_event("startup")` / `("shutdown")` handlers become
one `@asynccontextmanager` lifespan that calls them (startup ones before `yield`, shutdown ones
after it, each in registration order), passed as `FastAPI(..., lifespan=lifespan)`. The
handler functions are kept and called, not inlined.

Unsafe: once the app has `lifespan=`, FastAPI ignores every other on_event/add_event_handler
registration for it, including those made by libraries at run time (instrumentators, schedulers)
that no source of the project shows. Registrations the project shows elsewhere (another module,
a router, `on_startup=`) make the codemod skip the app."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import CodeRange, MetadataWrapper

from .. import edits
from ..codemod import Codemod, Outcome, Target, node_at, positions
from ._project import other_file_matching
from ._nodes import dotted, keyword_arg, names_in, parents, replace_nodes, string_literal

_EVENTS = ("startup", "shutdown")
_APP_CLASSES = ("FastAPI", "fastapi.FastAPI", "fastapi.applications.FastAPI")
_ELSEWHERE = re.compile(r"\.on_event\(|add_event_handler\(|on_startup|on_shutdown")
_HERE = re.compile(r"add_event_handler\(|\.on_startup\b|\.on_shutdown\b")
_NAMES = ("lifespan", "app_lifespan")


class _Handler:
    """One `@app.on_event(event)` handler: its function, decorator and event."""

    def __init__(self, function: cst.FunctionDef, decorator: cst.Decorator, event: str) -> None:
        self.function, self.decorator, self.event = function, decorator, event


class OnEventToLifespan(Codemod):
    name = "on-event-to-lifespan"
    codes = ("SBA408",)
    safe = False
    summary = ("turn @app.on_event handlers into one lifespan that calls them (unsafe: handlers "
               "registered at run time by other code stop running once the app has lifespan=)")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        up = parents(wrapper)
        apps: Dict[str, List[Target]] = {}
        for target in targets:
            call = node_at(wrapper, target, cst.Call)
            app = _decorated_app(call, up) if isinstance(call, cst.Call) else None
            if app is None:
                outcome.skipped.append((target, "only @app.on_event(...) handlers are turned "
                                                "into a lifespan"))
            else:
                apps.setdefault(app, []).append(target)
        if len(apps) > 1:
            outcome.skipped.extend((target, "handlers of several apps in one module")
                                   for app_targets in apps.values() for target in app_targets)
            return outcome
        for app, app_targets in apps.items():
            problem, outcome.module = _convert(wrapper, app, app_targets)
            if problem:
                outcome.skipped.extend((target, problem) for target in app_targets)
            else:
                outcome.fixed.extend(app_targets)
        return outcome


def _decorated_app(call: cst.Call, up: Dict[cst.CSTNode, cst.CSTNode]) -> Optional[str]:
    """The app name of a module-level `@<app>.on_event(...)` decorator."""
    decorator = up.get(call)
    function = up.get(decorator) if isinstance(decorator, cst.Decorator) else None
    if not (isinstance(function, cst.FunctionDef) and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "on_event" and isinstance(up.get(function), cst.Module)):
        return None
    return dotted(call.func.value)


def _convert(wrapper: MetadataWrapper, app: str,
             targets: List[Target]) -> Tuple[Optional[str], cst.Module]:
    """(why the app's handlers cannot be converted, or None; the module after converting)."""
    module = wrapper.module
    creation = _creation(module, app)
    if creation is None:
        return (f"{app} is not a FastAPI app created in this module by one "
                f"`{app} = FastAPI(...)`"), module
    statement, call = creation
    for keyword in ("lifespan", "on_startup", "on_shutdown"):
        if keyword_arg(call, keyword) is not None:
            return (f"{app} already has {keyword}=: calling the handlers from it is a decision "
                    f"to make by hand"), module
    handlers, problem = _handlers(module, app, targets, positions(wrapper))
    if problem is None and _HERE.search(module.code):
        problem = ("the module also registers handlers another way (add_event_handler, "
                   "router.on_startup): with lifespan= they would stop running")
    if problem is None:
        problem = _registered_elsewhere(targets[0]) or _handler_problem(handlers)
    name = next((n for n in _NAMES if n not in names_in([module])), None)
    if problem is None and name is None:
        problem = "the names lifespan and app_lifespan are both taken"
    if problem is not None:
        return problem, module
    replacements: Dict[cst.CSTNode, cst.CSTNode] = {
        handler.function: _undecorated(handler) for handler in handlers}
    replacements[call] = edits.with_keyword(call, "lifespan",  # type: ignore[arg-type]
                                            cst.Name(name))
    index = list(module.body).index(statement)
    module = replace_nodes(module, replacements)
    module = _insert_at(module, index, _lifespan(name, call, handlers))  # type: ignore
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, "contextlib", "asynccontextmanager")
    return None, AddImportsVisitor(context).transform_module(module)


def _creation(module: cst.Module, app: str) -> Optional[Tuple[cst.SimpleStatementLine, cst.Call]]:
    """The one module-level `app = FastAPI(...)`, when `app` is bound nowhere else at the top."""
    found = []
    for statement in module.body:
        for small in getattr(statement, "body", ()) if isinstance(
                statement, cst.SimpleStatementLine) else ():
            if isinstance(small, (cst.Assign, cst.AnnAssign, cst.Import, cst.ImportFrom)) \
                    and app in _bound(small):
                found.append((statement, small))
    if len(found) != 1 or not isinstance(found[0][1], cst.Assign):
        return None
    statement, assign = found[0]
    value = assign.value
    if not (isinstance(value, cst.Call) and dotted(value.func) in _APP_CLASSES
            and len(assign.targets) == 1):
        return None
    return statement, value


def _bound(small: cst.BaseSmallStatement) -> List[str]:
    if isinstance(small, cst.Assign):
        return [dotted(t.target) or "" for t in small.targets]
    if isinstance(small, cst.AnnAssign):
        return [dotted(small.target) or ""]
    names = small.names if not isinstance(small.names, cst.ImportStar) else ()  # type: ignore
    return [dotted(alias.asname.name if alias.asname else alias.name) or ""  # type: ignore
            for alias in names]


def _handlers(module: cst.Module, app: str, targets: List[Target],
              spans: Dict[cst.CSTNode, CodeRange]) -> Tuple[List[_Handler], Optional[str]]:
    """Every `@<app>.on_event` handler of the module, in order; a reason when one of them is
    not a target (converting the others would silence it) or has an unknown event."""
    handlers: List[_Handler] = []
    for statement in module.body:
        if not isinstance(statement, cst.FunctionDef):
            continue
        for decorator in statement.decorators:
            call = decorator.decorator
            if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                    and call.func.attr.value == "on_event" and dotted(call.func.value) == app):
                continue
            event = string_literal(call.args[0].value) if len(call.args) == 1 else None
            if event not in _EVENTS:
                return [], f"{statement.name.value}() is registered for an unknown event"
            if not any(t.line == spans[call].start.line for t in targets):
                return [], (f"{statement.name.value}() is an on_event handler the audit did not "
                            f"report (noqa?): it would stop running")
            handlers.append(_Handler(statement, decorator, event))  # type: ignore[arg-type]
    return handlers, None


def _handler_problem(handlers: List[_Handler]) -> Optional[str]:
    for handler in handlers:
        function = handler.function
        if function.decorators[0] is not handler.decorator:
            return (f"@on_event is not the outermost decorator of {function.name.value}(): the "
                    f"registered function is not the one its name holds")
        if len(function.decorators) > 1:
            return f"{function.name.value}() has other decorators: how to call it is unknown"
        params = function.params
        if params.params or params.posonly_params or params.kwonly_params:
            return f"{function.name.value}() takes parameters"
    return None


def _registered_elsewhere(target: Target) -> Optional[str]:
    """Another Python file of the project that registers startup/shutdown handlers."""
    other = other_file_matching(Path(target.finding.path), _ELSEWHERE)
    if other is None:
        return None
    return (f"{other} also registers startup/shutdown handlers: with lifespan= they would stop "
            f"running")


def _undecorated(handler: _Handler) -> cst.FunctionDef:
    """The handler without its @on_event decorator; the decorator's comment moves to the def."""
    function = handler.function
    rest = [d for d in function.decorators if d is not handler.decorator]
    function = function.with_changes(decorators=rest)
    comment = handler.decorator.trailing_whitespace.comment
    body = function.body
    if comment is not None and isinstance(body, cst.IndentedBlock) and body.header.comment is None:
        header = body.header.with_changes(whitespace=cst.SimpleWhitespace("  "), comment=comment)
        function = function.with_changes(body=body.with_changes(header=header))
    return function


def _lifespan(name: str, call: cst.Call, handlers: List[_Handler]) -> cst.FunctionDef:
    def calls(event: str) -> List[str]:
        return [("await " if handler.function.asynchronous else "")
                + f"{handler.function.name.value}()"
                for handler in handlers if handler.event == event]

    body = [*calls("startup"), "yield", *calls("shutdown")]
    code = (f"@asynccontextmanager\nasync def {name}(app: {dotted(call.func)}):\n"
            + "".join(f"    {line}\n" for line in body))
    function = cst.parse_statement(code)
    assert isinstance(function, cst.FunctionDef)
    return function.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])


def _insert_at(module: cst.Module, index: int, function: cst.FunctionDef) -> cst.Module:
    """`function` inserted before the module-level statement at `index`."""
    body = list(module.body)
    first = index == 0
    moved = body[index]
    comments = [line for line in moved.leading_lines if line.comment is not None]  # type: ignore
    body[index] = moved.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *comments])
    body.insert(index, function.with_changes(leading_lines=[]) if first else function)
    return module.with_changes(body=body)
