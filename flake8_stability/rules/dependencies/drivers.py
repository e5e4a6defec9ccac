"""What database code needs installed besides SQLAlchemy: the driver its URL loads (SBA204)
and greenlet for the asyncio extension (SBA205)."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

from packaging.utils import canonicalize_name
from packaging.version import Version

from ...analysis.engines import EngineCall
from ...analysis.urls import DatabaseURL
from ...context import ModuleContext
from ...dependencies.installed import applies, installed_versions
from ...environment import Environment
from ...findings import Category, Finding, Severity
from ...knowledge import dialects, stack
from ...project.model import ProjectModel
from ...project.package_imports import import_sites, milder
from ..base import Invalid, ProjectRule, Rule, Valid
from .stack import interpreter


def _missing(module: ModuleContext, drivername: str, driver: str) -> Optional[Tuple[str, ...]]:
    """The distributions that would provide the driver, when none is installed (None: it is
    installed, in the standard library, unknown, or the interpreter could not be read)."""
    env = module.project.environment
    dists = stack.driver_distributions(drivername)
    if not dists or env.error or not env.distributions:
        return None
    if any(env.has(dist) for dist in dists):
        return None
    if env.importable(dialects.DRIVER_MODULES.get(driver, driver)) is not False:
        return None  # provided by a distribution of another name
    return dists


class DatabaseDriverMissing(Rule):
    code = "SBA204"
    name = "db-driver-missing"
    severity = Severity.BLOCKING
    category = Category.DEPENDENCIES
    versions = "Any SQLAlchemy version: the driver the URL names must be installed."
    summary = "the DBAPI driver an engine URL loads is not installed"
    references = ("D10",)
    triggers = ("create_engine", "create_async_engine")
    what = ("`create_engine` / `create_async_engine` (also SQLModel's) with a URL whose driver "
            "(`postgresql+asyncpg`, `sqlite+aiosqlite`, `mysql+aiomysql`, `mysql+asyncmy`, "
            "`postgresql+psycopg`, `postgresql+psycopg2`, ...) is not installed in the project's "
            "interpreter. A bare `postgresql://` loads psycopg2 on SQLAlchemy < 2.1 and psycopg "
            "(3) from 2.1; a bare `mysql://` loads mysqlclient; `sqlite://` needs only the "
            "standard library. URLs that would fail with any install are left to the rules "
            "that explain them: a sync driver in an async engine (SBA302), an async driver in a "
            "sync engine (SBA301).")
    why = ("SQLAlchemy imports the driver when the engine is created: `ModuleNotFoundError: No "
           "module named 'aiomysql'` (or 'asyncpg', 'aiosqlite', 'psycopg2', 'psycopg', "
           "'MySQLdb'). A module-level engine takes the app down at import; an engine made in "
           "a function or the lifespan fails there.")
    how_to_fix = ("Install the driver the URL names and declare it in the project's "
                  "dependencies (`asyncpg`, `aiosqlite`, `aiomysql`, `asyncmy`, `psycopg[binary]`,"
                  " `psycopg2-binary`, `mysqlclient`), or change the URL to a driver that is "
                  "installed.")
    codemod = "add-database-driver"
    fix_safety = ("Safe: installing the driver changes no code. The `add-database-driver` fix "
                  "adds the driver's distribution as a requirement line after SQLAlchemy's (or "
                  "sqlmodel's); a driver two distributions provide (`psycopg2` or "
                  "`psycopg2-binary`) is a choice left to you, as is changing the URL instead.")
    valid = (
        Valid('''
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        '''),
        Valid('''
            from sqlmodel import create_engine

            engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
        ''', note="the sqlite3 module comes with Python"),
        Valid('''
            import os

            import sqlalchemy as sa

            engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
        ''', env={"DATABASE_URL": "postgresql+psycopg://app:secret@db/app"},
           note="a URL only known at run time is not judged"),
    )
    invalid = (
        Invalid('''
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("mysql+aiomysql://app:secret@db/app")  # expect: SBA204
        ''', raises="ModuleNotFoundError: No module named 'aiomysql'"),
        Invalid('''
            from pydantic_settings import BaseSettings
            from sqlalchemy.ext.asyncio import create_async_engine

            class Settings(BaseSettings):
                database_url: str = "mysql+asyncmy://app:secret@localhost/app"

            settings = Settings()

            def make_engine():
                return create_async_engine(settings.database_url, pool_pre_ping=True)  # expect: SBA204
        ''', raises="ModuleNotFoundError: No module named 'asyncmy'", run="make_engine()"),
        Invalid('''
            from sqlmodel import create_engine

            engine = create_engine("mysql://app:secret@localhost/app")  # expect: SBA204
        ''', raises="ModuleNotFoundError: No module named 'MySQLdb'"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        if module.project.sqlalchemy_version is None:
            return
        for engine in module.engine_calls:
            missing = missing_driver(module, engine)
            if missing is not None and engine.url is not None:
                yield self._finding(module, engine, engine.url, *missing)

    def _finding(self, module: ModuleContext, engine: EngineCall, url: DatabaseURL,
                 driver: str, dists: Tuple[str, ...]) -> Finding:
        drivername = f"{url.dialect}+{driver}"
        import_name = dialects.DRIVER_MODULES.get(driver, driver)
        env = module.project.environment
        sa = env.describe("SQLAlchemy")
        implied = "" if url.driver else f" (a bare {url.dialect}:// means {driver} on {sa})"
        origin = f" The URL is {url.value.origin}." if url.value.origin else ""
        choices = " or ".join(f"`{dist}`" for dist in dists)
        return self.report(
            module, engine.call,
            f"{engine.function}() with {url.shown()!r} needs {' or '.join(dists)}, which is "
            f"not installed",
            f"The URL loads the {drivername} dialect{implied}, whose DBAPI module "
            f"{import_name!r} is not installed in the project's interpreter "
            f"{interpreter(env)} with {sa}; SQLAlchemy raises "
            f"ModuleNotFoundError: No module named {import_name!r} when the engine is "
            f"created.{origin}",
            f"Install and declare {choices} (`pip install {dists[0]}`), or use a URL whose "
            f"driver is installed.",
            severity=self.severity_at(module, engine.call),
        )


def missing_driver(module: ModuleContext,
                   engine: EngineCall) -> Optional[Tuple[str, Tuple[str, ...]]]:
    """(driver, the distributions that would provide it) when the engine's URL loads a driver
    that is not installed and would work once it is (SBA204)."""
    sa_version = module.project.sqlalchemy_version
    url = engine.url
    if sa_version is None or url is None or url.dialect not in dialects.KNOWN_DIALECTS:
        return None
    driver = url.effective_driver(sa_version)
    if driver is None or not _fits(engine, driver, sa_version):
        return None
    dists = _missing(module, f"{url.dialect}+{driver}", driver)
    return None if dists is None else (driver, dists)


def _fits(engine: EngineCall, driver: str, sa_version: Version) -> bool:
    """Whether the engine could work with the driver once installed: an async engine with a
    sync driver (SBA302), a sync engine with an async one (SBA301) and psycopg (3) on
    SQLAlchemy 1.4, which has no dialect for it, fail whatever is installed."""
    if driver in dialects.DUAL_DRIVERS:
        return sa_version >= dialects.SA_2_0
    return (driver in dialects.ASYNC_DRIVERS) is engine.is_async


def _async_api(dotted: str) -> bool:
    """SQLAlchemy's asyncio extension, directly or through SQLModel's AsyncSession."""
    return any(dotted == base or dotted.startswith(base + ".")
               for base in ("sqlalchemy.ext.asyncio", "sqlmodel.ext.asyncio"))


def _greenlet_rule(env: Environment) -> Optional[stack.Incompatibility]:
    """The table's greenlet-missing entry the installed SQLAlchemy falls into."""
    versions = installed_versions(env)
    return next((rule for rule in stack.incompatibilities()
                 if dict(rule.when).get("greenlet") == stack.ABSENT and rule.matches(versions)),
                None)


