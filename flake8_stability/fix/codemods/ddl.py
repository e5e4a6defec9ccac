"""`run-sync-create-all` (SBA308): run `metadata.create_all(async_engine)` (or `drop_all`)
through `async with engine.begin() as conn: await conn.run_sync(...)`."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import edits
from ..codemod import Codemod, Outcome, Target

_METHODS = ("create_all", "drop_all")
_CONNECTION_NAMES = ("conn", "connection", "ddl_conn")
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


class RunSyncCreateAll(Codemod):
    """`SQLModel.metadata.create_all(engine)` as a statement of an `async def` becomes
    `async with engine.begin() as conn:` / `await conn.run_sync(SQLModel.metadata.create_all)`
    (other arguments are passed on to run_sync). Calls outside an async function are skipped:
    the fix needs an async context, and moving the call is a manual change."""

    name = "run-sync-create-all"
    codes = ("SBA308",)
    safe = True
    summary = ("metadata.create_all(async_engine) -> async with engine.begin() as conn: "
               "await conn.run_sync(metadata.create_all)")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        parent_of = edits.parents(wrapper)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        for target in targets:
            found, why = _statement(wrapper, parent_of, target)
            if found is None:
                outcome.skipped.append((target, why))
                continue
            line, call = found
            function = edits.enclosing_function(parent_of, line)
            name = _free_name(function) if isinstance(function, cst.FunctionDef) else None
            if name is None:
                outcome.skipped.append((target, "conn, connection and ddl_conn are all used "
                                                "in the function already"))
                continue
            planned[line] = (lambda node, call=call, name=name:
                             _async_with(node, call, name))  # type: ignore[misc]
            outcome.fixed.append(target)
        outcome.module = edits.replace(wrapper.module, planned)
        return outcome


def _statement(wrapper: MetadataWrapper, parent_of: Dict[cst.CSTNode, cst.CSTNode],
               target: Target) -> Tuple[Optional[Tuple[cst.SimpleStatementLine, cst.Call]], str]:
    """The statement line holding only the DDL call, and the call; or why it cannot change."""
    calls = [call for call in edits.calls_at(wrapper, target)
             if isinstance(call.func, cst.Attribute) and call.func.attr.value in _METHODS]
    if not calls:
        return None, "no create_all()/drop_all() call at the finding's position"
    call = calls[0]
    expr, line = parent_of.get(call), None
    if isinstance(expr, cst.Expr):
        line = parent_of.get(expr)
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        return None, "the call is not a statement of its own"
    if not edits.in_async_function(parent_of, line):
        return None, ("the call is not inside an async def: run_sync needs an async context, "
                      "so move it into the lifespan (before yield) by hand")
    if _bind(call) is None:
        return None, "the call names no engine (bind) to open a connection from"
    return (line, call), ""


def _bind(call: cst.Call) -> Optional[cst.Arg]:
    return edits.positional(call, 0, "bind")


def _free_name(function: cst.FunctionDef) -> Optional[str]:
    used: Set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            used.add(node.value)

    function.visit(_Names())
    return next((name for name in _CONNECTION_NAMES if name not in used), None)


def _async_with(node: cst.CSTNode, call: cst.Call, name: str) -> cst.CSTNode:
    """The statement line `node` (holding `call`) as an `async with` block."""
    assert isinstance(node, cst.SimpleStatementLine)
    bind = _bind(call)
    assert bind is not None
    rest = edits.without_args(call, lambda arg: arg is bind)
    run_sync = cst.Call(
        func=cst.Attribute(value=cst.Name(name), attr=cst.Name("run_sync")),
        args=[cst.Arg(value=call.func, comma=_COMMA if rest.args else cst.MaybeSentinel.DEFAULT),
              *rest.args])
    inner = cst.SimpleStatementLine(
        body=[cst.Expr(cst.Await(expression=run_sync))],
        trailing_whitespace=node.trailing_whitespace)
    opener = cst.Call(func=cst.Attribute(value=bind.value, attr=cst.Name("begin")))
    return cst.With(
        items=[cst.WithItem(item=opener, asname=cst.AsName(name=cst.Name(name)))],
        body=cst.IndentedBlock(body=[inner]),
        asynchronous=cst.Asynchronous(),
        leading_lines=node.leading_lines)
