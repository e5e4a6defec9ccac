"""The codes of the boot probe: a failure at import, at startup, a boot that never finishes and
an OpenAPI schema that cannot be built, when no static rule of the report explains them. They
are found by `stability-audit --boot` (which executes the project's code); in flake8 they never
fire. Their examples are proven by booting them with the probe (`probe_only`)."""
from __future__ import annotations

from typing import ClassVar, Iterator

from ...context import ModuleContext
from ...findings import Category, Finding, Severity
from ..base import Invalid, Rule, Valid

_PROCFILE = "web: uvicorn app.main:app --host 0.0.0.0 --port 8000\n"
_START = '''import asyncio
from app.main import app, lifespan

async def start():
    async with lifespan(app):
        pass

asyncio.run(start())'''
_START_WITH_DEADLINE = _START.replace("asyncio.run(start())",
                                      "asyncio.run(asyncio.wait_for(start(), 2))")
_IMPORT_WITH_DEADLINE = '''import signal

def stop(*_):
    raise TimeoutError("import did not finish")

signal.signal(signal.SIGALRM, stop)
signal.alarm(2)
import app.main'''


class ProbeRule(Rule):
    """A code only the boot probe reports: flake8 never runs it."""

    probe_only: ClassVar[bool] = True
    probe_timeout: ClassVar[float] = 30.0  # the deadline its examples are booted with
    category = Category.BOOT
    fix_safety = ("No automatic fix: the finding names the frame where the app failed and, for "
                  "known messages, what to change.")

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        return iter(())


class ImportFailureUnexplained(ProbeRule):
    code = "SBA001"
    name = "import-failure-unexplained"
    versions = ("Any versions: what the boot probe saw fail while importing the app with the "
                "installed stack.")
    severity = Severity.BLOCKING
    summary = "importing the ASGI target failed at boot for a reason no static rule explains"
    references = ("E01",)
    what = ("Reported by `stability-audit --boot` when importing the target module (or reading "
            "its attribute, or calling the factory) raised or ended the process, and no static "
            "finding of the report is at the failing frame or known to cause that message. It is "
            "placed at the innermost frame of the project in the traceback; the other project "
            "frames are listed as related locations, and the exception text is redacted.")
    why = ("uvicorn imports the target before it serves anything, so any exception there stops "
           "the server with the traceback (uvicorn 0.54.0; only a target module that cannot be "
           "found gets `ERROR:    Error loading ASGI app. Could not import module \"app.main\".`). "
           "A module that reads a file relative to the working directory fails with "
           "`FileNotFoundError: [Errno 2] No such file or directory: 'features.json'`; "
           "`sys.exit(3)` at import ends the server with exit code 3 and no traceback at all.")
    how_to_fix = ("Fix the exception at the reported frame; the fix text quotes the hint for "
                  "known messages. Keep import-time code free of file, network and environment "
                  "access that may fail, and raise exceptions instead of calling `sys.exit()`.")
    valid = (
        Valid({"Procfile": _PROCFILE, "features.json": '{"title": "Shop"}\n',
               "app/__init__.py": "",
               "app/config.py": '''
                   import json
                   from pathlib import Path

                   FEATURES = json.loads((Path(__file__).parent.parent / "features.json").read_text())
               ''',
               "app/main.py": '''
                   from fastapi import FastAPI

                   from .config import FEATURES

                   app = FastAPI(title=FEATURES["title"])
               '''}, note="the file is found from the module's folder"),
        Valid({"Procfile": _PROCFILE, "app/__init__.py": "",
               "app/main.py": '''
                   import os

                   from fastapi import FastAPI

                   TITLE = os.environ.get("APP_TITLE", "Shop")

                   app = FastAPI(title=TITLE)
               '''}),
    )
    invalid = (
        Invalid({"Procfile": _PROCFILE, "app/__init__.py": "",
                 "app/config.py": '''
                     import json
                     from pathlib import Path

                     FEATURES = json.loads(Path("features.json").read_text())  # expect: SBA001
                 ''',
                 "app/main.py": '''
                     from fastapi import FastAPI

                     from .config import FEATURES

                     app = FastAPI(title=FEATURES["title"])
                 '''},
                raises="FileNotFoundError: [Errno 2] No such file or directory: 'features.json'",
                run="import app.main"),
        Invalid({"Procfile": _PROCFILE, "app/__init__.py": "",
                 "app/main.py": '''
                     import os
                     import sys

                     from fastapi import FastAPI

                     if "STRIPE_KEY" not in os.environ:
                         sys.exit(3)  # expect: SBA001

                     app = FastAPI()
                 '''}, raises="SystemExit: 3", run="import app.main",
                note="the process exits with code 3 and no traceback"),
    )


