"""SBA506 through flake8: relative env file paths read from a boot working directory that
does not hold them, and the anchored or well-placed paths that stay silent."""
from __future__ import annotations

from typing import Callable, Dict

from flake8_runner import Flake8Run

SETTINGS = ("from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\n"
            "class Settings(BaseSettings):\n"
            "    model_config = SettingsConfigDict(env_file={env_file}, extra=\"ignore\")\n"
            "    debug: bool = False\n")


def backend(modules: Dict[str, str]) -> Dict[str, str]:
    """A project booted from `backend/` (`uvicorn app.main:app` by convention), with a `.env`
    at the repository root and one in `backend/app/`."""
    imports = "".join(f"import app.{name}  # noqa: F401\n" for name in modules)
    files = {"backend/app/__init__.py": "", ".env": "DEBUG=true\n",
             "backend/app/local.env": "DEBUG=true\n", "backend/present.env": "DEBUG=true\n",
             "backend/app/main.py": f"from fastapi import FastAPI\n\n{imports}\n"
                                    "app = FastAPI()\n"}
    files.update({f"backend/app/{name}.py": code for name, code in modules.items()})
    return files


def test_relative_paths_the_working_dir_misses(lint: Callable[..., Flake8Run]) -> None:
    run = lint(backend({
        "root_env": SETTINGS.format(env_file='".env"'),
        "several": SETTINGS.format(env_file='(".env", "present.env")'),
        "loader": "from dotenv import load_dotenv\n\nload_dotenv(\"local.env\")\n",
    }))
    assert sorted((r.path, r.line) for r in run.results) == [
        ("./backend/app/loader.py", 3), ("./backend/app/root_env.py", 5),
        ("./backend/app/several.py", 5)]
    assert all(r.code == "SBA506" and r.text.endswith("[warning]") for r in run.results)
    loader = next(r for r in run.results if "loader" in r.path)
    assert "opened from the working directory backend/" in loader.text
    assert "the file is at backend/app/local.env" in loader.text


def test_paths_that_resolve(lint: Callable[..., Flake8Run]) -> None:
    run = lint(backend({
        "present": SETTINGS.format(env_file='"present.env"'),
        "anchored": "from pathlib import Path\n\n" + SETTINGS.format(
            env_file='Path(__file__).resolve().parents[2] / ".env"'),
        "joined": "import os\n\n" + SETTINGS.format(
            env_file='os.path.join(os.path.dirname(__file__), "local.env")'),
        "nowhere": SETTINGS.format(env_file='"missing.env"'),
        "searched": SETTINGS.format(env_file='".env", env_file_depth=2'),
        "default": "from dotenv import load_dotenv\n\nload_dotenv()\n",
    }))
    assert run.results == []
