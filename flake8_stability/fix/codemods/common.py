"""Small helpers the codemods share: the finding's fix data, and libcst helpers of the import
and URL codemods."""
from __future__ import annotations

from typing import Dict, Optional, Tuple, Union

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import edits
from ..codemod import Target

Replacement = Union[cst.CSTNode, cst.FlattenSentinel, cst.RemovalSentinel]


def fix_data(target: Target, *keys: str) -> Optional[Dict[str, str]]:
    """The finding's fix data (what its rule says the codemod needs) when it holds every one of
    `keys`, else None: the codemod then skips the finding (`no_fix_data`), never guesses."""
    data = target.finding.fix.data
    return dict(data) if all(key in data for key in keys) else None


def no_fix_data(*keys: str) -> str:
    """Why a finding without the fix data a codemod needs is skipped."""
    return f"the finding carries no fix data ({', '.join(keys)}) saying what to change"


def named_call(wrapper: MetadataWrapper, target: Target) -> Tuple[Optional[cst.Call], str]:
    """The call at the target whose callee the finding's fix data names (`callee`), or None;
    with the reason when the finding carries no such data ('' otherwise)."""
    wanted = fix_data(target, "callee")
    if wanted is None:
        return None, no_fix_data("callee")
    return edits.call_named(wrapper, target, wanted["callee"]), ""


def dotted(node: Optional[cst.BaseExpression]) -> str:
    """`a.b.c` for a Name/Attribute chain, '' for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else ""
    return ""


def dotted_node(text: str) -> Union[cst.Name, cst.Attribute]:
    """The Name/Attribute chain for `a.b.c`."""
    head, _, last = text.rpartition(".")
    return cst.Attribute(dotted_node(head), cst.Name(last)) if head else cst.Name(last)


class Replacements:
    """Node -> replacement, applied in one pass (the nodes must not contain one another)."""

    def __init__(self) -> None:
        self._by_node: Dict[cst.CSTNode, Replacement] = {}

    def add(self, node: cst.CSTNode, new: Replacement) -> None:
        self._by_node[node] = new

    def apply(self, module: cst.Module) -> cst.Module:
        if not self._by_node:
            return module
        by_node = self._by_node

        class Replace(cst.CSTTransformer):
            def on_leave(self, original_node: cst.CSTNode,
                         updated_node: cst.CSTNode) -> Replacement:  # type: ignore[override]
                return by_node.get(original_node, updated_node)

        result = module.visit(Replace())
        assert isinstance(result, cst.Module)
        return result


def statement_of(module: cst.Module,
                 node: cst.CSTNode) -> Optional[Tuple[cst.SimpleStatementLine, bool]]:
    """The simple statement line holding `node`, and whether it sits at the module's top level."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and _holds(statement, node):
            return statement, True
    found = []

    class Find(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, line: cst.SimpleStatementLine) -> bool:
            if _holds(line, node):
                found.append(line)
            return False

    module.visit(Find())
    return (found[0], False) if found else None


def _holds(line: cst.SimpleStatementLine, node: cst.CSTNode) -> bool:
    return any(small is node for small in line.body)


def string_literal(node: cst.BaseExpression) -> bool:
    """A plain, f- or implicitly concatenated string literal."""
    return isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString))


def argument(call: cst.Call, position: int, *keywords: str) -> Optional[cst.Arg]:
    """The argument at `position` (no star-args before it), or the keyword one."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return arg
    positional = []
    for arg in call.args:
        if arg.star:
            break
        if arg.keyword is None:
            positional.append(arg)
    return positional[position] if len(positional) > position else None
