"""SBA103 beyond the documented examples: one flake8 run per project, several files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, Optional

from _ddl_support import files as _files
from _ddl_support import findings as _findings
from _ddl_support import reported as _reported
from flake8_runner import Flake8Run

Lint = Callable[..., Flake8Run]


def _interpreter(tmp_path: Path, dists: Optional[Dict[str, str]]) -> str:
    """A stand-in for the project's interpreter reporting these versions (None: unreadable)."""
    listing = json.dumps({"python": "3.11.7", "executable": "/fake/python",
                          "distributions": dists or {}})
    path = tmp_path / "fake-env" / "python"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{listing}'\n")
    path.chmod(0o755)
    return str(path)


HEALTHY = {
    "settings.py": '''
        from pydantic import Field
        from pydantic_settings import BaseSettings, SettingsConfigDict


        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_file=".env")
            database_url: str = Field(default="sqlite+aiosqlite:///./app.db")
    ''',
    "db.py": '''
        from typing import Annotated, AsyncIterator

        from fastapi import Depends
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel import SQLModel
        from sqlmodel.ext.asyncio.session import AsyncSession

        engine = create_async_engine("sqlite+aiosqlite:///./app.db")
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


        async def init_db() -> None:
            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)


        async def get_session() -> AsyncIterator[AsyncSession]:
            async with SessionLocal() as session:
                yield session

        SessionDep = Annotated[AsyncSession, Depends(get_session)]
    ''',
    "sync_db.py": '''
        import sqlalchemy as sa
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

        engine = sa.create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
        SessionLocal = sessionmaker(engine)


        class Base(DeclarativeBase):
            pass


        class Hero(Base):
            __tablename__ = "hero"
            id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
            uuid = sa.Column(sa.Uuid)
    ''',
    "compat.py": '''
        from typing import TYPE_CHECKING

        import pydantic

        PYDANTIC_V2 = pydantic.VERSION.startswith("2.")

        if TYPE_CHECKING:
            from pydantic import ConstrainedStr

        if PYDANTIC_V2:
            from pydantic_settings import BaseSettings
        else:
            from pydantic import BaseSettings

        try:
            from pydantic.v1 import BaseSettings as LegacySettings
        except (ImportError, AttributeError):
            LegacySettings = pydantic.BaseSettings


        def validator_for():
            from pydantic import field_validator
            return field_validator
    ''',
}

BROKEN = {
    "deferred.py": '''
        def load_settings():
            from pydantic import BaseSettings
            return BaseSettings
    ''',
    "legacy.py": '''
        import pydantic as pd
        from pydantic.env_settings import SettingsSourceCallable
        from pydantic.fields import ModelField
        from sqlalchemy.ext.declarative import declarative_base
        from sqlmodel import AsyncSession, SQLModel


        class Settings(pd.BaseSettings):
            name: str = "app"
    ''',
}


def test_healthy_code_on_the_installed_versions_is_silent(lint: Lint) -> None:
    run = lint(_files(HEALTHY))
    assert [r for r in run.results if r.code == "SBA103"] == []


def test_removed_deprecated_and_deferred_imports_on_the_installed_versions(lint: Lint) -> None:
    run = lint(_files(BROKEN))
    assert _reported(run, "SBA103", "deferred.py") == ["2 [runtime]"]
    assert _reported(run, "SBA103", "legacy.py") == [
        "2 [blocking]", "3 [blocking]", "4 [warning]", "5 [blocking]", "8 [blocking]"]
    texts = sorted(r.text for r in run.results if r.code == "SBA103")
    assert ("`from sqlmodel import AsyncSession` fails on sqlmodel 0.0.50: use "
            "`from sqlmodel.ext.asyncio.session import AsyncSession` [blocking]") in texts


