"""The value resolver follows strings through code, and says 'unknown' instead of guessing."""
from __future__ import annotations

from typing import Optional

import pytest

from analysis_helpers import last_call, module_from
from flake8_stability.analysis.values import StrValue


def url_of(source: str) -> Optional[StrValue]:
    module = module_from(source)
    return module.values.string(last_call(module, "create_async_engine").args[0])


@pytest.mark.parametrize("source,text,complete", [
    ('create_async_engine("sqlite:///a.db")', "sqlite:///a.db", True),
    ('URL = "sqlite:///a.db"\ncreate_async_engine(URL)', "sqlite:///a.db", True),
    ('HOST = "db"\ncreate_async_engine(f"postgresql+asyncpg://u:p@{HOST}/app")',
     "postgresql+asyncpg://u:p@db/app", True),
    ('create_async_engine(f"postgresql://{user}:{pw}@db/app")', "postgresql://", False),
    ('create_async_engine("postgresql://" + host + "/app")', "postgresql://", False),
    ('create_async_engine("postgresql://%s/app" % host)', "postgresql://", False),
    ('create_async_engine("postgresql://{}/app".format(host))', "postgresql://", False),
    ('import os\ncreate_async_engine(os.getenv("DB", "sqlite:///x.db"))', "sqlite:///x.db", True),
    ('import os\ncreate_async_engine(os.environ.get("DB", "sqlite:///x.db"))',
     "sqlite:///x.db", True),
    ('import os\ncreate_async_engine(os.getenv("DB", default="sqlite:///x.db"))',
     "sqlite:///x.db", True),
    ('import os\ncreate_async_engine(os.environ.get(key="DB", default="sqlite:///x.db"))',
     "sqlite:///x.db", True),
    ('from sqlalchemy import make_url\ncreate_async_engine(make_url("sqlite://"))',
     "sqlite://", True),
    ('u = "postgres://h/db".replace("postgres://", "postgresql+asyncpg://", 1)\n'
     'create_async_engine(u)', "postgresql+asyncpg://h/db", True),
])
def test_strings_are_followed(source: str, text: str, complete: bool) -> None:
    value = url_of(source)
    assert value is not None and (value.text, value.complete) == (text, complete)


@pytest.mark.parametrize("source", [
    'import os\ncreate_async_engine(os.environ["DATABASE_URL"])',
    'import os\ncreate_async_engine(os.getenv("DATABASE_URL"))',
    'create_async_engine(url)',
    'if debug:\n    URL = "sqlite:///a.db"\nelse:\n    URL = "postgresql+asyncpg://h/db"\n'
    'create_async_engine(URL)',
    'def make(url="sqlite:///a.db"):\n    return create_async_engine(url)',
    'URL = "sqlite://"\nURL += "/a.db"\ncreate_async_engine(URL)',
    'create_async_engine(env("DATABASE_URL").replace("postgres://", "postgresql+asyncpg://"))',
])
def test_unknown_stays_unknown(source: str) -> None:
    assert url_of(source) is None


SETTINGS = '''
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from functools import lru_cache

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")
    database_url: str = "sqlite:///./dev.db"
    other_url: str = Field(default="sqlite:///./other.db")
    required_url: str = Field(..., description="no default")
    checked_url: str = "postgres://h/db"
    db_host: str = "db"

    @field_validator("checked_url")
    @classmethod
    def normalise(cls, value):
        return value.replace("postgres://", "postgresql+asyncpg://")

    @property
    def async_url(self) -> str:
        return f"postgresql+asyncpg://app@{self.db_host}/app"

settings = Settings()

@lru_cache
def get_settings():
    return Settings()
'''


@pytest.mark.parametrize("expression,text", [
    ("settings.database_url", "sqlite:///./dev.db"),
    ("Settings().database_url", "sqlite:///./dev.db"),
    ("get_settings().database_url", "sqlite:///./dev.db"),
    ("settings.other_url", "sqlite:///./other.db"),
    ("settings.async_url", "postgresql+asyncpg://app@db/app"),
])
def test_settings_defaults(expression: str, text: str) -> None:
    value = url_of(SETTINGS + f"\ncreate_async_engine({expression})\n")
    assert value is not None and value.text == text


def test_settings_default_names_the_environment_variable() -> None:
    value = url_of(SETTINGS + "\ncreate_async_engine(settings.database_url)\n")
    assert value is not None and "APP_DATABASE_URL is not set" in value.origin


@pytest.mark.parametrize("expression", ["settings.required_url", "settings.checked_url",
                                        "settings.missing"])
def test_settings_without_a_usable_default(expression: str) -> None:
    assert url_of(SETTINGS + f"\ncreate_async_engine({expression})\n") is None


def test_model_validator_makes_every_field_unknown() -> None:
    source = '''
        from pydantic import model_validator
        from pydantic_settings import BaseSettings

        class Settings(BaseSettings):
            database_url: str = "sqlite:///a.db"

            @model_validator(mode="after")
            def assemble(self):
                return self

        create_async_engine(Settings().database_url)
    '''
    assert url_of(source) is None


@pytest.mark.parametrize("dotted,expected", [
    ("sqlalchemy.sql.schema.Table", "sqlalchemy.Table"),
    ("sqlalchemy.sql.schema.MetaData", "sqlalchemy.MetaData"),
    ("sqlmodel.Table", "sqlalchemy.Table"),
    ("sqlalchemy.ext.asyncio.engine.create_async_engine",
     "sqlalchemy.ext.asyncio.create_async_engine"),
    ("sqlalchemy.engine.url.make_url", "sqlalchemy.make_url"),
    ("sqlmodel.orm.session.Session", "sqlmodel.Session"),
    ("os.environ.get", "os.getenv"),
])
def test_canonical_names(dotted: str, expected: str) -> None:
    from flake8_stability.knowledge.names import canonical

    assert canonical(dotted) == expected
