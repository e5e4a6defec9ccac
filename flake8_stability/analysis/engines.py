"""Every engine a module creates, with the URL it was given, resolved once for all rules."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional

from ..knowledge import names as N
from .urls import DatabaseURL

if TYPE_CHECKING:
    from ..context import ModuleContext


@dataclass(frozen=True)
class EngineCall:
    call: ast.Call
    function: str  # "create_engine" or "create_async_engine", as the user called it
    is_async: bool  # create_async_engine, or create_engine wrapped in AsyncEngine(...)
    url_expr: Optional[ast.expr]
    url: Optional[DatabaseURL]

    def keyword(self, name: str) -> Optional[ast.keyword]:
        return next((kw for kw in self.call.keywords if kw.arg == name), None)


def find_engine_calls(module: "ModuleContext") -> List[EngineCall]:
    wrapped = {
        id(call.args[0])
        for call in module.calls
        if module.call_name(call) == N.ASYNC_ENGINE
        and call.args and isinstance(call.args[0], ast.Call)
    }
    found = []
    for call in module.calls:
        name = module.call_name(call)
        if name not in (N.CREATE_ENGINE, N.CREATE_ASYNC_ENGINE):
            continue
        url_expr = _url_argument(call)
        found.append(EngineCall(
            call=call,
            function=name.rsplit(".", 1)[1],
            is_async=name == N.CREATE_ASYNC_ENGINE or id(call) in wrapped,
            url_expr=url_expr,
            url=DatabaseURL.parse(module.values.string(url_expr)),
        ))
    return found


def _url_argument(call: ast.Call) -> Optional[ast.expr]:
    for kw in call.keywords:
        if kw.arg == "url":
            return kw.value
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    return None
