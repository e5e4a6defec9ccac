"""The connection pool an engine gets: an explicit `poolclass=` or the dialect's default for
the URL and the installed SQLAlchemy, and which pool keyword arguments that class accepts."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Tuple

from packaging.version import Version

from ..knowledge import dialects
from .engines import EngineCall
from .urls import DatabaseURL

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 8
_POOL_MODULES = ("sqlalchemy", "sqlalchemy.pool")
_SA_2_2 = Version("2.2.0.dev0")  # the first release that may pool `?mode=memory` as a file


@dataclass(frozen=True)
class EnginePool:
    pool_class: str  # short class name, a key of dialects.POOL_ACCEPTS
    reason: str  # why this class: "poolclass=NullPool" or the dialect's default for the URL
    explicit: bool  # given as poolclass=

    def rejected(self, engine: EngineCall) -> Tuple[str, ...]:
        """The pool keyword arguments of the call that this pool class does not take, in order."""
        accepted = dialects.POOL_ACCEPTS[self.pool_class]
        return tuple(
            kw.arg for kw in engine.call.keywords
            if kw.arg in dialects.QUEUE_POOL_ARGS and kw.arg not in accepted
        )


def engine_pool(module: "ModuleContext", engine: EngineCall) -> Optional[EnginePool]:
    """The pool class of the engine, None when it cannot be told."""
    keywords = {kw.arg for kw in engine.call.keywords}
    given = engine.keyword("poolclass")
    if given is not None and not _is_none(given.value):
        return _explicit_pool(module, given.value)
    if None in keywords or "pool" in keywords or engine.url is None:
        return None  # **options may hold a poolclass; pool= bypasses poolclass entirely
    return _default_pool(module, engine, engine.url)


def sqlite_memory(url: DatabaseURL, sa_version: Optional[Version]) -> Optional[bool]:
    """Whether SQLAlchemy picks its in-memory pool for a SQLite URL: no database, `:memory:`, or
    `?mode=memory` up to 2.1 (which deprecates that choice). `file::memory:` is pooled as a
    file. None when it cannot be told."""
    rest = url.value.text[len(url.scheme) + len("://"):]
    if not rest:
        return True if url.value.complete else None
    if not rest.startswith("/"):
        return None
    path, has_query, query = rest[1:].partition("?")
    if url.value.complete:
        if "mode=memory" in query.split("&"):
            return True if sa_version is not None and sa_version < _SA_2_2 else None
        return path in ("", ":memory:")
    if has_query or not path or ":memory:".startswith(path):
        return None
    return False


def _default_pool(module: "ModuleContext", engine: EngineCall,
                  url: DatabaseURL) -> Optional[EnginePool]:
    sa_version = module.project.sqlalchemy_version
    memory = sqlite_memory(url, sa_version) if url.dialect == "sqlite" else False
    driver = url.effective_driver(sa_version) or ""
    choice = dialects.default_pool(url.dialect, driver, memory, engine.is_async, sa_version)
    if choice is None or choice.pool_class not in dialects.POOL_ACCEPTS:
        return None
    return EnginePool(choice.pool_class, choice.reason, explicit=False)


def _explicit_pool(module: "ModuleContext", expr: ast.expr) -> Optional[EnginePool]:
    name = _pool_class_name(module, expr, 0)
    if name is None:
        return None
    owner, _, short = name.rpartition(".")
    if owner not in _POOL_MODULES or short not in dialects.POOL_ACCEPTS:
        return None
    return EnginePool(short, f"poolclass={short}", explicit=True)


def _pool_class_name(module: "ModuleContext", expr: ast.expr, depth: int) -> Optional[str]:
    """The canonical name of a pool class expression, through one-assignment names."""
    name = module.qualname(expr)
    if name is not None or depth > _MAX_DEPTH or not isinstance(expr, ast.Name):
        return name
    bindings = module.scopes.lookup(expr.id, expr)
    if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].value is None:
        return None
    return _pool_class_name(module, bindings[0].value, depth + 1)


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None