class StartupFailureUnexplained(ProbeRule):
    code = "SBA002"
    name = "startup-failure-unexplained"
    versions = ("Any versions: what the boot probe saw fail in the lifespan startup with the "
                "installed stack.")
    severity = Severity.BLOCKING
    summary = "the app imported, but its lifespan startup failed for a reason no rule explains"
    references = ("A23", "E09")
    what = ("Reported by `stability-audit --boot` when the ASGI lifespan startup (the lifespan "
            "before `yield`, or startup handlers) raised and no static finding explains it: the "
            "database is unreachable, rejects the credentials or does not exist, a variable the "
            "lifespan reads is missing. Placed at the innermost project frame, with the other "
            "project frames as related locations and a hint for known messages. An exception "
            "during shutdown is reported as a warning.")
    why = ("uvicorn runs the lifespan before it accepts connections; when it raises, uvicorn "
           "prints the traceback, then `ERROR:    Application startup failed. Exiting.` A "
           "SQLite file in a folder that does not exist fails with `sqlalchemy.exc."
           "OperationalError: (sqlite3.OperationalError) unable to open database file`; with "
           "SQLAlchemy 2.1.9 and PostgreSQL 15, a closed port fails with "
           "`ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5432)` "
           "(asyncpg 0.32.0), a wrong password with `asyncpg.exceptions.InvalidPasswordError: "
           "password authentication failed for user \"app\"` (psycopg 3.3.9: `FATAL:  password "
           "authentication failed for user \"app\"`).")
    how_to_fix = ("Fix what the exception names (host, port, credentials, database name, missing "
                  "variable) in the environment or the .env file the boot command loads; in "
                  "Docker Compose point the URL at the service name and wait for the database "
                  "to be healthy before the app starts.")
    valid = (
        Valid({"Procfile": _PROCFILE, "app/__init__.py": "",
               "app/main.py": '''
                   from contextlib import asynccontextmanager

                   from fastapi import FastAPI
                   from sqlalchemy.ext.asyncio import create_async_engine
                   from sqlmodel import SQLModel

                   engine = create_async_engine("sqlite+aiosqlite:///./shop.db")


                   @asynccontextmanager
                   async def lifespan(app: FastAPI):
                       async with engine.begin() as conn:
                           await conn.run_sync(SQLModel.metadata.create_all)
                       yield
                       await engine.dispose()


                   app = FastAPI(lifespan=lifespan)
               '''}),
        Valid({"Procfile": _PROCFILE, "app/__init__.py": "",
               "app/main.py": '''
                   import os
                   from contextlib import asynccontextmanager

                   from fastapi import FastAPI


                   @asynccontextmanager
                   async def lifespan(app: FastAPI):
                       app.state.redis_url = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
                       yield


                   app = FastAPI(lifespan=lifespan)
               '''}),
    )
    invalid = (
        Invalid({"Procfile": _PROCFILE, "app/__init__.py": "",
                 "app/main.py": '''
                     import os
                     from contextlib import asynccontextmanager

                     from fastapi import FastAPI


                     @asynccontextmanager
                     async def lifespan(app: FastAPI):
                         app.state.workers = int(os.environ.get("WORKERS", "four"))  # expect: SBA002
                         yield


                     app = FastAPI(lifespan=lifespan)
                 '''}, raises="ValueError: invalid literal for int() with base 10: 'four'",
                run=_START),
        Invalid({"Procfile": _PROCFILE, "app/__init__.py": "",
                 "app/main.py": '''
                     from contextlib import asynccontextmanager

                     from fastapi import FastAPI
                     from sqlalchemy.ext.asyncio import create_async_engine
                     from sqlmodel import SQLModel

                     engine = create_async_engine("sqlite+aiosqlite:////var/lib/shop-data/shop.db")


                     @asynccontextmanager
                     async def lifespan(app: FastAPI):
                         async with engine.begin() as conn:  # expect: SBA002
                             await conn.run_sync(SQLModel.metadata.create_all)
                         yield


                     app = FastAPI(lifespan=lifespan)
                 '''}, raises="sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) "
                              "unable to open database file", run=_START,
                note="the database file's folder does not exist"),
    )