def _why_absent(env: Environment, sa: str) -> str:
    """Why greenlet is not there: SQLAlchemy does not ask for it here, or it was skipped."""
    wanted = [requirement for requirement in env.requirements_of("sqlalchemy")
              if canonicalize_name(requirement.name) == "greenlet"]
    if any(applies(r, env.markers, "") for r in wanted):
        return (f"{sa} requires greenlet in this interpreter, but it is not installed (an "
                "install with --no-deps, or a lock file made on another platform)")
    if any(r.marker is not None and "extra" not in str(r.marker) for r in wanted):
        machine = env.markers.get("platform_machine", "?")
        return (f"{sa} installs greenlet only on some platforms and Pythons, not here "
                f"(platform_machine {machine!r}, Python {env.python})")
    return f"{sa} installs greenlet only with its `asyncio` extra, which was not requested"


# Interpreters without greenlet, the ones the invalid examples are judged with.
_WEB = ("fastapi==0.165.0", "starlette==1.10.0", "pydantic==2.14.4", "typing-extensions==4.12.2")
_WITHOUT_GREENLET_21 = ("SQLAlchemy==2.1.9", "sqlmodel==0.0.50", "aiosqlite==0.22.1", *_WEB)
_WITHOUT_GREENLET_20 = ("SQLAlchemy==2.0.44", "aiosqlite==0.22.1", *_WEB)


