"""Router and dependency wiring: `include-router-attribute` (SBA404), `router-prefix-slashes`
(SBA405) and `depends-uncall` (SBA413)."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

from ..codemod import Codemod, Outcome, Target, node_at
from ._nodes import dotted, parents, replace_nodes, requote, string_literal

_DEPENDS = ("Depends", "Security")


class IncludeRouterAttribute(Codemod):
    """`app.include_router(users)` -> `app.include_router(users.router)`. The rule names this
    codemod only when the module defines exactly one router; its fix data names the argument
    and the router."""

    name = "include-router-attribute"
    codes = ("SBA404",)
    safe = True
    summary = "pass the module's only router to include_router(): `users` -> `users.router`"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        replacements: Dict[cst.CSTNode, cst.CSTNode] = {}
        for target in targets:
            wanted = target.finding.fix.data
            node = node_at(wrapper, target, cst.BaseExpression)
            if not {"argument", "router"} <= wanted.keys() or not isinstance(
                    node, (cst.Name, cst.Attribute)):
                outcome.skipped.append((target, "the argument or its router is not known"))
                continue
            code = wrapper.module.code_for_node(node)
            if code == f"{wanted['argument']}.{wanted['router']}":
                outcome.fixed.append(target)  # already the router
            elif code == wanted["argument"]:
                replacements[node] = cst.Attribute(node, cst.Name(wanted["router"]))
                outcome.fixed.append(target)
            else:
                outcome.skipped.append((target, f"`{code}` is not the module the finding names"))
        outcome.module = replace_nodes(wrapper.module, replacements)
        return outcome


def corrected_prefix(text: str) -> str:
    """One leading slash and no trailing one: what FastAPI accepts ("" for the root)."""
    return ("/" + text.lstrip("/")).rstrip("/")


class RouterPrefixSlashes(Codemod):
    """`prefix="users/"` -> `prefix="/users"`, on a string literal written at the call only:
    a prefix taken from a constant or from settings is left to the user (other code may read
    the same value)."""

    name = "router-prefix-slashes"
    codes = ("SBA405",)
    safe = True
    summary = "give a literal router prefix its leading '/' and drop its trailing '/'"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        replacements: Dict[cst.CSTNode, cst.CSTNode] = {}
        for target in targets:
            node = node_at(wrapper, target, cst.BaseExpression)
            text = string_literal(node) if node is not None else None
            if text is None:
                outcome.skipped.append((target, "the prefix is not a string literal at the "
                                                "call: fix the value where it is defined"))
                continue
            fixed = corrected_prefix(text)
            new = requote(node, fixed) if fixed != text else node  # type: ignore[arg-type]
            if new is None:
                outcome.skipped.append((target, "the prefix needs escapes to be rewritten"))
                continue
            if new is not node:
                replacements[node] = new  # type: ignore[index]
            outcome.fixed.append(target)
        outcome.module = replace_nodes(wrapper.module, replacements)
        return outcome


class DependsUncall(Codemod):
    """`Depends(get_db())` -> `Depends(get_db)` (also `Security`), when the call has no
    arguments; the rule only names this codemod then."""

    name = "depends-uncall"
    codes = ("SBA413",)
    safe = True
    summary = "pass the dependency function itself: `Depends(get_db())` -> `Depends(get_db)`"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        up = parents(wrapper)
        replacements: Dict[cst.CSTNode, cst.CSTNode] = {}
        for target in targets:
            node = node_at(wrapper, target, cst.BaseExpression)
            if node is None or _depends_of(node, up) is None:
                outcome.skipped.append((target, "no Depends()/Security() argument here"))
                continue
            if isinstance(node, cst.Call):
                if node.args:
                    outcome.skipped.append((target, "the call has arguments: it may be a "
                                                    "dependency factory"))
                    continue
                replacements[node] = node.func
            outcome.fixed.append(target)  # a plain name is already the dependency
        outcome.module = replace_nodes(wrapper.module, replacements)
        return outcome


def _depends_of(node: cst.CSTNode, up: Dict[cst.CSTNode, cst.CSTNode]) -> Optional[cst.Call]:
    """The Depends()/Security() call whose first positional argument is `node`."""
    arg = up.get(node)
    call = up.get(arg) if isinstance(arg, cst.Arg) else None
    if not isinstance(call, cst.Call) or not isinstance(arg, cst.Arg):
        return None
    name = dotted(call.func)
    if name is None or name.rsplit(".", 1)[-1] not in _DEPENDS:
        return None
    first = arg.keyword is None and call.args[0] is arg
    return call if first or (arg.keyword is not None and arg.keyword.value == "dependency") \
        else None
