"""Engine option codemods: `drop-invalid-pool-args` (SBA311) and `fix-connect-args` (SBA312).
What to remove or rename comes from the finding's fix data."""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper

from ...findings import Severity
from .. import edits
from ..codemod import Codemod, Outcome, Target
from .common import fix_data, no_fix_data

_ENGINE_FUNCTIONS = ("create_engine", "create_async_engine")
_SSLMODE_IN_QUERY = re.compile(r"([?&])sslmode=")


def _engine_call(wrapper: MetadataWrapper, target: Target) -> Optional[cst.Call]:
    calls = [call for call in edits.calls_at(wrapper, target)
             if edits.source(call.func).rsplit(".", 1)[-1] in _ENGINE_FUNCTIONS]
    return calls[0] if calls else None


class DropInvalidPoolArgs(Codemod):
    """Removes the pool keywords (`pool_size`, `max_overflow`, `pool_timeout`,
    `pool_use_lifo`) the engine's pool class rejects (fix data `arguments`: the names, comma
    separated). Safe: `create_engine` raises TypeError with them, and without them the engine
    gets the same pool. Findings whose pool class was assumed (SQLAlchemy version unknown) are
    skipped."""

    name = "drop-invalid-pool-args"
    codes = ("SBA311",)
    safe = True
    summary = "remove the pool keyword arguments the engine's pool class rejects"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        for target in targets:
            call, names, why = self._plan(wrapper, target)
            if call is None:
                outcome.skipped.append((target, why))
                continue
            planned[call] = (lambda node, names=names: edits.without_args(  # type: ignore
                node, lambda arg: arg.keyword is not None and arg.keyword.value in names))
            outcome.fixed.append(target)
        outcome.module = edits.replace(wrapper.module, planned)
        return outcome

    @staticmethod
    def _plan(wrapper: MetadataWrapper, target: Target
              ) -> Tuple[Optional[cst.Call], Tuple[str, ...], str]:
        finding = target.finding
        if finding.severity is Severity.WARNING:
            return None, (), ("the pool class is assumed (the SQLAlchemy version is unknown); "
                              "check it before removing arguments")
        wanted = fix_data(target, "arguments")
        if wanted is None:
            return None, (), no_fix_data("arguments")
        call = _engine_call(wrapper, target)
        names = tuple(name for name in wanted["arguments"].split(",") if name)
        if not names or call is None:
            return None, (), "no engine call with rejected pool arguments at this position"
        if any(edits.keyword_arg(call, name) is None for name in names):
            return None, (), ("the rejected arguments are not all written as keywords of this "
                              "call (passed with **); remove them where they are defined")
        return call, names, ""


class FixConnectArgs(Codemod):
    """Driver options the driver does not take: removes `check_same_thread` from the
    `connect_args` of a server database (the dict at the call, `dict(...)`, or a module
    constant), and renames libpq's `sslmode` to asyncpg's `ssl` (same value) in the URL
    literal or in `connect_args`. Safe: asyncpg's `ssl` takes libpq's sslmode values. The fix
    data names the `option`, `where` it is given (`connect_args` or `url`) and its `new` name
    when it is renamed rather than removed."""

    name = "fix-connect-args"
    codes = ("SBA312",)
    safe = True
    summary = ("drop check_same_thread from a server database's connect_args; sslmode -> ssl "
               "for asyncpg")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        for target in targets:
            call = _engine_call(wrapper, target)
            plan, why = (self._plan(wrapper.module, call, target)
                         if call is not None else (None, "no engine call at this position"))
            if plan is None:
                outcome.skipped.append((target, why))
                continue
            node, edit = plan
            if node in planned:
                outcome.skipped.append((target, "another fix changes the same code"))
                continue
            planned[node] = edit
            outcome.fixed.append(target)
        outcome.module = edits.replace(wrapper.module, planned)
        return outcome

    def _plan(self, module: cst.Module, call: cst.Call, target: Target
              ) -> Tuple[Optional[Tuple[cst.CSTNode, edits.Edit]], str]:
        wanted = fix_data(target, "option", "where")
        if wanted is None:
            return None, no_fix_data("option", "where")
        key, new = wanted["option"], wanted.get("new")
        if wanted["where"] == "url" and (key, new) == ("sslmode", "ssl"):
            return _url_plan(module, call)
        if wanted["where"] != "connect_args":
            return None, "the finding is not one this codemod knows"
        edit = _rename_key(key, new) if new else _drop_key(key)
        holder = _connect_args(module, call)
        if holder is None:
            return None, ("connect_args is not a dict written in this module, or its constant is "
                          "used elsewhere too")
        if _key_element(holder, key) is None:
            return None, f"{key!r} is not a plain key of the connect_args dict"
        if new and _key_element(holder, new) is not None:
            return None, f"connect_args has both {key} and {new}; keep one by hand"
        return (holder, edit), ""


