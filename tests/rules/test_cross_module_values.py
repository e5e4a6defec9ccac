"""Values followed into the project's other modules: a settings object, a settings factory or a
constant imported from `app/core/config.py` gives the URL an engine in `app/db.py` uses; a `.env`
file that sets the variable makes a default in the code unknown."""
from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from flake8_runner import Flake8Run

CONFIG = ("import os\nfrom functools import lru_cache\n\n"
          "from pydantic_settings import BaseSettings\n\n"
          "class Settings(BaseSettings):\n    DATABASE_URL: str = 'sqlite:///./app.db'\n\n"
          "settings = Settings()\n\n"
          "@lru_cache\ndef get_settings() -> Settings:\n    return Settings()\n\n"
          "ECHO_URL = os.getenv('ECHO_URL', 'sqlite:///./echo.db')\n")
DB = ("from sqlalchemy.ext.asyncio import create_async_engine\n\n"
      "from app.core import config\n"
      "from app.core.config import ECHO_URL, get_settings, settings\n\n"
      "engine = create_async_engine(settings.DATABASE_URL)\n"
      "factory_engine = create_async_engine(get_settings().DATABASE_URL)\n"
      "echo_engine = create_async_engine(ECHO_URL)\n"
      "module_engine = create_async_engine(config.settings.DATABASE_URL)\n")
MAIN = "from fastapi import FastAPI\n\nfrom app.db import engine  # noqa: F401\n\napp = FastAPI()\n"


def project(**extra: str) -> Dict[str, str]:
    files = {"app/__init__.py": "", "app/core/__init__.py": "", "app/core/config.py": CONFIG,
             "app/db.py": DB, "app/main.py": MAIN}
    files.update(extra)
    return files


def found(run: Flake8Run) -> List[Tuple[str, int, str]]:
    return sorted((r.path, r.line, r.text.rsplit("[", 1)[-1].rstrip("]")) for r in run.results)


def test_settings_factory_and_constant_from_another_module(lint: Callable[..., Flake8Run]) -> None:
    assert found(lint(project(), "--select", "SBA302")) == [
        ("./app/db.py", 6, "blocking"), ("./app/db.py", 7, "blocking"),
        ("./app/db.py", 8, "blocking"), ("./app/db.py", 9, "blocking")]


def test_a_dotenv_that_sets_the_variable_makes_the_default_unknown(
        lint: Callable[..., Flake8Run]) -> None:
    env = {".env": "# local\nexport DATABASE_URL=postgresql+asyncpg://u:p@db/app\n"
                   "echo_url = 'sqlite+aiosqlite://'\n"}
    assert found(lint(project(**env), "--select", "SBA302")) == []


def test_validators_and_unknown_values_stay_unknown_across_modules(
        lint: Callable[..., Flake8Run]) -> None:
    config = CONFIG.replace(
        "    DATABASE_URL: str = 'sqlite:///./app.db'\n",
        "    DATABASE_URL: str = 'sqlite:///./app.db'\n\n"
        "    @field_validator('DATABASE_URL')\n    @classmethod\n"
        "    def asyncify(cls, v: str) -> str:\n"
        "        return v.replace('sqlite://', 'sqlite+aiosqlite://')\n").replace(
        "from pydantic_settings", "from pydantic import field_validator\nfrom pydantic_settings")
    config = config.replace("os.getenv('ECHO_URL', 'sqlite:///./echo.db')",
                            "os.environ['ECHO_URL']")
    assert found(lint(project(**{"app/core/config.py": config}), "--select", "SBA302")) == []


def test_an_env_example_template_does_not_hide_the_default(lint: Callable[..., Flake8Run]) -> None:
    env = {".env.example": "DATABASE_URL=postgresql+asyncpg://u:p@db/app\n"}
    assert ("./app/db.py", 6, "blocking") in found(lint(project(**env), "--select", "SBA302"))


def test_relative_imports_in_a_package_init_resolve_inside_the_package(
        lint: Callable[..., Flake8Run]) -> None:
    files = project(**{"app/core/__init__.py": "from .config import settings\n",
                       "app/db.py": "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
                                    "from app.core import settings\n\n"
                                    "engine = create_async_engine(settings.DATABASE_URL)\n"})
    assert found(lint(files, "--select", "SBA302")) == [("./app/db.py", 5, "blocking")]
