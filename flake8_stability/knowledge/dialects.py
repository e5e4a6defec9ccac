"""SQLAlchemy dialects, their drivers and default pools, by SQLAlchemy version.

Facts checked against SQLAlchemy 1.4.54, 2.0.44 and 2.1.9 (see docs/rules.md, SBA302/SBA311).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional

from packaging.version import Version

SA_1_4 = Version("1.4.0")
SA_2_0 = Version("2.0.0")
SA_2_1 = Version("2.1.0b1")

ASYNC_DRIVERS: FrozenSet[str] = frozenset(
    {"asyncpg", "psycopg_async", "aiosqlite", "aiomysql", "asyncmy", "aioodbc", "oracledb_async"}
)
# Drivers whose dialect has a sync and an async variant: create_async_engine picks the async one.
DUAL_DRIVERS: FrozenSet[str] = frozenset({"psycopg", "oracledb"})
SYNC_DRIVERS: FrozenSet[str] = frozenset(
    {
        "psycopg2", "psycopg2cffi", "pg8000", "pysqlite", "pysqlcipher", "mysqldb", "pymysql",
        "mysqlconnector", "mariadbconnector", "cymysql", "pyodbc", "pymssql", "cx_oracle",
    }
)

# Driver -> the import name the dialect loads.
DRIVER_MODULES = {
    "asyncpg": "asyncpg",
    "psycopg": "psycopg",
    "psycopg_async": "psycopg",
    "psycopg2": "psycopg2",
    "psycopg2cffi": "psycopg2cffi",
    "pg8000": "pg8000",
    "aiosqlite": "aiosqlite",
    "pysqlite": "sqlite3",
    "aiomysql": "aiomysql",
    "asyncmy": "asyncmy",
    "mysqldb": "MySQLdb",
    "pymysql": "pymysql",
    "aioodbc": "aioodbc",
    "pyodbc": "pyodbc",
    "oracledb": "oracledb",
    "cx_oracle": "cx_Oracle",
}

# The async driver to suggest per dialect.
ASYNC_DRIVER_FOR = {"postgresql": "asyncpg", "sqlite": "aiosqlite", "mysql": "aiomysql",
                    "mariadb": "aiomysql", "mssql": "aioodbc", "oracle": "oracledb_async"}
# The sync driver to suggest per dialect, for an async driver used with create_engine.
SYNC_DRIVER_FOR = {"postgresql": "psycopg", "sqlite": "pysqlite", "mysql": "pymysql",
                   "mariadb": "pymysql", "mssql": "pyodbc", "oracle": "oracledb"}

KNOWN_DIALECTS = frozenset({"postgresql", "sqlite", "mysql", "mariadb", "mssql", "oracle"})


_FIXED_DEFAULT_DRIVERS = {"sqlite": "pysqlite", "mysql": "mysqldb", "mariadb": "mysqldb",
                          "mssql": "pyodbc"}


def default_driver(dialect: str, sa_version: Optional[Version]) -> Optional[str]:
    """The driver SQLAlchemy loads for a bare `dialect://` URL."""
    if dialect == "postgresql":
        if sa_version is None:
            return None
        return "psycopg" if sa_version >= SA_2_1 else "psycopg2"
    if dialect == "oracle":
        if sa_version is None:
            return None
        return "oracledb" if sa_version >= SA_2_0 else "cx_oracle"
    return _FIXED_DEFAULT_DRIVERS.get(dialect)


def is_async_capable(driver: str, sa_version: Optional[Version]) -> Optional[bool]:
    """Whether create_async_engine accepts the driver (None: depends on an unknown version)."""
    if driver in ASYNC_DRIVERS:
        return True
    if driver in DUAL_DRIVERS:
        if sa_version is None:
            return None
        return sa_version >= SA_2_0
    if driver in SYNC_DRIVERS:
        return False
    return None


# Pool keyword arguments of create_engine, by the pool classes that accept them.
QUEUE_POOL_ARGS = frozenset({"pool_size", "max_overflow", "pool_timeout", "pool_use_lifo"})
POOL_ACCEPTS = {
    "QueuePool": QUEUE_POOL_ARGS,
    "AsyncAdaptedQueuePool": QUEUE_POOL_ARGS,
    "SingletonThreadPool": frozenset({"pool_size"}),
    "StaticPool": frozenset(),
    "NullPool": frozenset(),
    "AssertionPool": frozenset(),
}


@dataclass(frozen=True)
class PoolChoice:
    pool_class: str
    reason: str


def default_pool(dialect: str, driver: str, memory: Optional[bool], is_async: bool,
                 sa_version: Optional[Version]) -> Optional[PoolChoice]:
    """The pool class create_engine picks when no poolclass is given (None: cannot tell)."""
    if dialect != "sqlite":
        return PoolChoice("AsyncAdaptedQueuePool" if is_async else "QueuePool",
                          f"the default pool of the {dialect} dialect")
    if memory is None:
        return None
    if memory:
        if driver == "aiosqlite":
            return PoolChoice("StaticPool", "an in-memory aiosqlite database uses StaticPool")
        return PoolChoice("SingletonThreadPool",
                          "an in-memory SQLite database uses SingletonThreadPool")
    if sa_version is None:
        return None
    if sa_version < SA_2_0:
        return PoolChoice("NullPool",
                          f"SQLAlchemy {sa_version} uses NullPool for file SQLite databases")
    return PoolChoice("AsyncAdaptedQueuePool" if driver == "aiosqlite" else "QueuePool",
                      f"SQLAlchemy {sa_version} pools file SQLite databases")
