"""The FastAPI + SQLModel backend every benchmark runs on, generated to any size.

`generate(root, modules)` writes settings, the engine and session dependency, and per domain a
package with SQLModel models, pydantic schemas, a repository and a service on `AsyncSession`,
and a router; one script holds two mistakes for the rules to find. `pad` grows the modules with
realistic service functions; `add_jobs` adds modules with defects that stability-fix fixes.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

KINDS = ("models", "schemas", "repository", "service", "router")


def _entity(index: int) -> Tuple[str, str, str]:
    """Class name, table name and package name of one domain."""
    words = ("order", "invoice", "customer", "product", "shipment", "payment", "ticket", "user",
             "account", "review", "coupon", "warehouse", "supplier", "refund", "session")
    base = words[index % len(words)]
    return f"{base.title()}{index}", f"{base}_{index}", f"{base}_{index}"


def models(index: int) -> str:
    cls, table, _ = _entity(index)
    parent = _entity(index - 1)[0] if index else None
    link = (f"    parent_id: Optional[int] = Field(default=None, "
            f'foreign_key="{_entity(index - 1)[1]}.id")\n' if parent else "")
    return f'''\
"""{cls} tables."""
from datetime import datetime
from decimal import Decimal
from typing import List, Optional

from sqlmodel import Field, Relationship, SQLModel


class {cls}Base(SQLModel):
    name: str = Field(index=True, max_length=120)
    description: Optional[str] = None
    amount: Decimal = Field(default=Decimal("0"), max_digits=12, decimal_places=2)
    active: bool = True


class {cls}({cls}Base, table=True):
    __tablename__ = "{table}"

    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=datetime.utcnow, nullable=False)
    updated_at: Optional[datetime] = None
{link}    lines: List["{cls}Line"] = Relationship(back_populates="owner")


class {cls}Line(SQLModel, table=True):
    __tablename__ = "{table}_line"

    id: Optional[int] = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="{table}.id", index=True)
    quantity: int = 1
    owner: Optional[{cls}] = Relationship(back_populates="lines")
'''


def schemas(index: int) -> str:
    cls, _, package = _entity(index)
    return f'''\
"""{cls} request and response bodies."""
from datetime import datetime
from decimal import Decimal
from typing import List, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.domains.{package}.models import {cls}Base


class {cls}Create({cls}Base):
    @field_validator("name")
    @classmethod
    def strip_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name must not be blank")
        return value


class {cls}Update(BaseModel):
    name: Optional[str] = Field(default=None, max_length=120)
    description: Optional[str] = None
    amount: Optional[Decimal] = None
    active: Optional[bool] = None


class {cls}Read({cls}Base):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime


class {cls}Page(BaseModel):
    items: List[{cls}Read]
    total: int
    offset: int = 0
    limit: int = 50
'''


def repository(index: int) -> str:
    cls, _, package = _entity(index)
    return f'''\
"""Queries on {cls}."""
from typing import Optional, Sequence

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.domains.{package}.models import {cls}


class {cls}Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_id: int) -> Optional[{cls}]:
        return await self.session.get({cls}, item_id)

    async def list(self, offset: int = 0, limit: int = 50) -> Sequence[{cls}]:
        statement = select({cls}).where({cls}.active).offset(offset).limit(limit)
        result = await self.session.exec(statement)
        return result.all()

    async def count(self) -> int:
        result = await self.session.exec(select(func.count()).select_from({cls}))
        return result.one()

    async def add(self, item: {cls}) -> {cls}:
        self.session.add(item)
        await self.session.commit()
        await self.session.refresh(item)
        return item

    async def delete(self, item: {cls}) -> None:
        await self.session.delete(item)
        await self.session.commit()
'''


def service(index: int) -> str:
    cls, _, package = _entity(index)
    return f'''\
"""Use cases of {cls}."""
import logging
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, status
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import get_session
from app.domains.{package}.models import {cls}
from app.domains.{package}.repository import {cls}Repository
from app.domains.{package}.schemas import {cls}Create, {cls}Page, {cls}Read, {cls}Update

logger = logging.getLogger(__name__)


class {cls}Service:
    def __init__(self, session: Annotated[AsyncSession, Depends(get_session)]) -> None:
        self.repository = {cls}Repository(session)

    async def page(self, offset: int, limit: int) -> {cls}Page:
        items = await self.repository.list(offset, limit)
        total = await self.repository.count()
        return {cls}Page(items=[{cls}Read.model_validate(i) for i in items], total=total,
                         offset=offset, limit=limit)

    async def get(self, item_id: int) -> {cls}:
        item = await self.repository.get(item_id)
        if item is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "{cls} not found")
        return item

    async def create(self, body: {cls}Create) -> {cls}:
        item = await self.repository.add({cls}.model_validate(body))
        logger.info("created {package} %s", item.id)
        return item

    async def update(self, item_id: int, body: {cls}Update) -> {cls}:
        item = await self.get(item_id)
        item.sqlmodel_update(body.model_dump(exclude_unset=True))
        item.updated_at = datetime.utcnow()
        return await self.repository.add(item)
'''


def router(index: int) -> str:
    cls, _, package = _entity(index)
    return f'''\
"""HTTP routes of {cls}."""
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.domains.{package}.schemas import {cls}Create, {cls}Page, {cls}Read, {cls}Update
from app.domains.{package}.service import {cls}Service

router = APIRouter(prefix="/{package.replace("_", "-")}", tags=["{package}"])
ServiceDep = Annotated[{cls}Service, Depends()]


@router.get("/", response_model={cls}Page)
async def list_{package}(service: ServiceDep, offset: int = Query(0, ge=0),
                         limit: int = Query(50, le=200)) -> {cls}Page:
    return await service.page(offset, limit)


@router.get("/{{item_id}}", response_model={cls}Read)
async def get_{package}(item_id: int, service: ServiceDep):
    return await service.get(item_id)


@router.post("/", response_model={cls}Read, status_code=status.HTTP_201_CREATED)
async def create_{package}(body: {cls}Create, service: ServiceDep):
    return await service.create(body)


@router.patch("/{{item_id}}", response_model={cls}Read)
async def update_{package}(item_id: int, body: {cls}Update, service: ServiceDep):
    return await service.update(item_id, body)
'''


CORE = {
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/domains/__init__.py": "",
    "app/core/config.py": '''\
        """Settings from the environment."""
        from functools import lru_cache

        from pydantic import Field
        from pydantic_settings import BaseSettings, SettingsConfigDict


        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_file=".env", extra="ignore")

            database_url: str = "sqlite+aiosqlite:///./app.db"
            echo_sql: bool = False
            pool_size: int = Field(default=5, ge=1)


        @lru_cache
        def get_settings() -> Settings:
            return Settings()


        settings = get_settings()
    ''',
    "app/core/db.py": '''\
        """The engine and the session dependency."""
        from typing import AsyncIterator

        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel import SQLModel
        from sqlmodel.ext.asyncio.session import AsyncSession

        from app.core.config import settings

        engine = create_async_engine(settings.database_url, echo=settings.echo_sql)
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


        async def init_db() -> None:
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)


        async def get_session() -> AsyncIterator[AsyncSession]:
            async with SessionLocal() as session:
                yield session
    ''',
    "app/scripts/__init__.py": "",
    "app/scripts/report.py": '''\
        """A nightly report on a sync engine (two mistakes for the rules to find)."""
        import os

        import sqlalchemy as sa
        from sqlalchemy.ext.asyncio import create_async_engine

        REPORT_URL = os.getenv("REPORT_DATABASE_URL", "postgres://report:secret@db/app")
        engine = sa.create_engine(REPORT_URL)
        archive = create_async_engine("sqlite:///./archive.db")
    ''',
}

GENERATORS: Dict[str, Callable[[int], str]] = {
    "models": models, "schemas": schemas, "repository": repository, "service": service,
    "router": router,
}


def main_module(domains: int) -> str:
    imports = "\n".join(f"from app.domains.{_entity(i)[2]} import router as {_entity(i)[2]}_router"
                        for i in range(domains))
    includes = "\n".join(f"app.include_router({_entity(i)[2]}_router.router)"
                         for i in range(domains))
    return (f'"""The ASGI app."""\nfrom contextlib import asynccontextmanager\n\n'
            "from fastapi import FastAPI\n\nfrom app.core.db import engine, init_db\n"
            f"{imports}\n\n\n"
            "@asynccontextmanager\nasync def lifespan(app: FastAPI):\n    await init_db()\n"
            "    yield\n    await engine.dispose()\n\n\napp = FastAPI(lifespan=lifespan)\n"
            f"{includes}\n")


def generate(root: Path, modules: int, cache: bool = False) -> Tuple[int, int]:
    """Write the project; returns (python files, lines). Its configuration turns the on-disk
    cache off unless `cache`: the benchmarks time cold runs, and a best of N would otherwise
    keep a warm one."""
    if root.exists():
        shutil.rmtree(root)
    domains = max(1, modules // (len(KINDS) + 1))  # + the package's __init__.py
    pyproject = "[project]\nname = 'generated-backend'\n"
    if not cache:
        pyproject += "\n[tool.flake8-stability]\ncache = false\n"
    files: Dict[str, str] = {"pyproject.toml": pyproject}
    files.update({name: textwrap.dedent(text) for name, text in CORE.items()})
    for index in range(domains):
        package = f"app/domains/{_entity(index)[2]}"
        files[f"{package}/__init__.py"] = ""
        for kind in KINDS:
            files[f"{package}/{kind}.py"] = GENERATORS[kind](index)
    files["app/main.py"] = main_module(domains)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    python = [text for name, text in files.items() if name.endswith(".py")]
    return len(python), sum(text.count("\n") for text in python)


PADDING = '''

async def report_{n}(session, limit: int = 50) -> list:
    """Paginated report {n}."""
    rows = []
    offset = 0
    while True:
        batch = await session.execute(select_rows(limit=limit, offset=offset))
        items = list(batch.scalars())
        if not items:
            break
        for item in items:
            rows.append({{"id": item.id, "value": item.value * {n}, "label": f"row-{{item.id}}"}})
        offset += limit
    return rows
'''


def pad(root: Path, lines: int) -> Tuple[int, int]:
    """Append service functions to every module until the project has about `lines` lines."""
    files = sorted(p for p in root.rglob("*.py") if p.name != "__init__.py")
    current = sum(p.read_text().count("\n") for p in root.rglob("*.py"))
    block = PADDING.count("\n")
    per_file = max(0, (lines - current) // max(1, len(files)) // block)
    for path in files:
        path.write_text(path.read_text() + "".join(PADDING.format(n=n) for n in range(per_file)))
    texts = [p.read_text() for p in root.rglob("*.py")]
    return len(texts), sum(text.count("\n") for text in texts)


# Each job module has four defects with a mechanical fix: a sync sessionmaker over an async
# engine (SBA304), an @on_event handler (SBA408), a DDL call run before any model is imported
# (SBA317, no codemod) and a plain SQL string given to the session (SBA314).
JOB = '''\
"""Nightly job {n}: copies rows to the archive database."""
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import SQLModel

engine = create_async_engine("sqlite+aiosqlite:///./archive_{n}.db")
Session = sessionmaker(engine)
app = FastAPI()


@app.on_event("startup")
async def start() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)


async def count_rows() -> int:
    async with Session() as session:
        return await session.scalar("select count(*) from archive_{n}")
'''


def add_jobs(root: Path, count: int) -> None:
    """Add `count` job modules under app/jobs/, each with fixable defects."""
    package = root / "app" / "jobs"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    for n in range(count):
        (package / f"job_{n}.py").write_text(JOB.format(n=n))


def padded_backend(description: str, output: Path,
                   parser: Optional[argparse.ArgumentParser] = None,
                   ) -> Tuple[argparse.Namespace, int, int]:
    """Parse the options of a benchmark on a padded backend (--modules, --lines, --repeat,
    --python, --output, and those `parser` has already), write that backend; returns the
    options, files and lines."""
    parser = parser or argparse.ArgumentParser(description=description)
    parser.add_argument("--modules", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure")
    parser.add_argument("--output", type=Path, default=output)
    args = parser.parse_args()
    generate(args.output, args.modules)
    files, lines = pad(args.output, args.lines)
    return args, files, lines