def _connect_args(module: cst.Module, call: cst.Call) -> Optional[cst.BaseExpression]:
    """The dict literal or `dict(...)` call `connect_args=` names, at the call or in the module
    constant it is read from."""
    given = edits.keyword_arg(call, "connect_args")
    if given is None:
        return None
    value = _constant(module, given.value)
    if isinstance(value, cst.Dict) or (isinstance(value, cst.Call)
                                       and isinstance(value.func, cst.Name)
                                       and value.func.value == "dict"):
        return value
    return None


def _constant(module: cst.Module, value: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """`value` itself, or for a name the value of the module constant it names when this is its
    only use (another engine may need the constant as it is)."""
    if not isinstance(value, cst.Name):
        return value
    assignment = edits.module_assignment(module, value.value)
    if assignment is None or edits.name_uses(module, value.value) != 2:
        return None
    return assignment.value


def _key_element(holder: cst.BaseExpression, key: str) -> Optional[cst.CSTNode]:
    if isinstance(holder, cst.Dict):
        for element in holder.elements:
            if (isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString)
                    and element.key.evaluated_value == key):
                return element
        return None
    assert isinstance(holder, cst.Call)
    return edits.keyword_arg(holder, key)


def _drop_key(key: str) -> edits.Edit:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        if isinstance(node, cst.Call):
            return edits.without_args(node, lambda arg: arg is edits.keyword_arg(node, key))
        assert isinstance(node, cst.Dict)
        element = _key_element(node, key)
        elements = edits.without_elements(node.elements, lambda item: item is element)
        return node.with_changes(elements=elements)
    return edit


def _rename_key(old: str, new: str) -> edits.Edit:
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, (cst.Dict, cst.Call))
        element = _key_element(node, old)
        if isinstance(element, cst.Arg):
            renamed: cst.CSTNode = element.with_changes(keyword=cst.Name(new))
        else:
            assert isinstance(element, cst.DictElement)
            key = element.key
            assert isinstance(key, cst.SimpleString)
            renamed = element.with_changes(key=key.with_changes(
                value=key.value.replace(old, new, 1)))
        items: List[cst.CSTNode] = [renamed if item is element else item
                                    for item in _items(node)]
        if isinstance(node, cst.Dict):
            return node.with_changes(elements=items)
        return node.with_changes(args=items)
    return edit


def _items(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    return node.elements if isinstance(node, cst.Dict) else node.args  # type: ignore


def _url_plan(module: cst.Module, call: cst.Call
              ) -> Tuple[Optional[Tuple[cst.CSTNode, edits.Edit]], str]:
    """`?sslmode=` -> `?ssl=` in the URL string literal (at the call or in a module constant)."""
    url = edits.positional(call, 0, "url")
    value = _constant(module, url.value) if url is not None else None
    if not isinstance(value, cst.SimpleString) or not _SSLMODE_IN_QUERY.search(value.value):
        return None, ("the URL is not a string literal of this module used only here (it comes "
                      "from the environment or settings, or other engines share it): write "
                      "ssl= instead of sslmode= where it is set")
    return (value, _ssl_in_url), ""


def _ssl_in_url(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.SimpleString)
    return node.with_changes(value=_SSLMODE_IN_QUERY.sub(_ssl_option, node.value))


def _ssl_option(match: "re.Match[str]") -> str:
    return match.group(1) + "ssl="