class BootTimeout(ProbeRule):
    code = "SBA003"
    name = "boot-timeout"
    versions = "Any versions."
    severity = Severity.BLOCKING
    summary = "the app did not finish importing or starting within the probe's deadline"
    references = ("A23",)
    probe_timeout = 4.0
    what = ("Reported by `stability-audit --boot` when the import of the target or the lifespan "
            "startup was still running at the deadline (`--boot-timeout`). The probe records "
            "where it was waiting (the stack of the blocked thread, or of the suspended lifespan "
            "coroutine) and places the finding at the innermost project frame. A deadline "
            "passed after startup (OpenAPI, the `--boot-get` request) is a runtime finding.")
    why = ("A server waits for the import and for `lifespan.startup.complete` before it serves: "
           "a module that waits for a file or a service, a connection without a timeout to a "
           "host that drops packets, or a retry loop without a limit keep the app from ever "
           "accepting a request, and container health checks eventually kill it. Nothing is "
           "raised; bounded with a deadline, the wait ends in `TimeoutError`.")
    how_to_fix = ("Bound every wait: give connections a timeout (`connect_args={\"timeout\": "
                  "5}` for asyncpg, `connect_timeout` for psycopg), retry a limited number of "
                  "times, and do not wait at import.")
    valid = (
        Valid({"Procfile": _PROCFILE, "app/__init__.py": "",
               "app/main.py": '''
                   import asyncio
                   from contextlib import asynccontextmanager

                   from fastapi import FastAPI
                   from sqlalchemy import text
                   from sqlalchemy.ext.asyncio import create_async_engine

                   engine = create_async_engine("sqlite+aiosqlite:///:memory:")


                   async def wait_for_database(attempts: int = 5) -> None:
                       for attempt in range(attempts):
                           try:
                               async with engine.connect() as conn:
                                   await conn.execute(text("SELECT 1"))
                               return
                           except OSError:
                               await asyncio.sleep(0.5 * (attempt + 1))
                       raise RuntimeError("database not reachable")


                   @asynccontextmanager
                   async def lifespan(app: FastAPI):
                       await wait_for_database()
                       yield


                   app = FastAPI(lifespan=lifespan)
               '''}, note="a bounded retry"),
        Valid({"Procfile": _PROCFILE, "app/__init__.py": "",
               "app/main.py": '''
                   from pathlib import Path

                   from fastapi import FastAPI

                   MIGRATED = Path("migrations.done").exists()

                   app = FastAPI()


                   @app.get("/health")
                   async def health() -> dict:
                       return {"migrated": MIGRATED}
               '''}),
    )
    invalid = (
        Invalid({"Procfile": _PROCFILE, "app/__init__.py": "",
                 "app/main.py": '''
                     import time
                     from pathlib import Path

                     from fastapi import FastAPI

                     while not Path("migrations.done").exists():
                         time.sleep(1)  # expect: SBA003

                     app = FastAPI()
                 '''}, raises="TimeoutError: import did not finish", run=_IMPORT_WITH_DEADLINE,
                note="waits at import for a file nobody writes"),
        Invalid({"Procfile": _PROCFILE, "app/__init__.py": "",
                 "app/main.py": '''
                     import asyncio
                     from contextlib import asynccontextmanager

                     from fastapi import FastAPI


                     async def database_ready() -> bool:
                         return False


                     @asynccontextmanager
                     async def lifespan(app: FastAPI):
                         while not await database_ready():
                             await asyncio.sleep(1)  # expect: SBA003
                         yield


                     app = FastAPI(lifespan=lifespan)
                 '''}, raises="TimeoutError", run=_START_WITH_DEADLINE,
                note="an unbounded retry loop in the lifespan"),
    )


