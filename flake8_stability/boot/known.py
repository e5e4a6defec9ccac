"""Known boot failure messages: which static rules predict them, and the fix to suggest when no
finding of the project explains the failure. Patterns match the exception texts of the real
libraries (any exception of the chain)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional, Pattern, Tuple


@dataclass(frozen=True)
class Known:
    pattern: Pattern[str]
    codes: Tuple[str, ...]  # the static rules that predict this failure
    hint: str


def _known(pattern: str, codes: Tuple[str, ...], hint: str) -> Known:
    return Known(re.compile(pattern), codes, hint)


KNOWN: Tuple[Known, ...] = (
    _known(r"The asyncio extension requires an async driver", ("SBA302",),
           "give create_async_engine() an async driver URL (postgresql+asyncpg://, "
           "postgresql+psycopg://, sqlite+aiosqlite://, mysql+aiomysql://) (see SBA302)"),
    _known(r"partially initialized module", ("SBA602",),
           "break the import cycle: move the shared names into a module both import, or import "
           "inside the function that needs them (see SBA602)"),
    _known(r"Table '[^']*' is already defined", ("SBA605",),
           "import each model module under one name only (one import root, no `src.` prefix "
           "next to the bare name) (see SBA605)"),
    _known(r"has no attribute '_run_ddl_visitor'", ("SBA308",),
           "run DDL through a connection: `async with engine.begin() as conn: "
           "await conn.run_sync(SQLModel.metadata.create_all)` (see SBA308)"),
    _known(r"No module named", ("SBA101", "SBA104", "SBA106", "SBA204", "SBA401"),
           "install the missing distribution in the project's interpreter, or start the app "
           "from the folder its imports assume (see SBA101/SBA104)"),
    _known(r"cannot import name", ("SBA102", "SBA103", "SBA602"),
           "import the name from where the installed version defines it (see SBA102/SBA103)"),
    _known(r"Could not parse SQLAlchemy URL|Can't load plugin: sqlalchemy\.dialects",
           ("SBA303", "SBA313"),
           "write the URL as dialect+driver://user:password@host:port/database; `postgres://` "
           "is not a SQLAlchemy scheme, use `postgresql://` (see SBA303)"),
    _known(r"Invalid argument\(s\) '[^']*' sent to create_engine", ("SBA311",),
           "drop the pool options the dialect's pool does not accept (see SBA311)"),
    _known(r"has no matching SQLAlchemy type", ("SBA318",),
           "give the field an explicit column type: Field(sa_type=...) or sa_column=Column(...) "
           "(see SBA318)"),
    _known(r"could not assemble any primary key columns", ("SBA319",),
           "declare a primary key: id: Optional[int] = Field(default=None, primary_key=True)"),
    _known(r"Field required \[type=missing", ("SBA501", "SBA502"),
           "give the settings field a default or set the variable in the environment or the "
           ".env file the boot command loads (see SBA502)"),
    _known(r"Extra inputs are not permitted", ("SBA503",),
           "set model_config = SettingsConfigDict(extra=\"ignore\") or remove the key from .env"),
    _known(r"cannot be called from a running event loop", ("SBA410",),
           "do not run the event loop at import: await the coroutine in the lifespan instead"),
    _known(r"Invalid args for response field", ("SBA412",),
           "annotate the parameter with Depends(...) or set response_model=None (see SBA412)"),
    _known(r"email-validator is not installed", ("SBA206",),
           "install email-validator (pip install 'pydantic[email]')"),
    _known(r"python-multipart", ("SBA207",), "install python-multipart"),
    _known(r"greenlet", ("SBA205",), "install greenlet in the project's interpreter"),
    _known(r"password authentication failed|role \"[^\"]*\" does not exist"
           r"|Access denied for user", (),
           "the database rejected the credentials: check the user and password of the database "
           "URL in the environment or .env file the boot command loads"),
    _known(r"database \"[^\"]*\" does not exist|Unknown database", (),
           "the database named in the URL does not exist on the server: create it or fix the "
           "database name of the URL"),
    _known(r"Connect call failed|Connection refused|connection refused|could not connect"
           r"|Name or service not known|nodename nor servname|Temporary failure in name "
           r"resolution|timed out|TimeoutError", (),
           "the database is unreachable at startup: check the host and port of the URL (in "
           "Docker Compose, the service name, not localhost), and wait for the database to be "
           "healthy (depends_on: condition: service_healthy) or retry in the lifespan"),
    _known(r"unable to open database file", (),
           "the SQLite file's folder does not exist or is not writable from the working "
           "directory: use an absolute path or create the folder"),
)


def matches(texts: Iterable[str]) -> Tuple[Known, ...]:
    """The known failures any of `texts` shows, in table order."""
    texts = tuple(texts)
    return tuple(known for known in KNOWN if any(known.pattern.search(text) for text in texts))


def hint_for(texts: Iterable[str]) -> Optional[str]:
    found = matches(texts)
    return found[0].hint if found else None
