"""Canonical dotted names for the APIs the rules recognise, whatever path they were imported by."""
from __future__ import annotations

from functools import lru_cache
from typing import Dict, Tuple

# Modules whose public names are re-exported by a shorter, documented path.
_MODULE_ALIASES: Tuple[Tuple[str, str], ...] = (
    ("sqlalchemy.ext.asyncio.engine.", "sqlalchemy.ext.asyncio."),
    ("sqlalchemy.ext.asyncio.session.", "sqlalchemy.ext.asyncio."),
    ("sqlalchemy.ext.asyncio.scoping.", "sqlalchemy.ext.asyncio."),
    ("sqlalchemy.orm.session.", "sqlalchemy.orm."),
    ("sqlalchemy.orm.scoping.", "sqlalchemy.orm."),
    ("sqlalchemy.orm.relationships.", "sqlalchemy.orm."),
    ("sqlalchemy.orm._orm_constructors.", "sqlalchemy.orm."),
    ("sqlalchemy.orm.strategy_options.", "sqlalchemy.orm."),
    ("sqlalchemy.orm.decl_api.", "sqlalchemy.orm."),
    ("sqlalchemy.engine.create.", "sqlalchemy."),
    ("sqlalchemy.engine.url.", "sqlalchemy."),
    ("sqlalchemy.engine.", "sqlalchemy."),
    ("sqlalchemy.sql.expression.", "sqlalchemy."),
    ("sqlalchemy.sql.", "sqlalchemy."),
    ("sqlalchemy.future.", "sqlalchemy."),
    ("sqlalchemy.schema.", "sqlalchemy."),
    ("sqlalchemy.inspection.", "sqlalchemy."),
    ("sqlalchemy.pool.impl.", "sqlalchemy.pool."),
    ("sqlmodel.ext.asyncio.session.", "sqlmodel.ext.asyncio."),
    ("sqlmodel.orm.session.", "sqlmodel."),
    ("sqlmodel.sql.expression.", "sqlmodel."),
    ("sqlmodel.main.", "sqlmodel."),
    ("pydantic.networks.", "pydantic."),
    ("pydantic.main.", "pydantic."),
    ("pydantic.types.", "pydantic."),
    ("pydantic_settings.main.", "pydantic_settings."),
    ("pydantic.env_settings.", "pydantic."),
)

# Names that are the same object under another package.
_NAME_ALIASES: Dict[str, str] = {
    "sqlmodel.create_engine": "sqlalchemy.create_engine",
    "sqlmodel.MetaData": "sqlalchemy.MetaData",
    "sqlmodel.Table": "sqlalchemy.Table",
    "sqlmodel.text": "sqlalchemy.text",
    "sqlmodel.inspect": "sqlalchemy.inspect",
    "sqlmodel.Column": "sqlalchemy.Column",
    "sqlmodel.sql.sqltypes.AutoString": "sqlmodel.AutoString",
    "sqlalchemy.pool.NullPool": "sqlalchemy.NullPool",
    "sqlalchemy.pool.StaticPool": "sqlalchemy.StaticPool",
    "sqlalchemy.pool.QueuePool": "sqlalchemy.QueuePool",
    "sqlalchemy.pool.SingletonThreadPool": "sqlalchemy.SingletonThreadPool",
    "sqlalchemy.pool.AsyncAdaptedQueuePool": "sqlalchemy.AsyncAdaptedQueuePool",
    "sqlalchemy.pool.AssertionPool": "sqlalchemy.AssertionPool",
    "sqlalchemy.orm.Relationship": "sqlalchemy.orm.relationship",
    "sqlalchemy.ext.declarative.declarative_base": "sqlalchemy.orm.declarative_base",
    "os.environ.get": "os.getenv",
}


@lru_cache(maxsize=4096)
def canonical(dotted: str) -> str:
    """Return the documented spelling of an imported dotted name."""
    for _ in range(len(_MODULE_ALIASES)):
        for private, public in _MODULE_ALIASES:
            if dotted.startswith(private):
                dotted = public + dotted[len(private):]
                break
        else:
            break
    return _NAME_ALIASES.get(dotted, dotted)


# Frequently used canonical names.
CREATE_ENGINE = "sqlalchemy.create_engine"
CREATE_ASYNC_ENGINE = "sqlalchemy.ext.asyncio.create_async_engine"
ASYNC_ENGINE = "sqlalchemy.ext.asyncio.AsyncEngine"
SA_ASYNC_SESSION = "sqlalchemy.ext.asyncio.AsyncSession"
SQLMODEL_ASYNC_SESSION = "sqlmodel.ext.asyncio.AsyncSession"
ASYNC_SESSIONMAKER = "sqlalchemy.ext.asyncio.async_sessionmaker"
ASYNC_SCOPED_SESSION = "sqlalchemy.ext.asyncio.async_scoped_session"
SESSIONMAKER = "sqlalchemy.orm.sessionmaker"
SA_SESSION = "sqlalchemy.orm.Session"
SQLMODEL_SESSION = "sqlmodel.Session"
SCOPED_SESSION = "sqlalchemy.orm.scoped_session"
MAKE_URL = "sqlalchemy.make_url"
URL_CREATE = "sqlalchemy.URL.create"
TEXT = "sqlalchemy.text"
SELECT = "sqlalchemy.select"
SQLMODEL_SELECT = "sqlmodel.select"
INSPECT = "sqlalchemy.inspect"
METADATA = "sqlalchemy.MetaData"
SQLMODEL = "sqlmodel.SQLModel"
SQLMODEL_FIELD = "sqlmodel.Field"
SQLMODEL_RELATIONSHIP = "sqlmodel.Relationship"
SA_RELATIONSHIP = "sqlalchemy.orm.relationship"
SA_COLUMN = "sqlalchemy.Column"
GETENV = "os.getenv"
ENVIRON = "os.environ"

ASYNC_SESSION_CLASSES = frozenset({SA_ASYNC_SESSION, SQLMODEL_ASYNC_SESSION})
SYNC_SESSION_CLASSES = frozenset({SA_SESSION, SQLMODEL_SESSION})
SETTINGS_BASES = frozenset({"pydantic_settings.BaseSettings", "pydantic.BaseSettings"})

# pydantic URL types: objects, not str, on pydantic 2.
PYDANTIC_URL_TYPES = frozenset(
    "pydantic." + name
    for name in (
        "AnyUrl", "AnyHttpUrl", "HttpUrl", "AnyWebsocketUrl", "FileUrl", "FtpUrl", "PostgresDsn",
        "CockroachDsn", "AmqpDsn", "RedisDsn", "MongoDsn", "KafkaDsn", "NatsDsn", "MySQLDsn",
        "MariaDBDsn", "ClickHouseDsn", "SnowflakeDsn", "MultiHostUrl",
    )
)