class OpenAPIGenerationFailed(ProbeRule):
    code = "SBA004"
    name = "openapi-generation-failed"
    versions = ("Any FastAPI version: the schema is built on the first request to /openapi.json or"
                " /docs.")
    severity = Severity.RUNTIME
    summary = "the app booted, but building its OpenAPI schema failed"
    references = ("E12",)
    what = ("Reported by `stability-audit --boot` when `app.openapi()` raised after a successful "
            "startup. It is placed at the innermost project frame (a custom `openapi()`), else "
            "at the assignment of the app in the target module.")
    why = ("FastAPI builds the schema on the first request to `/openapi.json` or `/docs`, so the "
           "app boots and then the docs answer 500. A body model with an arbitrary type fails "
           "with `pydantic.errors.PydanticInvalidForJsonSchema: Cannot generate a JsonSchema "
           "for core_schema.IsInstanceSchema (<class 'app.main.Money'>)`; a custom `openapi()` "
           "passing `version=None` to `get_openapi` fails with `pydantic_core._pydantic_core."
           "ValidationError: 1 validation error for OpenAPI`.")
    how_to_fix = ("Give arbitrary types a JSON schema (`WithJsonSchema`, a pydantic model, or "
                  "`Annotated[Money, PlainSerializer(...)]`), or exclude the route with "
                  "`include_in_schema=False`; pass strings to `get_openapi`.")
    valid = (
        Valid({"Procfile": _PROCFILE, "app/__init__.py": "",
               "app/main.py": '''
                   from fastapi import FastAPI
                   from pydantic import BaseModel


                   class Price(BaseModel):
                       cents: int


                   app = FastAPI()


                   @app.post("/prices")
                   async def create_price(price: Price) -> Price:
                       return price
               '''}),
        Valid({"Procfile": _PROCFILE, "app/__init__.py": "",
               "app/main.py": '''
                   from fastapi import FastAPI
                   from fastapi.openapi.utils import get_openapi

                   app = FastAPI()
                   API_VERSION = "1.4.0"


                   def custom_openapi() -> dict:
                       if app.openapi_schema is None:
                           app.openapi_schema = get_openapi(title="Shop", version=API_VERSION,
                                                            routes=app.routes)
                       return app.openapi_schema


                   app.openapi = custom_openapi
               '''}, note="a custom openapi()"),
    )
    invalid = (
        Invalid({"Procfile": _PROCFILE, "app/__init__.py": "",
                 "app/main.py": '''
                     from fastapi import FastAPI
                     from pydantic import BaseModel, ConfigDict


                     class Money:
                         def __init__(self, cents: int) -> None:
                             self.cents = cents


                     class Price(BaseModel):
                         model_config = ConfigDict(arbitrary_types_allowed=True)

                         amount: Money


                     app = FastAPI()  # expect: SBA004


                     @app.post("/prices")
                     async def create_price(price: Price) -> dict:
                         return {"cents": price.amount.cents}
                 '''}, raises="pydantic.errors.PydanticInvalidForJsonSchema: Cannot generate a "
                              "JsonSchema for core_schema.IsInstanceSchema",
                run="from app.main import app\napp.openapi()"),
        Invalid({"Procfile": _PROCFILE, "app/__init__.py": "",
                 "app/main.py": '''
                     from fastapi import FastAPI
                     from fastapi.openapi.utils import get_openapi

                     app = FastAPI()
                     API_VERSION = None


                     def custom_openapi() -> dict:
                         if app.openapi_schema is None:
                             app.openapi_schema = get_openapi(  # expect: SBA004
                                 title="Shop", version=API_VERSION, routes=app.routes)
                         return app.openapi_schema


                     app.openapi = custom_openapi
                 '''}, raises="pydantic_core._pydantic_core.ValidationError: 1 validation error "
                              "for OpenAPI", run="from app.main import app\napp.openapi()"),
    )
