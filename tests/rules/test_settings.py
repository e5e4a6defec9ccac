"""SBA502-SBA505 through flake8 on small projects: how fields are named (prefix, aliases, case,
nested delimiters), which env files a class reads, when the settings object is created, and
the healthy patterns that must stay silent."""
from __future__ import annotations

import textwrap
from typing import Callable, Dict, List, Optional, Tuple

from flake8_runner import Flake8Run

HEAD = ("from typing import Dict, List, Optional\n\n"
        "from pydantic import AliasChoices, BaseModel, Field\n"
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\n")


def app(modules: Dict[str, str], *, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """A project whose `app/main.py` imports every module of `modules` (`app/<name>.py`)."""
    imports = "".join(f"import app.{name}  # noqa: F401\n" for name in modules)
    files = {"app/__init__.py": "",
             "app/main.py": f"from fastapi import FastAPI\n\n{imports}\napp = FastAPI()\n"}
    files.update({f"app/{name}.py": HEAD + textwrap.dedent(code)
                  for name, code in modules.items()})
    files.update(extra or {})
    return files


def found(run: Flake8Run) -> List[Tuple[str, int, str]]:
    """(module, line in the code given, code); the code given starts with a blank line."""
    return sorted((r.path[len("./app/"):], r.line - 7, r.code) for r in run.results)


def test_required_fields_without_a_source(lint: Callable[..., Flake8Run]) -> None:
    run = lint(app({
        "prefixed": '''
            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env", env_prefix="APP_",
                                                  extra="ignore")
                secret_key: str
                api_token: str = Field(validation_alias=AliasChoices("API_TOKEN", "TOKEN"))
                debug: bool


            settings = Settings()
        ''',
        "sensitive": '''
            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env", case_sensitive=True,
                                                  extra="ignore")
                DATABASE_URL: str


            settings = Settings()
        ''',
        "inherited": '''
            class Base(BaseSettings):
                redis_url: str


            class Settings(Base):
                class Config:
                    env_file = ".env"
                    extra = "ignore"


            settings = Settings()
        ''',
    }, extra={".env": "SECRET_KEY=1\nTOKEN=2\nAPP_DEBUG=true\ndatabase_url=x\n"}))
    assert found(run) == [("inherited.py", 2, "SBA502"), ("prefixed.py", 4, "SBA502"),
                          ("sensitive.py", 4, "SBA502")]
    assert all(r.text.endswith("[blocking]") for r in run.results)
    prefixed = next(r for r in run.results if "prefixed" in r.path)
    assert "nothing sets APP_SECRET_KEY" in prefixed.text


def test_sources_that_provide_every_field(lint: Callable[..., Flake8Run]) -> None:
    run = lint(app({
        "anchored": '''
            from pathlib import Path


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(
                    env_file=Path(__file__).resolve().parent.parent / "config" / "app.env")
                database_url: str


            settings = Settings()
        ''',
        "nested": '''
            class Database(BaseModel):
                host: str
                port: int = 5432


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_nested_delimiter="__", env_prefix="SVC_")
                database: Database


            settings = Settings()
        ''',
        "dotenv_loaded": '''
            from dotenv import load_dotenv

            load_dotenv()


            class Settings(BaseSettings):
                openai_api_key: str


            settings = Settings()
        ''',
        "lazy": '''
            from functools import lru_cache


            class Settings(BaseSettings):
                never_set: str


            @lru_cache
            def get_settings() -> Settings:
                return Settings()
        ''',
        "custom": '''
            class Settings(BaseSettings):
                from_vault: str

                @classmethod
                def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                               dotenv_settings, file_secret_settings):
                    return (init_settings,)


            settings = Settings()
        ''',
        "validated": '''
            from pydantic import model_validator


            class Settings(BaseSettings):
                region: str

                @model_validator(mode="before")
                @classmethod
                def fill(cls, data):
                    return {"region": "eu", **data}


            settings = Settings()
        ''',
        "unknown_file": '''
            import os


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=os.environ.get("ENV_FILE", ".env"))
                whatever: str


            settings = Settings()
        ''',
    }, extra={"config/app.env": "DATABASE_URL=sqlite://\n", ".env": "OPENAI_API_KEY=sk\n",
              "docker-compose.yml": "services:\n  api:\n    environment:\n"
                                    "      SVC_DATABASE__HOST: db\n"}))
    assert found(run) == []


def test_startup_and_unknown_boot(lint: Callable[..., Flake8Run]) -> None:
    files = {
        "app/__init__.py": "",
        "app/config.py": HEAD + textwrap.dedent('''
            class Settings(BaseSettings):
                secret_key: str


            def get_settings() -> Settings:
                return Settings()
        '''),
        "app/main.py": textwrap.dedent('''
            from contextlib import asynccontextmanager

            from fastapi import FastAPI

            from app.config import get_settings


            @asynccontextmanager
            async def lifespan(app):
                get_settings()
                yield


            app = FastAPI(lifespan=lifespan)
        '''),
        "tools/report.py": HEAD + "class Settings(BaseSettings):\n    token: str\n\n\n"
                                  "settings = Settings()\n",
    }
    run = lint(files)
    assert [(r.path, r.line, r.text.rsplit(" ", 1)[1]) for r in run.results] == [
        ("./app/config.py", 9, "[blocking]"), ("./tools/report.py", 8, "[warning]")]
    assert "during app startup" in run.results[0].text


def test_forbidden_dotenv_keys(lint: Callable[..., Flake8Run]) -> None:
    run = lint(app({
        "forbid": '''
            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env", env_prefix="APP_")
                debug: bool = False


            settings = Settings()
        ''',
        "field_names": '''
            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file="field.env", env_prefix="APP_")
                debug: bool = False


            settings = Settings()
        ''',
        "ignored": '''
            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env", extra="ignore")
                debug: bool = False


            settings = Settings()
        ''',
        "filtered": '''
            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env", dotenv_filtering="match_prefix",
                                                  env_prefix="APP_")
                debug: bool = False


            settings = Settings()
        ''',
        "nested_keys": '''
            class Db(BaseModel):
                host: str = "localhost"


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file="nested.env", env_nested_delimiter="__")
                db: Db = Db()


            settings = Settings()
        ''',
    }, extra={".env": "APP_DEBUG=1\nPOSTGRES_PASSWORD=secret\nEMPTY=\n",
              "field.env": "debug=1\n", "nested.env": "DB__HOST=db\n"}))
    assert found(run) == [("forbid.py", 2, "SBA503")]
    assert "sets POSTGRES_PASSWORD" in run.results[0].text and "secret" not in \
        run.results[0].text.replace("POSTGRES_PASSWORD", "")


def test_complex_values_that_are_not_json(lint: Callable[..., Flake8Run]) -> None:
    run = lint(app({
        "lists": '''
            class Origin(BaseModel):
                url: str


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env", extra="ignore")
                CORS_ORIGINS: List[str] = []
                ORIGIN: Origin = Origin(url="x")
                JSON_LIST: list = []
                OPTIONAL_LIST: Optional[List[str]] = None
                PLAIN: str = ""
                EMPTY_LIST: List[str] = []


            settings = Settings()
        ''',
        "off": '''
            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env", extra="ignore",
                                                  enable_decoding=False)
                CORS_ORIGINS: List[str] = []


            settings = Settings()
        ''',
    }, extra={".env": "CORS_ORIGINS=a,b\nORIGIN=x\nJSON_LIST=[1, 2]\nOPTIONAL_LIST=a,b\n"
                      "PLAIN=a,b\nEMPTY_LIST=\n"}))
    assert found(run) == [("lists.py", 7, "SBA504"), ("lists.py", 8, "SBA504")]


def test_v1_bindings_and_the_split_with_sba211(lint: Callable[..., Flake8Run]) -> None:
    run = lint(app({
        "bindings": '''
            class Settings(BaseSettings):
                api_url: str = Field(..., env="BACKEND_API_URL")
                same_name: str = Field(..., env="SAME_NAME")
                with_default: str = Field("http://localhost", env="OTHER_URL")


            def get_settings() -> Settings:
                return Settings()
        ''',
    }))
    assert found(run) == [("bindings.py", 2, "SBA505"), ("bindings.py", 3, "SBA211"),
                          ("bindings.py", 4, "SBA211")]
    assert "reads API_URL" in next(r.text for r in run.results if r.code == "SBA505")