class GreenletMissing(ProjectRule):
    code = "SBA205"
    name = "greenlet-missing"
    severity = Severity.RUNTIME
    category = Category.DEPENDENCIES
    versions = ("SQLAlchemy >= 2.1: importing the asyncio extension fails; SQLAlchemy 1.4 and 2.0:"
                " the first connection fails.")
    summary = "async SQLAlchemy used while greenlet is not installed"
    references = ("D11",)
    what = ("The project imports SQLAlchemy's asyncio extension (`create_async_engine`, "
            "`AsyncSession`, `async_sessionmaker`, also SQLModel's `AsyncSession`) and the "
            "project's interpreter has no `greenlet`. SQLAlchemy 2.1 no longer installs it; "
            "1.4.23-2.0.x install it only on some platforms (not macOS arm64) and Pythons.")
    why = ("On SQLAlchemy >= 2.1 the import itself fails: `ImportError: The SQLAlchemy asyncio "
           "module requires that the Python 'greenlet' library is installed.  In order to "
           "ensure this dependency is available, use the 'sqlalchemy[asyncio]' install target:  "
           "'pip install sqlalchemy[asyncio]'` (so a module-level import is blocking). On 1.4 and "
           "2.0 the first connection fails: `ValueError: the greenlet library is required to "
           "use this function. No module named 'greenlet'`.")
    how_to_fix = ("Depend on `sqlalchemy[asyncio]` (or `sqlmodel[asyncio]` >= 0.0.48), or add "
                  "`greenlet` to the dependencies, and re-install.")
    codemod = "sqlalchemy-asyncio-extra"
    fix_safety = ("Safe: the `sqlalchemy-asyncio-extra` fix adds the `asyncio` extra to the "
                  "project's one SQLAlchemy requirement (`sqlalchemy[asyncio]>=2.0`), or a "
                  "`sqlalchemy[asyncio]` line after sqlmodel's, in the requirement file or the "
                  "PEP 621 array that declares the dependencies; it changes no code. Skipped "
                  "when the dependencies live in several files, nowhere, in Poetry or setup.cfg, "
                  "or when greenlet is declared already (then only a re-install is missing).")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
                from sqlmodel import SQLModel
                from sqlmodel.ext.asyncio.session import AsyncSession

                engine = create_async_engine("sqlite+aiosqlite:///./app.db")
                SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

                async def init_db() -> None:
                    async with engine.begin() as conn:
                        await conn.run_sync(SQLModel.metadata.create_all)
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import init_db

                app = FastAPI()
            ''',
        }, note="greenlet is installed"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from sqlmodel import Session, create_engine

                engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
                app = FastAPI()
            ''',
        }, note="a sync engine needs no greenlet"),
    )
    invalid = (
        Invalid({
            "pyproject.toml": '''
                [project]
                name = "shop"
                dependencies = ["sqlmodel>=0.0.48", "aiosqlite"]
            ''',
            "app/__init__.py": "",
            "app/db.py": '''
                from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # expect: SBA205
                from sqlmodel.ext.asyncio.session import AsyncSession

                engine = create_async_engine("sqlite+aiosqlite:///./app.db")
                SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.db import SessionLocal

                app = FastAPI()
            ''',
        }, installed=_WITHOUT_GREENLET_21,
           note="SQLAlchemy 2.1.9 without greenlet: the import fails, so this one is blocking"),
        Invalid({
            "pyproject.toml": '''
                [project]
                name = "shop"
                dependencies = ["sqlalchemy==2.0.44", "aiosqlite"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from sqlalchemy import text
                from sqlalchemy.ext import asyncio as sa_async  # expect: SBA205

                engine = sa_async.create_async_engine("sqlite+aiosqlite:///./app.db")
                app = FastAPI()

                @app.get("/health")
                async def health() -> dict:
                    async with engine.connect() as conn:
                        await conn.execute(text("select 1"))
                    return {"ok": True}
            ''',
        }, installed=_WITHOUT_GREENLET_20,
           note="SQLAlchemy 2.0.44 without greenlet: the first connection fails"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        env = model.environment
        sa_version = env.version("sqlalchemy")
        if env.error or sa_version is None or env.importable("greenlet") is not False:
            return
        rule = _greenlet_rule(env)
        sites = import_sites(model, _async_api)
        if rule is None or not sites:
            return
        site = sites[0]
        at_import = sa_version >= dialects.SA_2_1
        sa = env.describe("SQLAlchemy")
        why = _why_absent(env, sa)
        when = ("importing sqlalchemy.ext.asyncio fails" if at_import
                else "the first connection (or create_all) fails")
        yield self.report_in(
            site.info, site.record.node,
            f"async SQLAlchemy imported, but greenlet is not installed ({sa})",
            f"{why[0].upper()}{why[1:]}. With "
            f"{sa} {when}: {rule.error}.",
            "Depend on `sqlalchemy[asyncio]` (or `sqlmodel[asyncio]` >= 0.0.48), or add "
            "`greenlet`, and re-install (`pip install greenlet`).",
            severity=site.severity if at_import else milder(Severity.RUNTIME, site.severity),
            related=tuple(other.location("also uses async SQLAlchemy") for other in sites[1:4]),
        )
