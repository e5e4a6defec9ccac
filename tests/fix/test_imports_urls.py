"""The moved-import, async-driver-url, postgres-scheme and str-dsn codemods: findings from the
real engine on fixture projects, the codemod applied through `apply_codemod`, the exact output,
idempotence, skipped targets, the finding gone after the fix and the fixed module importing (and
its engine being created) with the real libraries."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import pytest
from fix_projects import findings_of, run_python, write_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flake8_stability.findings import Finding
from flake8_stability.fix.apply import fix_files
from flake8_stability.fix.codemod import Outcome, apply_codemod, registry


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Case:
    id: str
    codemod: str
    code: str  # the finding's rule
    before: str  # app/main.py
    after: str
    run: str = ""  # run after importing app.main (the failure that comes after import)


CASES = [
    Case("moved-import-single", "moved-import", "SBA103", '''
        from pydantic import BaseSettings  # the app's settings


        class Settings(BaseSettings):
            database_url: str = "sqlite:///./app.db"


        settings = Settings()
    ''', '''
        from pydantic_settings import BaseSettings  # the app's settings


        class Settings(BaseSettings):
            database_url: str = "sqlite:///./app.db"


        settings = Settings()
    '''),
    Case("moved-import-split-parenthesized", "moved-import", "SBA103", '''
        from pydantic import (
            BaseModel,
            BaseSettings,
            Field,  # keep me
        )


        class Item(BaseModel):
            name: str = Field(default="x")


        class Settings(BaseSettings):
            debug: bool = False
    ''', '''
        from pydantic import (
            BaseModel,
            Field,  # keep me
        )
        from pydantic_settings import BaseSettings


        class Item(BaseModel):
            name: str = Field(default="x")


        class Settings(BaseSettings):
            debug: bool = False
    '''),
    Case("moved-import-already-imported", "moved-import", "SBA103", '''
        from pydantic import BaseSettings, Field  # settings
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            debug: bool = Field(default=False)
    ''', '''
        from pydantic import Field  # settings
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            debug: bool = Field(default=False)
    '''),
    Case("moved-import-attribute", "moved-import", "SBA103", '''
        """Settings."""
        import pydantic


        class Settings(pydantic.BaseSettings):
            debug: bool = False
    ''', '''
        """Settings."""
        import pydantic
        import pydantic_settings


        class Settings(pydantic_settings.BaseSettings):
            debug: bool = False
    '''),
    Case("moved-import-sqlmodel", "moved-import", "SBA103", '''
        from sqlmodel.ext.asyncio.session import AsyncConnection, AsyncSession  # async API
    ''', '''
        from sqlmodel.ext.asyncio.session import AsyncSession  # async API
        from sqlalchemy.ext.asyncio import AsyncConnection
    '''),
    Case("async-driver-url-literal", "async-driver-url", "SBA302", '''
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

        engine = create_async_engine(
            'sqlite:///./app.db',  # the dev database
            echo=False,
        )
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    ''', '''
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

        engine = create_async_engine(
            'sqlite+aiosqlite:///./app.db',  # the dev database
            echo=False,
        )
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    '''),
    Case("async-driver-url-constant", "async-driver-url", "SBA302", '''
        from sqlalchemy.ext.asyncio import create_async_engine

        DB_URL = "postgresql+psycopg2://app:secret@db/app"


        def make_engine():
            return create_async_engine(DB_URL, pool_size=5)
    ''', '''
        from sqlalchemy.ext.asyncio import create_async_engine

        DB_URL = "postgresql+asyncpg://app:secret@db/app"


        def make_engine():
            return create_async_engine(DB_URL, pool_size=5)
    ''', run="app.main.make_engine()"),
    Case("async-driver-url-getenv", "async-driver-url", "SBA302", '''
        import os

        from sqlalchemy.ext.asyncio import create_async_engine

        DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///./shop.db")
        engine = create_async_engine(DATABASE_URL, pool_pre_ping=True)
    ''', '''
        import os

        from sqlalchemy.ext.asyncio import create_async_engine

        DATABASE_URL = os.getenv("DATABASE_URL", "sqlite+aiosqlite:///./shop.db")
        engine = create_async_engine(DATABASE_URL, pool_pre_ping=True)
    '''),
    Case("postgres-scheme-async", "postgres-scheme", "SBA303", '''
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine("postgres://app:secret@db/app")
    ''', '''
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
    '''),
    Case("postgres-scheme-getenv-sync", "postgres-scheme", "SBA303", '''
        import os

        from sqlmodel import create_engine

        DATABASE_URL = os.getenv("DATABASE_URL", "postgres://app:secret@localhost/app")
        engine = create_engine(DATABASE_URL)
    ''', '''
        import os

        from sqlmodel import create_engine

        DATABASE_URL = os.getenv("DATABASE_URL", "postgresql://app:secret@localhost/app")
        engine = create_engine(DATABASE_URL)
    '''),
    Case("str-dsn", "str-dsn", "SBA313", '''
        from pydantic import PostgresDsn
        from pydantic_settings import BaseSettings
        from sqlalchemy.ext.asyncio import create_async_engine


        class Settings(BaseSettings):
            DATABASE_URL: PostgresDsn = "postgresql+asyncpg://app:secret@db/app"


        settings = Settings()
        engine = create_async_engine(settings.DATABASE_URL, echo=False)
    ''', '''
        from pydantic import PostgresDsn
        from pydantic_settings import BaseSettings
        from sqlalchemy.ext.asyncio import create_async_engine


        class Settings(BaseSettings):
            DATABASE_URL: PostgresDsn = "postgresql+asyncpg://app:secret@db/app"


        settings = Settings()
        engine = create_async_engine(settings.DATABASE_URL, echo=False)
    '''.replace("(settings.DATABASE_URL,", "(str(settings.DATABASE_URL),")),
]


def _fix(root: Path, case: Case) -> Tuple[List[Finding], Outcome]:
    findings = [f for f in findings_of(root, "app/main.py") if f.fix.codemod == case.codemod]
    source = (root / "app" / "main.py").read_text()
    return findings, apply_codemod(registry()[case.codemod](), source, findings)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_codemod_fixes_the_finding_and_the_app_imports(tmp_path: Path, case: Case) -> None:
    root = write_project(tmp_path / "shop", {"app/main.py": dedent(case.before)})
    broken = run_python(root, "import app.main" + (f"; {case.run}" if case.run else ""))
    findings, outcome = _fix(root, case)
    assert [f.code for f in findings] == [case.code]
    assert outcome.skipped == [] and len(outcome.fixed) == 1
    assert outcome.module.code == dedent(case.after)
    again = apply_codemod(registry()[case.codemod](), outcome.module.code, findings)
    assert again.module.code == outcome.module.code  # idempotent
    (root / "app" / "main.py").write_text(outcome.module.code)
    assert case.code not in {f.code for f in findings_of(root, "app/main.py")}
    fixed = run_python(root, "import app.main" + (f"; {case.run}" if case.run else ""))
    assert fixed.returncode == 0, fixed.stderr
    assert broken.returncode != 0, "the fixture must really fail before the fix"


def test_moved_import_names_the_new_distribution_in_a_note_not_in_the_code(
        tmp_path: Path) -> None:
    case = CASES[0]
    root = write_project(tmp_path / "shop", {"app/main.py": dedent(case.before)})
    _, outcome = _fix(root, case)
    assert outcome.notes == ["`pydantic_settings` comes from the pydantic-settings distribution: "
                             "add it to the project's dependencies"]
    assert "pydantic-settings" not in outcome.module.code


def test_moved_import_has_no_note_when_the_project_declares_the_distribution(
        tmp_path: Path) -> None:
    case = CASES[0]
    root = write_project(tmp_path / "shop", {"app/main.py": dedent(case.before)})
    (root / "requirements.txt").write_text("fastapi>=0.115\npydantic-settings>=2.2\n")
    _, outcome = _fix(root, case)
    assert len(outcome.fixed) == 1 and outcome.notes == []


SKIPPED = [
    ("moved-import", '''
        from pydantic import BaseModel, validator


        class Hero(BaseModel):
            name: str

            @validator("name")
            def strip(cls, value):
                return value.strip()
    ''', "the replacement is not an import of validator"),
    ("async-driver-url", '''
        from pydantic_settings import BaseSettings
        from sqlalchemy.ext import asyncio as sa_async


        class Settings(BaseSettings):
            database_url: str = "sqlite:///./dev.db"


        settings = Settings()
        engine = sa_async.create_async_engine(settings.database_url)
    ''', "the URL comes from `settings.database_url`, not from a literal in this file"),
    ("async-driver-url", '''
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import create_async_engine

        DATABASE_URL = "sqlite:///./app.db"
        engine = create_async_engine(DATABASE_URL)
        sync_engine = create_engine(DATABASE_URL)  # Alembic
    ''', "DATABASE_URL is also read elsewhere in this file"),
    ("str-dsn", '''
        from pydantic import AnyUrl
        from pydantic_settings import BaseSettings
        from sqlmodel import create_engine

        str = repr


        class Settings(BaseSettings):
            database_url: AnyUrl = "sqlite:///./app.db"


        settings = Settings()
        engine = create_engine(settings.database_url)
    ''', "this file binds the name `str` to something else"),
]


@pytest.mark.parametrize("codemod, before, reason", SKIPPED,
                         ids=[f"{name}-{n}" for n, (name, _, _) in enumerate(SKIPPED)])
def test_a_target_that_cannot_be_fixed_safely_is_skipped(tmp_path: Path, codemod: str,
                                                         before: str, reason: str) -> None:
    root = write_project(tmp_path / "shop", {"app/main.py": dedent(before)})
    findings = [f for f in findings_of(root, "app/main.py") if f.fix.codemod == codemod]
    assert findings, "the fixture must give a finding that names the codemod"
    outcome = apply_codemod(registry()[codemod](), dedent(before), findings)
    assert outcome.module.code == dedent(before)
    assert outcome.fixed == []
    assert [why for _, why in outcome.skipped] and all(
        reason in why for _, why in outcome.skipped)


def test_every_codemod_names_the_rules_that_name_it() -> None:
    from flake8_stability.rules import all_rules

    named = {rule.code: rule.codemod for rule in all_rules()}
    for name in ("moved-import", "async-driver-url", "postgres-scheme", "str-dsn"):
        codemod = registry()[name]
        assert codemod.codes and all(named[code] == name for code in codemod.codes)
        assert codemod.summary and codemod.safe


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scheme=st.sampled_from(["sqlite:///./app.db", "postgresql+psycopg2://app:pw@db/app",
                               "postgres://app:pw@db/app", "mysql+pymysql://app:pw@db/app"]),
       quote=st.sampled_from(['"', "'", '"""', "r'"]), constant=st.booleans(),
       comment=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]))
def test_url_fixes_are_complete_and_idempotent_whatever_the_spelling(
        tmp_path_factory: pytest.TempPathFactory, scheme: str, quote: str, constant: bool,
        comment: bool, newline: str) -> None:
    closing = quote.lstrip("r")
    literal = f"{quote}{scheme}{closing}"
    lines = ["from sqlalchemy.ext.asyncio import create_async_engine", ""]
    if constant:
        lines += [f"URL = {literal}" + ("  # from the docs" if comment else ""), ""]
        literal = "URL"
    lines += [f"engine = create_async_engine({literal}, echo=False)"
              + ("  # engine" if comment else ""), ""]
    source = newline.join(lines)
    root = write_project(tmp_path_factory.mktemp("url"), {"app/main.py": source})
    path = root / "app" / "main.py"
    [fix] = fix_files(findings_of(root, "app/main.py"))
    assert fix.skipped == [] and fix.changed
    path.write_bytes(fix.after)
    assert fix.after.count(newline.encode()) == source.count(newline)
    again = findings_of(root, "app/main.py")
    assert not [f for f in again if f.code in ("SBA302", "SBA303")]
    assert [fix for fix in fix_files(again) if fix.changed or fix.applied] == []
