"""Which ORM objects an expression holds inside an async function, when they were loaded
through an async session without loader options: `await session.get(Team, id)`,
`(await session.exec(select(Team))).all()`, a `for` target over such a result, ...

Only the module's own model classes are known; anything else stays unknown (None)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Collection, Optional

from ..knowledge import names as N

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 10
# Statement methods that keep selecting the same entity.
_SELECT_CHAIN = frozenset(
    {"where", "filter", "filter_by", "order_by", "limit", "offset", "join", "outerjoin",
     "join_from", "distinct", "group_by", "having", "slice", "fetch"}
)
_ONE = frozenset({"first", "one", "one_or_none"})
_MANY = frozenset({"all", "fetchall", "unique"})
_ROW_TO_ONE = frozenset({"scalar_one", "scalar_one_or_none", "scalar"})

ONE = "one"  # a model instance
MANY = "many"  # instances when iterated: a list, a ScalarResult, SQLModel's exec() result
ROWS = "rows"  # a Result of rows (`execute`): `.scalars()` turns it into MANY


@dataclass(frozen=True)
class Loaded:
    model: ast.ClassDef
    shape: str  # ONE, MANY or ROWS
    via: str  # the session method that loaded it, e.g. "get"
    session_class: str  # e.g. "AsyncSession"


class LoadTracker:
    """Follows expressions of one async function back to the session call that loaded them."""

    def __init__(self, module: "ModuleContext", function: ast.AsyncFunctionDef,
                 models: Collection[ast.ClassDef]) -> None:
        self.module = module
        self.function = function
        self.models = models

    def held(self, expr: ast.AST, depth: int = 0) -> Optional[Loaded]:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            return self._session_load(expr.value, depth)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and not expr.args:
            base = self.held(expr.func.value, depth + 1)
            return _narrowed(base, expr.func.attr) if base else None
        if isinstance(expr, ast.Name):
            return self._variable(expr, depth)
        return None

    def _variable(self, expr: ast.Name, depth: int) -> Optional[Loaded]:
        bindings = self.module.scopes.lookup(expr.id, expr)
        if len(bindings) != 1 or self.module.scopes.scope_of(bindings[0].node) is not self.function:
            return None
        binding = bindings[0]
        if binding.kind == "assign" and binding.value is not None:
            return self.held(binding.value, depth + 1)
        loop = binding.node
        if binding.kind == "for" and isinstance(loop, (ast.For, ast.AsyncFor, ast.comprehension)):
            if not isinstance(loop.target, ast.Name):
                return None
            source = self.held(loop.iter, depth + 1)
            return replace(source, shape=ONE) if source and source.shape == MANY else None
        return None

    def _session_load(self, call: ast.AST, depth: int) -> Optional[Loaded]:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.args):
            return None
        method = call.func.attr
        if method not in ("get", "get_one", "scalar", "scalars", "exec", "execute"):
            return None
        session = self.module.objects.session(call.func.value)
        if session is None or not session.is_async:
            return None
        short = session.short.rsplit(".", 1)[-1]
        if method in ("get", "get_one"):
            if any(kw.arg in ("options", None) for kw in call.keywords):
                return None
            model = self._model(call.args[0])
            return Loaded(model, ONE, method, short) if model else None
        model = self._selected(call.args[0], depth + 1)
        if model is None:
            return None
        shape = ONE if method == "scalar" else ROWS if method == "execute" else MANY
        return Loaded(model, shape, method, short)

    def _selected(self, expr: ast.AST, depth: int) -> Optional[ast.ClassDef]:
        """The model of `select(Model).where(...)...` with no loader options."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            bindings = self.module.scopes.lookup(expr.id, expr)
            single = bindings[0] if len(bindings) == 1 else None
            if single is None or single.kind != "assign" or single.value is None:
                return None
            return self._selected(single.value, depth + 1)
        if not isinstance(expr, ast.Call):
            return None
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in _SELECT_CHAIN:
            return self._selected(expr.func.value, depth + 1)
        if self.module.call_name(expr) in (N.SELECT, N.SQLMODEL_SELECT) and len(expr.args) == 1 \
                and not expr.keywords:
            return self._model(expr.args[0])
        return None

    def _model(self, expr: ast.AST) -> Optional[ast.ClassDef]:
        if not isinstance(expr, ast.Name):
            return None
        bindings = self.module.scopes.lookup(expr.id, expr)
        if len(bindings) == 1 and bindings[0].kind == "class" and bindings[0].node in self.models:
            return bindings[0].node  # type: ignore[return-value]
        return None


def _narrowed(base: Loaded, method: str) -> Optional[Loaded]:
    """What `base.method()` holds: `.all()` of MANY is MANY, `.first()` is ONE, ..."""
    if base.shape == ROWS:
        if method == "scalars":
            return replace(base, shape=MANY)
        if method in _ROW_TO_ONE:
            return replace(base, shape=ONE)
        return base if method == "unique" else None
    if base.shape == MANY:
        if method in _MANY:
            return base
        if method in _ONE:
            return replace(base, shape=ONE)
    return None
