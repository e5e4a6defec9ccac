"""The environment sources of a project: `.env` files read with python-dotenv's parser, what
loads them, compose, Dockerfile and CI variables, and assignments in code."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict

from flake8_stability.context import ProjectContext
from flake8_stability.project.env_sources import (CI, CODE, COMPOSE, DOCKERFILE, EnvSources,
                                                  read_env_file, setting_file)


def project(root: Path, files: Dict[str, str]) -> EnvSources:
    (root / "pyproject.toml").write_text("[project]\nname = 'fixture'\n")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return ProjectContext(root).env_sources


def test_dotenv_syntax_is_python_dotenv_s(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('# comment\nexport A=1\nB="two words"\nbroken line\nC\nA=2\n')
    parsed = read_env_file(path)
    assert parsed is not None
    assert [(e.key, e.line) for e in parsed.entries] == [("A", 2), ("B", 3), ("C", 5), ("A", 6)]
    assert parsed.get("a").value == "2" and parsed.get("a", case_sensitive=True) is None
    assert parsed.get("C").value is None
    assert setting_file((path,), "b") == path and setting_file((path,), "D") is None


def test_compose_dockerfile_ci_and_code_are_process_sources(tmp_path: Path) -> None:
    sources = project(tmp_path, {
        "docker-compose.yml": """
            services:
              api:
                build: .
                environment:
                  DATABASE_URL: postgresql://app:secret@db/app
              worker:
                image: python
                environment:
                  - REDIS_URL=redis://redis
                  - PASSED_THROUGH
        """,
        "Dockerfile": "FROM python:3.12\nENV APP_ENV=production LOG_LEVEL=info\n",
        ".github/workflows/ci.yml": """
            on: push
            env:
              TOP: 1
            jobs:
              test:
                runs-on: ubuntu-latest
                steps:
                  - run: pytest
                    env:
                      STEP_SECRET: ${{ secrets.X }}
        """,
        "app/__init__.py": "",
        "app/boot.py": ("import os\nos.environ['FROM_CODE'] = '1'\n"
                        "os.environ.setdefault('SD', 'x')\n"),
    })
    found = {entry.key: (entry.kind, entry.line) for entry in sources.process}
    assert found["DATABASE_URL"] == (COMPOSE, 6)  # the text starts with a blank line
    assert found["REDIS_URL"][0] == COMPOSE and found["PASSED_THROUGH"][0] == COMPOSE
    assert found["APP_ENV"] == (DOCKERFILE, 2) and found["LOG_LEVEL"] == (DOCKERFILE, 2)
    assert found["TOP"][0] == CI and found["STEP_SECRET"][0] == CI
    assert found["FROM_CODE"] == (CODE, 2) and found["SD"] == (CODE, 3)
    assert sources.in_environ("database_url") is not None
    assert sources.in_environ("database_url", case_sensitive=True) is None


def test_load_dotenv_without_a_path_finds_the_nearest_file_upwards(tmp_path: Path) -> None:
    sources = project(tmp_path, {
        ".env": "SECRET_KEY=dev\n",
        "backend/app/__init__.py": "",
        "backend/app/main.py": "from dotenv import load_dotenv\n\nload_dotenv()\n",
    })
    assert [loader.path for loader in sources.loaders] == [tmp_path / ".env"]
    assert "load_dotenv() in backend/app/main.py:3" in sources.loaders[0].how
    assert sources.in_environ("SECRET_KEY").path == tmp_path / ".env"
    assert sources.unloaded("SECRET_KEY") is None


def test_load_dotenv_paths_relative_and_anchored(tmp_path: Path) -> None:
    sources = project(tmp_path, {
        "app/__init__.py": "",
        "app/a.py": "import dotenv\ndotenv.load_dotenv('config/dev.env')\n",
        "app/b.py": ("from pathlib import Path\nfrom dotenv import load_dotenv\n"
                     "HERE = Path(__file__).resolve().parent\nload_dotenv(HERE / 'local.env')\n"),
        "app/c.py": "from dotenv import load_dotenv\nload_dotenv(stream=None)\n",
    })
    assert sorted(loader.path for loader in sources.loaders) == sorted(
        [tmp_path / "config/dev.env", (tmp_path / "app/local.env").resolve()])


def test_compose_env_file_and_uvicorn_env_file_load(tmp_path: Path) -> None:
    sources = project(tmp_path, {
        "docker-compose.yml": """
            services:
              api:
                build: .
                command: uvicorn app.main:app --env-file deploy.env
                env_file:
                  - .env.docker
        """,
        ".env.docker": "API_KEY=x\n",
        "deploy.env": "OTHER=y\n",
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    })
    assert sources.in_environ("API_KEY") is not None
    assert sources.loaded(tmp_path / ".env.docker") is not None


def test_unloaded_files_and_templates(tmp_path: Path) -> None:
    sources = project(tmp_path, {
        ".env": "REAL=1\n",
        ".env.example": "REAL=\nONLY_DOCUMENTED=\n",
    })
    assert sources.in_environ("REAL") is None
    assert sources.unloaded("REAL").path == tmp_path / ".env"  # the real file first
    assert sources.unloaded("ONLY_DOCUMENTED").path == tmp_path / ".env.example"
    assert sources.template_for(tmp_path / ".env").path == tmp_path / ".env.example"