def test_root_cause_quotes_the_library_and_fix_names_the_dependency(tmp_path: Path) -> None:
    found = _findings(tmp_path, "SBA103", "from pydantic import BaseSettings\n")
    assert len(found) == 1
    finding = found[0]
    assert finding.message == ("`from pydantic import BaseSettings` fails on pydantic 2.14.4: use "
                               "`from pydantic_settings import BaseSettings`")
    assert "pydantic 2.14.4 no longer has it" in finding.root_cause
    assert ("PydanticImportError: `BaseSettings` has been moved to the `pydantic-settings` "
            "package.") in finding.root_cause
    assert finding.fix.description == (
        "Replace `from pydantic import BaseSettings` with `from pydantic_settings import "
        "BaseSettings` and add `pydantic-settings` to the project's dependencies.")
    assert finding.fix.codemod == "moved-import"


SQLALCHEMY_2_CODE = {
    "db.py": '''
        from pydantic import BaseSettings
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
        from sqlalchemy.orm import DeclarativeBase


        def factory(engine):
            from sqlalchemy.ext.asyncio import AsyncAttrs
            return async_sessionmaker(engine, class_=AsyncSession), AsyncAttrs
    ''',
}


def test_sqlalchemy_2_names_on_sqlalchemy_1_4(lint: Lint, tmp_path: Path) -> None:
    python = _interpreter(tmp_path, {"sqlalchemy": "1.4.54", "pydantic": "1.10.17"})
    run = lint(_files(SQLALCHEMY_2_CODE), "--stability-python", python)
    assert _reported(run, "SBA103", "db.py") == ["2 [blocking]", "3 [blocking]", "7 [runtime]"]
    texts = [r.text for r in run.results if r.code == "SBA103"]
    assert texts[0] == ("`from sqlalchemy.ext.asyncio import async_sessionmaker` fails on "
                        "sqlalchemy 1.4.54: it needs sqlalchemy>=2.0 [blocking]")
    # SQLAlchemy 1.3 has no sqlalchemy.ext.asyncio at all: one finding per import statement.
    python = _interpreter(tmp_path, {"sqlalchemy": "1.3.24", "pydantic": "1.10.17"})
    run = lint(_files(SQLALCHEMY_2_CODE), "--stability-python", python)
    assert _reported(run, "SBA103", "db.py") == ["2 [blocking]", "3 [blocking]", "7 [runtime]"]
    assert [r.text for r in run.results if r.code == "SBA103"][0] == (
        "`from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, "
        "create_async_engine` fails on sqlalchemy 1.3.24: it needs sqlalchemy>=1.4 [blocking]")


def test_unknown_versions_warn_only_for_settled_changes(lint: Lint, tmp_path: Path) -> None:
    sources = dict(SQLALCHEMY_2_CODE)
    sources["models.py"] = '''
        from pydantic import BaseModel, validator
        from sqlmodel import AsyncSession
    '''
    run = lint(_files(sources), "--stability-python", _interpreter(tmp_path, None))
    assert _reported(run, "SBA103", "db.py") == ["1 [warning]"]
    assert _reported(run, "SBA103", "models.py") == ["1 [warning]", "2 [warning]"]
    texts = [r.text for r in run.results if r.code == "SBA103" and r.path.endswith("db.py")]
    assert texts == ["`from pydantic import BaseSettings` fails on pydantic>=2: use "
                     "`from pydantic_settings import BaseSettings` [warning]"]


def test_attribute_uses_in_unevaluated_annotations_are_silent(lint: Lint) -> None:
    sources = {
        "lazy.py": '''
            from __future__ import annotations

            import pydantic


            def configure(settings: pydantic.BaseSettings) -> pydantic.BaseSettings:
                return settings
        ''',
        "eager.py": '''
            import pydantic


            def configure(settings: pydantic.BaseSettings) -> None:
                return None
        ''',
    }
    run = lint(_files(sources))
    assert _reported(run, "SBA103", "lazy.py") == []
    assert _reported(run, "SBA103", "eager.py") == ["4 [blocking]"]
