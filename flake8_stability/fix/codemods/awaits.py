"""`add-await` (SBA307): await the coroutine call a finding names (its fix data's `callee`)."""
from __future__ import annotations

from typing import Dict, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import edits
from ..codemod import Codemod, Outcome, Target
from .common import named_call


def _awaited(node: cst.CSTNode, parenthesised: bool) -> cst.CSTNode:
    assert isinstance(node, cst.Call)
    if not parenthesised:
        return cst.Await(expression=node)
    return cst.Await(expression=node, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _binds_tighter(parent: cst.CSTNode, call: cst.Call) -> bool:
    """Whether `call` is an operand that binds tighter than `await`: the value of an attribute,
    a subscript or a call, or the base of `**`; then `await` needs parentheses."""
    if isinstance(parent, (cst.Attribute, cst.Subscript)):
        return parent.value is call
    if isinstance(parent, cst.Call):
        return parent.func is call
    return (isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Power)
            and parent.left is call)


def _in_generator(parent_of: Dict[cst.CSTNode, cst.CSTNode], call: cst.Call) -> bool:
    """Whether `call` sits in a generator expression (await would make it an async one)."""
    for above in edits.ancestors(parent_of, call):
        if isinstance(above, cst.FunctionDef):
            return False
        if isinstance(above, cst.GeneratorExp):
            return True
    return False


class AddAwait(Codemod):
    """Puts `await` before the coroutine call, parenthesised when the result is used in the
    same expression (`(await session.execute(q)).all()`). Only inside `async def` (not in a
    lambda or nested plain function), where `await` is valid."""

    name = "add-await"
    codes = ("SBA307",)
    safe = True
    summary = "await the un-awaited coroutine call inside its async def"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        parent_of = edits.parents(wrapper)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        for target in targets:
            call, why = named_call(wrapper, target)
            if call is None:
                outcome.skipped.append((target, why or "no call at the finding's position"))
            elif isinstance(parent_of.get(call), cst.Await):
                outcome.fixed.append(target)
            elif not edits.in_async_function(parent_of, call) or _in_generator(parent_of, call):
                outcome.skipped.append((target, "the call is not directly inside an async def "
                                                "(or sits in a generator expression), where "
                                                "await is a syntax error or changes its meaning"))
            else:
                tight = _binds_tighter(parent_of[call], call)
                planned[call] = (lambda node, tight=tight: _awaited(node, tight))
                outcome.fixed.append(target)
        outcome.module = edits.replace(wrapper.module, planned)
        return outcome
