"""The asyncio API of SQLAlchemy and SQLModel: which methods are coroutines (calling one without
`await` only creates a coroutine), and which methods of the sync classes do database I/O.

The coroutine tables were read from the classes with `inspect.iscoroutinefunction` (through
decorators such as SQLModel's `@deprecated`) on SQLAlchemy 1.4.54, 2.0.44 and 2.1.9, SQLModel
0.0.8 and 0.0.50; `tests/rules/test_awaits.py` checks them against the installed classes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional

from packaging.version import Version

from . import names as N
from .dialects import SA_1_4, SA_2_0, SA_2_1


@dataclass(frozen=True)
class Span:
    """The SQLAlchemy releases in which a method is a coroutine function."""

    since: Version = SA_1_4  # the asyncio extension appeared in 1.4
    until: Optional[Version] = None  # first release where it no longer is

    @property
    def always(self) -> bool:
        return self.since == SA_1_4 and self.until is None

    def covers(self, version: Version) -> bool:
        return self.since <= version and (self.until is None or version < self.until)


_ALWAYS = Span()

ASYNC_SESSION = N.SA_ASYNC_SESSION
ASYNC_ENGINE = N.ASYNC_ENGINE
ASYNC_CONNECTION = "sqlalchemy.ext.asyncio.AsyncConnection"
SQLMODEL_ASYNC_SESSION = N.SQLMODEL_ASYNC_SESSION

_SESSION: Dict[str, Span] = {
    **dict.fromkeys(
        ("close", "close_all", "commit", "connection", "delete", "execute", "flush", "get",
         "invalidate", "merge", "refresh", "rollback", "run_sync", "scalar", "scalars", "stream",
         "stream_scalars"),
        _ALWAYS,
    ),
    **dict.fromkeys(("aclose", "get_one", "reset"), Span(SA_2_0)),
    **dict.fromkeys(("delete_all", "merge_all"), Span(SA_2_1)),
}

# Public coroutine methods (dunders left out) per class, by canonical class name.
COROUTINE_METHODS: Dict[str, Dict[str, Span]] = {
    ASYNC_SESSION: _SESSION,
    # SQLModel's AsyncSession subclasses SQLAlchemy's and adds `exec` (0.0.8 and later).
    SQLMODEL_ASYNC_SESSION: {**_SESSION, "exec": _ALWAYS},
    ASYNC_ENGINE: dict.fromkeys(("dispose", "raw_connection"), _ALWAYS),
    ASYNC_CONNECTION: {
        **dict.fromkeys(
            ("close", "commit", "exec_driver_sql", "execute", "execution_options",
             "get_isolation_level", "get_raw_connection", "invalidate", "rollback", "run_sync",
             "scalar", "scalars", "start"),
            _ALWAYS,
        ),
        "aclose": Span(SA_2_0),
        # 2.0 made these async-startable contexts (awaitable, not coroutine functions).
        **dict.fromkeys(("set_isolation_level", "stream", "stream_scalars"), Span(SA_1_4, SA_2_0)),
    },
}

SHORT_NAMES = {
    ASYNC_SESSION: "AsyncSession",
    SQLMODEL_ASYNC_SESSION: "AsyncSession",
    ASYNC_ENGINE: "AsyncEngine",
    ASYNC_CONNECTION: "AsyncConnection",
}


def coroutine_span(cls: str, method: str) -> Optional[Span]:
    """The releases in which `cls.method` is a coroutine function; None if it never is."""
    return COROUTINE_METHODS.get(cls, {}).get(method)


def coroutine_methods(cls: str, sa_version: Version) -> FrozenSet[str]:
    """The coroutine methods of `cls` on one SQLAlchemy release."""
    methods = COROUTINE_METHODS.get(cls, {})
    return frozenset(m for m, span in methods.items() if span.covers(sa_version))


# Sync methods that do database I/O, the blocking twins of the coroutine methods above.
SYNC_SESSION_IO: FrozenSet[str] = frozenset(
    {"execute", "exec", "scalar", "scalars", "get", "get_one", "query", "commit", "flush",
     "refresh", "merge", "delete", "rollback", "connection", "bulk_save_objects",
     "bulk_insert_mappings", "bulk_update_mappings"}
)
SYNC_CONNECTION_IO: FrozenSet[str] = frozenset(
    {"execute", "exec_driver_sql", "scalar", "scalars", "commit", "rollback"}
)
SYNC_ENGINE_IO: FrozenSet[str] = frozenset({"connect", "begin", "execute", "raw_connection"})
METADATA_IO: FrozenSet[str] = frozenset({"create_all", "drop_all", "reflect"})
