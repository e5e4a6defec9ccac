"""`wrap-text` (SBA314): wrap the plain SQL string given to a session or connection in
`text(...)`."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import edits
from ..codemod import Codemod, Outcome, Target

_TEXT_HOMES = ("sqlalchemy", "sqlmodel", "sqlalchemy.sql", "sqlalchemy.sql.expression")


def _wrapped(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.Arg)
    return node.with_changes(value=cst.Call(func=cst.Name("text"),
                                            args=[cst.Arg(value=node.value)]))


class WrapText(Codemod):
    """`session.execute("SELECT 1")` -> `session.execute(text("SELECT 1"))`, importing `text`
    from sqlalchemy when the module does not. Skipped when the name `text` means something else
    where the call is. The rule marks its finding unsafe when the string is formatted (f-string,
    concatenation) or holds `:name`, which text() reads as a bound parameter."""

    name = "wrap-text"
    codes = ("SBA314",)
    safe = True
    summary = "wrap the plain SQL string in text(...) (from sqlalchemy import text)"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        needs_import = False
        for target in targets:
            statement, why = self._statement(wrapper, target)
            if statement is None:
                outcome.skipped.append((target, why))
                continue
            if _is_text_call(statement.value):
                outcome.fixed.append(target)
                continue
            bound = edits.imported_from(wrapper, statement, "text", _TEXT_HOMES)
            if bound is False:
                outcome.skipped.append((target, "the name text is bound to something else "
                                                "where the call is"))
                continue
            needs_import = needs_import or bound is None
            planned[statement] = _wrapped
            outcome.fixed.append(target)
        module = edits.replace(wrapper.module, planned)
        outcome.module = edits.add_import(module, "sqlalchemy", "text") if needs_import \
            else module
        return outcome

    @staticmethod
    def _statement(wrapper: MetadataWrapper, target: Target) -> Tuple[Optional[cst.Arg], str]:
        calls = [call for call in edits.calls_at(wrapper, target)
                 if isinstance(call.func, cst.Attribute)]
        if not calls:
            return None, "no execute() call at the finding's position"
        statement = edits.positional(calls[0], 0, "statement")
        if statement is None:
            return None, "the call has no statement argument"
        return statement, ""


def _is_text_call(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Call) and edits.source(value.func).rsplit(".", 1)[-1] == "text"
