"""The project layout: the ASGI target, the working dir and the boot roots, read from the
configuration, Dockerfiles, compose files, Procfiles, `[tool.fastapi]` and conventions, on
realistic project trees written to temporary folders."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path, PurePosixPath
from typing import Dict, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flake8_stability.config import Config, load_config
from flake8_stability.project.layout import (
    Layout, Target, _instructions, _Place, _Run, _shell_boot, _Where, _Yaml, discover_layout,
)

APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def write(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def layout(root: Path, files: Optional[Dict[str, str]] = None) -> Layout:
    write(root, {"pyproject.toml": "[project]\nname = 'fixture'\n", **(files or {})})
    return discover_layout(root, load_config(root))


def target(found: Layout) -> str:
    assert found.target is not None, found.notes
    return f"{found.target.module}:{found.target.attribute}"


# --- Conventions --------------------------------------------------------------------------


def test_flat_main(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        "main.py": "from fastapi import FastAPI\nfrom routers import items\n\napp = FastAPI()\n"
                   "app.include_router(items.router)\n",
        "routers/__init__.py": "", "routers/items.py": "router = None\n",
    })
    assert target(found) == "main:app"
    assert found.working_dir == tmp_path and found.import_roots == (tmp_path,)
    assert found.target.path == tmp_path / "main.py" and found.target.line == 4
    assert found.target.origin.startswith("convention: main.py defines app = FastAPI(); "
                                          "assumed run as `uvicorn main:app` from the project root")
    assert not found.target.factory


FULL_STACK_MAIN = '''\
from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.api.main import api_router
from app.core.config import settings

app = FastAPI(title=settings.PROJECT_NAME)
app.include_router(api_router, prefix=settings.API_V1_STR)
'''
FULL_STACK = {
    ".gitignore": "",
    "backend/pyproject.toml": "[project]\nname = 'app'\n",
    "backend/app/__init__.py": "",
    "backend/app/main.py": FULL_STACK_MAIN,
    "backend/app/api/__init__.py": "",
    "backend/app/api/main.py": "api_router = None\n",
    "backend/app/core/__init__.py": "",
    "backend/app/core/config.py": "settings = None\n",
    "backend/alembic.ini": "",
}


def test_backend_app_package_by_convention(tmp_path: Path) -> None:
    """The FastAPI full-stack template: `from app.core.config import ...` resolves from
    `backend/`, so uvicorn runs `app.main:app` there."""
    found = layout(tmp_path, FULL_STACK)
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path / "backend"
    assert found.import_roots == (tmp_path / "backend",)
    assert found.source_roots == (tmp_path / "backend", tmp_path)
    assert "from backend/ (its imports of app resolve from there)" in found.target.origin
    assert found.module_name(tmp_path / "backend/app/core/config.py") == "app.core.config"
    assert found.importable_at_boot(tmp_path / "backend/app/api/main.py")


def test_backend_app_package_from_its_dockerfile(tmp_path: Path) -> None:
    """The template's own Dockerfile: `fastapi run app/main.py` from `/app/`, where
    `COPY ./app /app/app` puts `backend/app`; `PYTHONPATH=/app` is the same folder."""
    found = layout(tmp_path, {**FULL_STACK, "backend/Dockerfile": '''\
        FROM python:3.10
        ENV PYTHONUNBUFFERED=1
        WORKDIR /app/
        # Install uv
        COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /uvx /bin/
        ENV PATH="/app/.venv/bin:$PATH"
        COPY ./pyproject.toml ./uv.lock ./alembic.ini /app/
        COPY ./scripts /app/scripts
        COPY ./app /app/app
        ENV PYTHONPATH=/app
        CMD ["fastapi", "run", "--workers", "4", "app/main.py"]
    '''})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path / "backend"
    assert found.import_roots == (tmp_path / "backend",)
    assert found.target.origin == ('backend/Dockerfile line 11: CMD ["fastapi", "run", '
                                   '"--workers", "4", "app/main.py"]')
    assert (found.target.path, found.target.line) == (tmp_path / "backend/Dockerfile", 11)


def test_src_main_importing_src_runs_from_the_root(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        "src/main.py": "from fastapi import FastAPI\nfrom src.db import engine\n\n"
                       "app = FastAPI()\n",
        "src/db.py": "engine = None\n",
    })
    assert target(found) == "src.main:app"
    assert found.working_dir == tmp_path and found.import_roots == (tmp_path,)
    assert found.source_roots == (tmp_path,)
    assert found.module_name(tmp_path / "src/db.py") == "src.db"


def test_main_importing_siblings_runs_from_its_folder(tmp_path: Path) -> None:
    """`cd src && uvicorn main:app`: `from db import engine` resolves only from `src/`."""
    found = layout(tmp_path, {
        "src/main.py": "from fastapi import FastAPI\nfrom db import engine\n\napp = FastAPI()\n",
        "src/db.py": "engine = None\n",
    })
    assert target(found) == "main:app"
    assert found.import_roots == (tmp_path / "src",)
    assert found.working_dir == tmp_path  # a src/ folder is given as --app-dir, not cd'ed into
    assert "`uvicorn main:app --app-dir src` from the project root" in found.target.origin


def test_src_layout(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        "src/shop/__init__.py": "",
        "src/shop/main.py": "from fastapi import FastAPI\n\nfrom shop.db import engine\n\n"
                            "app = FastAPI()\n",
        "src/shop/db.py": "engine = None\n",
        "tests/test_main.py": "",
    })
    assert target(found) == "shop.main:app"
    assert found.working_dir == tmp_path
    assert found.import_roots == (tmp_path / "src",)
    assert found.source_roots == (tmp_path / "src", tmp_path)
    assert found.module_name(tmp_path / "src/shop/db.py") == "shop.db"
    assert found.module_name(tmp_path / "tests/test_main.py") == "tests.test_main"
    assert not found.importable_at_boot(tmp_path / "tests/test_main.py")


def test_src_layout_without_a_target_is_still_a_source_root(tmp_path: Path) -> None:
    found = layout(tmp_path, {"src/shop/__init__.py": "", "src/shop/models.py": ""})
    assert found.target is None
    assert found.source_roots == (tmp_path, tmp_path / "src")
    assert found.module_name(tmp_path / "src/shop/models.py") == "shop.models"


def test_relative_imports_need_the_package(tmp_path: Path) -> None:
    """`from .routers import items` only works when `app/main.py` is `app.main`."""
    found = layout(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\nfrom .routers import items\n\n"
                       "app = FastAPI()\n",
        "app/routers/__init__.py": "", "app/routers/items.py": "",
    })
    assert target(found) == "app.main:app"
    assert found.import_roots == (tmp_path,)


def test_no_project_import_follows_the_packages(tmp_path: Path) -> None:
    found = layout(tmp_path, {"app/__init__.py": "", "app/main.py": APP})
    assert target(found) == "app.main:app"
    assert "as `fastapi dev` reads the __init__.py files" in found.target.origin
    namespace = layout(tmp_path / "ns", {"app/main.py": APP})
    assert target(namespace) == "main:app" and namespace.import_roots == (tmp_path / "ns/app",)


def test_aliases_and_starlette(tmp_path: Path) -> None:
    found = layout(tmp_path, {"app.py": "import fastapi as fa\n\napi = fa.FastAPI()\n"})
    assert target(found) == "app:api"
    assert "defines api = fa.FastAPI()" in found.target.origin
    other = layout(tmp_path / "s", {"server.py": (
        "from starlette.applications import Starlette as S\n\napplication = S()\n")})
    assert target(other) == "server:application"


def test_app_under_main_guard_is_not_an_app(tmp_path: Path) -> None:
    found = layout(tmp_path, {"main.py": (
        "from fastapi import FastAPI\n\nif __name__ == '__main__':\n    app = FastAPI()\n")})
    assert found.target is None


def test_factory_by_convention(tmp_path: Path) -> None:
    found = layout(tmp_path, {"main.py": '''\
        from fastapi import FastAPI

        def create_app() -> FastAPI:
            application = FastAPI()
            return application
    '''})
    assert target(found) == "main:create_app" and found.target.factory
    assert "`uvicorn main:create_app --factory`" in found.target.origin
    built = layout(tmp_path / "built", {"main.py": '''\
        from fastapi import FastAPI

        def create_app():
            return FastAPI()

        app = create_app()
    '''})
    assert target(built) == "main:app" and not built.target.factory


def test_two_src_packages_with_apps_are_ambiguous(tmp_path: Path) -> None:
    found = layout(tmp_path, {"src/users/main.py": APP, "src/orders/main.py": APP})
    assert found.target is None
    assert found.notes == ("target unknown: several files define an app (src/orders/main.py, "
                           "src/users/main.py)",)


def test_nothing_found(tmp_path: Path) -> None:
    found = layout(tmp_path, {"scripts/seed.py": "print('seed')\n", "README.md": "# hi\n"})
    assert found.target is None
    assert (found.working_dir, found.import_roots, found.source_roots) == (
        tmp_path, (tmp_path,), (tmp_path,))
    assert found.env_files == () and found.notes == ()


# --- Dockerfiles --------------------------------------------------------------------------

SERVICE = {
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\nfrom app.db import engine\n\napp = FastAPI()\n",
    "app/db.py": "engine = None\n",
}


def test_dockerfile_exec_form_with_workdir_and_copy(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "Dockerfile": '''\
        FROM python:3.12-slim
        WORKDIR /code
        COPY ./requirements.txt /code/requirements.txt
        RUN pip install --no-cache-dir -r /code/requirements.txt
        COPY ./app /code/app
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "80"]
    '''})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path and found.import_roots == (tmp_path,)
    assert found.target.line == 6


def test_dockerfile_shell_form_copying_a_folder_content(tmp_path: Path) -> None:
    """`COPY src/ /srv/` puts the content of `src/` in `/srv`: `main` is `src/main.py`."""
    found = layout(tmp_path, {
        "src/main.py": APP,
        "Dockerfile": '''\
            FROM python:3.12
            ARG HOME_DIR=/srv
            WORKDIR ${HOME_DIR}
            COPY src/ .
            ENV PORT=8000 \\
                PYTHONPATH=/srv/vendor:$PYTHONPATH
            CMD alembic upgrade head && exec uvicorn main:app --host 0.0.0.0 --port $PORT \\
                --env-file .env.production
        ''',
        "src/vendor/__init__.py": "",
    })
    assert target(found) == "main:app"
    assert found.working_dir == tmp_path / "src"
    assert found.import_roots == (tmp_path / "src", tmp_path / "src/vendor")
    assert found.env_files == (tmp_path / "src/.env.production",)
    assert found.target.line == 7


def test_dockerfile_entrypoint_and_cmd(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "Dockerfile": '''\
        FROM python:3.12
        COPY . /app
        WORKDIR /app
        ENTRYPOINT ["uvicorn"]
        CMD ["app.main:app", "--proxy-headers"]
    '''})
    assert target(found) == "app.main:app"
    assert found.target.origin == ('Dockerfile line 4: ENTRYPOINT ["uvicorn"], line 5: CMD '
                                   '["app.main:app", "--proxy-headers"]')
    assert found.target.line == 5


def test_dockerfile_workdir_that_maps_to_nothing(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "deploy/Dockerfile": '''\
        FROM python:3.12
        WORKDIR /opt/service
        RUN pip install my-backend
        CMD ["uvicorn", "app.main:app"]
    '''})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path / "deploy"
    assert found.target.origin == (
        'deploy/Dockerfile line 4: CMD ["uvicorn", "app.main:app"]; the working dir '
        '/opt/service maps to no folder of the repository: assumed deploy/')


def test_dockerfile_multi_stage_copy_from_builder(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "docker/Dockerfile": '''\
        FROM python:3.12 AS builder
        WORKDIR /build
        COPY app ./app
        COPY pyproject.toml .

        FROM python:3.12-slim
        WORKDIR /srv
        COPY --from=builder /build /srv
        CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "app.main:app"]
    '''})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path
    assert "build context assumed to be the project root" in found.target.origin


def test_dockerfile_start_script(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "scripts/start.sh": '''\
        #!/bin/sh
        set -e
        cd /workspace/backend
        export PYTHONPATH=/workspace/backend/lib
        exec "$@"
    ''', "backend/lib/.keep": "", "backend/app/main.py": APP, "Dockerfile": '''\
        FROM python:3.12
        COPY . /workspace
        ENTRYPOINT ["/workspace/scripts/start.sh"]
        CMD ["python", "-m", "uvicorn", "app.main:app"]
    '''})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path / "backend"
    assert found.import_roots == (tmp_path / "backend", tmp_path / "backend/lib")
    assert found.target.path == tmp_path / "Dockerfile" and found.target.line == 4
    assert found.target.origin == (
        'Dockerfile line 3: ENTRYPOINT ["/workspace/scripts/start.sh"], line 4: CMD ["python", '
        '"-m", "uvicorn", "app.main:app"] -> scripts/start.sh line 5: exec "$@"')


def test_script_running_the_server(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        "backend/app/main.py": APP,
        "scripts/run.sh": '''\
            #!/usr/bin/env bash
            cd backend
            export PYTHONPATH=.
            uvicorn app.main:app --env-file ../.env  # started by the Procfile
        ''',
        "Procfile": "web: bash scripts/run.sh\n"})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path / "backend"
    assert found.import_roots == (tmp_path / "backend",)
    assert found.env_files == (tmp_path / ".env",)
    assert (found.target.path, found.target.line) == (tmp_path / "scripts/run.sh", 4)
    assert found.target.origin == ("Procfile line 1: web: bash scripts/run.sh -> scripts/run.sh "
                                   "line 4: uvicorn app.main:app --env-file ../.env # started "
                                   "by the Procfile")


def test_windows_line_endings_and_legacy_env(tmp_path: Path) -> None:
    write(tmp_path, {"src/main.py": APP})
    (tmp_path / "Dockerfile").write_bytes(
        b'FROM python:3.12\r\nWORKDIR /app\r\nCOPY . /app\r\n'
        b'ENV PYTHONPATH "${PYTHONPATH}:/app/src"\r\n'
        b'CMD ["python", "-m", "fastapi", "run", "src/main.py"]\r\n')
    found = layout(tmp_path)
    assert target(found) == "main:app"
    assert found.import_roots == (tmp_path / "src", tmp_path)


def test_monorepo_root_chosen_by_the_caller(tmp_path: Path) -> None:
    dockerfile = ('FROM python:3.12\nWORKDIR /code\nCOPY ./app /code/app\n'
                  'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n')
    for service in ("users", "orders"):
        write(tmp_path, {f"services/{service}/app/__init__.py": "",
                         f"services/{service}/app/main.py": APP,
                         f"services/{service}/Dockerfile": dockerfile,
                         f"services/{service}/pyproject.toml": f"[project]\nname = '{service}'\n"})
    whole = layout(tmp_path)
    assert whole.target is None
    assert whole.import_roots == (tmp_path,)
    assert whole.notes[0].startswith("target unknown: Dockerfiles describe different boots: "
                                     "services/orders/Dockerfile line 4:")
    users = tmp_path / "services/users"
    one = discover_layout(users, load_config(users))
    assert target(one) == "app.main:app"
    assert one.working_dir == users and one.import_roots == (users,)


def test_dockerfiles_that_agree(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE,
                              "Dockerfile": 'FROM python\nCOPY . /app\nWORKDIR /app\n'
                                            'CMD ["uvicorn", "app.main:app"]\n',
                              "Dockerfile.dev": 'FROM python\nCOPY . /app\nWORKDIR /app\n'
                                                'CMD uvicorn app.main:app --reload\n'})
    assert target(found) == "app.main:app" and found.notes == ()


def test_dockerfile_without_a_server_falls_through(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "Dockerfile": (
        "FROM python\nCOPY . /app\nCMD [\"celery\", \"-A\", \"app.worker\", \"worker\"]\n")})
    assert target(found) == "app.main:app"
    assert found.target.origin.startswith("convention: app/main.py")


def test_dockerfile_heredoc_tabs_and_numbered_stages(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "Dockerfile": '''\
        FROM python:3.12 AS base
        WORKDIR /build
        COPY app app
        RUN <<EOF
        CMD ["uvicorn", "wrong:app"]
        EOF
        RUN echo $((1<<2))

        FROM python:3.12-slim
        COPY --from=0 /build /srv
        WORKDIR\t/srv
        CMD\t["uvicorn", "app.main:app"]
    '''})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path and found.target.line == 12


def test_compose_build_target_stage(tmp_path: Path) -> None:
    """The Dockerfile's last stage runs the tests; compose builds its `dev` stage."""
    found = layout(tmp_path, {
        **SERVICE,
        "docker/api.Dockerfile": '''\
            FROM python:3.12 AS dev
            WORKDIR /code
            COPY . .
            CMD ["uvicorn", "app.main:app", "--reload"]

            FROM dev AS test
            CMD ["pytest"]
        ''',
        "compose.yaml": '''\
            services:
              api:
                build: {context: ., dockerfile: docker/api.Dockerfile, target: dev}
              api-dev:
                build:
                  context: .
                  dockerfile: docker/api.Dockerfile
                  target: dev
        '''})
    assert target(found) == "app.main:app" and found.working_dir == tmp_path
    assert found.target.origin == ("compose.yaml line 2: service api -> docker/api.Dockerfile "
                                   'line 4: CMD ["uvicorn", "app.main:app", "--reload"]')


def test_tests_and_examples_are_not_boot_sources(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        **SERVICE,
        "tests/fixtures/broken/Dockerfile": 'FROM python\nCMD ["uvicorn", "broken:app"]\n',
        "examples/shop/docker-compose.yml": "services:\n  api:\n    command: uvicorn x:app\n"})
    assert target(found) == "app.main:app"
    assert found.target.origin.startswith("convention:")


def test_sh_c_and_python_m_uvicorn_with_app_dir(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        "src/main.py": APP, "Dockerfile": '''\
            FROM python:3.12
            WORKDIR /app
            COPY . .
            CMD ["sh", "-c", "python -m uvicorn --app-dir src main:app --port ${PORT:-8000}"]
        '''})
    assert target(found) == "main:app"
    assert found.working_dir == tmp_path
    assert found.import_roots == (tmp_path / "src", tmp_path)


def test_uvicorn_app_dir_alone_keeps_the_working_dir_off_sys_path(tmp_path: Path) -> None:
    """Checked with uvicorn 0.54: `uvicorn --app-dir src` gives sys.path ['src', <bin>]."""
    found = layout(tmp_path, {"src/main.py": APP,
                              "Procfile": "web: uvicorn --app-dir=src main:app --port $PORT\n"})
    assert found.import_roots == (tmp_path / "src",)


def test_gunicorn_chdir_and_pythonpath_order(tmp_path: Path) -> None:
    """Checked with gunicorn 27.0.1: `--pythonpath a,b --chdir src` gives sys.path
    [src/b, src/a, src, <starting dir>]."""
    found = layout(tmp_path, {
        "src/main.py": APP, "src/a/.keep": "", "src/b/.keep": "",
        "Procfile": "web: gunicorn --pythonpath a,b --chdir src -k uvicorn.workers.UvicornWorker "
                    "main:app\n"})
    assert target(found) == "main:app"
    assert found.working_dir == tmp_path / "src"
    assert found.import_roots == tuple(tmp_path / name for name in ("src/b", "src/a", "src", ""))


def test_gunicorn_factory_call_and_config_file(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "gunicorn.conf.py": (
        "wsgi_app = 'app.main:create_app()'\nworker_class = 'uvicorn.workers.UvicornWorker'\n"),
        "Procfile": "web: gunicorn -c gunicorn.conf.py\n"})
    assert target(found) == "app.main:create_app" and found.target.factory


# --- Compose files and Procfiles ------------------------------------------------------------


def test_compose_command_string(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        **{f"backend/{name}": text for name, text in SERVICE.items()},
        "docker-compose.yml": '''\
            version: "3.9"
            services:
              db:
                image: postgres:16   # the database
                environment:
                  POSTGRES_PASSWORD: example
              api:
                build: ./backend
                command: uvicorn app.main:app --host 0.0.0.0 --reload
                working_dir: /app
                env_file:
                  - .env
                  - ./backend/.env.local
                volumes:
                  - ./backend:/app:cached
                  - pgdata:/var/lib/postgresql/data
                ports: ["8000:8000"]
            volumes:
              pgdata:
        '''})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path / "backend"
    assert found.import_roots == (tmp_path / "backend",)
    assert found.env_files == (tmp_path / ".env", tmp_path / "backend/.env.local")
    assert found.target.origin == ("docker-compose.yml line 9: service api command: uvicorn "
                                   "app.main:app --host 0.0.0.0 --reload")


def test_compose_command_list_over_the_image(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        **{f"backend/{name}": text for name, text in SERVICE.items()},
        "backend/Dockerfile.api": "FROM python\nWORKDIR /srv\nCOPY app /srv/app\n",
        "compose.yaml": '''\
            services:
              api:
                build:
                  context: backend
                  dockerfile: Dockerfile.api
                environment:
                  - UVICORN_FACTORY=true
                command:
                  - "uvicorn"
                  - 'app.main:create_app'
        '''})
    assert target(found) == "app.main:create_app" and found.target.factory
    assert found.working_dir == tmp_path / "backend"


def test_compose_block_scalar_command(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "docker-compose.dev.yml": '''\
        services:
          web:
            image: python:3.12
            volumes:
              - type: bind
                source: .
                target: /usr/src/app
            working_dir: /usr/src/app
            command: >
              bash -c "pip install -r requirements.txt
              && uvicorn app.main:app --reload"
    '''})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path


def test_compose_services_that_disagree(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "app/admin.py": APP, "docker-compose.yml": '''\
        services:
          api:
            image: python:3.12
            command: ["uvicorn", "app.main:app"]
          admin:
            image: python:3.12
            command: ["uvicorn", "app.admin:app"]
          worker:
            image: python:3.12
            command: celery -A app.worker worker
    '''})
    assert found.target is None
    assert found.notes == (
        "target unknown: compose files describe different boots: docker-compose.yml line 4: "
        'service api command: ["uvicorn", "app.main:app"]; the working dir / maps to no folder of '
        'the repository: assumed the project root; docker-compose.yml line 7: service admin '
        'command: ["uvicorn", "app.admin:app"]; the working dir / maps to no folder of the '
        "repository: assumed the project root",)


def test_compose_command_is_not_run_by_a_shell(tmp_path: Path) -> None:
    """compose splits a string `command:` into arguments: `&&` is one of alembic's."""
    compose = ("services:\n  api:\n    image: python\n"
               "    command: alembic upgrade head && uvicorn app.main:app\n")
    found = layout(tmp_path, {**SERVICE, "Procfile": "web: uvicorn app.main:app\n",
                              "docker-compose.yml": compose})
    assert target(found) == "app.main:app"
    assert found.target.origin == "Procfile line 1: web: uvicorn app.main:app"


def test_procfile(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "Procfile": (
        "release: alembic upgrade head\n"
        "web: gunicorn -w 4 -k uvicorn.workers.UvicornWorker app.main:app --bind 0.0.0.0:$PORT\n")})
    assert target(found) == "app.main:app"
    assert found.working_dir == tmp_path and found.import_roots == (tmp_path,)
    assert found.target.origin.startswith("Procfile line 2: web: gunicorn -w 4")


def test_fastapi_run_path(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "Procfile": "web: fastapi run app/main.py --port $PORT\n"})
    assert target(found) == "app.main:app"
    assert found.import_roots == (tmp_path,)
    named = layout(tmp_path / "named", {
        "api/main.py": "from fastapi import FastAPI\n\nbackend = FastAPI()\n",
        "Procfile": "web: cd api && fastapi run main.py --app backend\n"})
    assert target(named) == "main:backend"
    assert named.working_dir == named.import_roots[0] == tmp_path / "named/api"


def test_fastapi_run_without_a_path(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "Procfile": "web: fastapi run\n"})
    assert target(found) == "app.main:app"
    configured = layout(tmp_path / "c", {
        **SERVICE, "Procfile": "web: fastapi run\n",
        "pyproject.toml": "[project]\nname = 'x'\n[tool.fastapi]\nentrypoint = 'app.main:app'\n"})
    assert target(configured) == "app.main:app" and configured.import_roots == (tmp_path / "c",)


def test_tool_fastapi_entrypoint(tmp_path: Path) -> None:
    found = layout(tmp_path, {**SERVICE, "pyproject.toml": (
        "[project]\nname = 'x'\n\n[tool.fastapi]\nentrypoint = \"app.main:app\"\n")})
    assert target(found) == "app.main:app"
    assert found.target.origin.startswith("[tool.fastapi] entrypoint in pyproject.toml")
    assert (found.target.path, found.target.line) == (tmp_path / "pyproject.toml", 5)


# --- Configuration --------------------------------------------------------------------------


def test_config_overrides_everything(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        **SERVICE,
        "Dockerfile": 'FROM python\nCOPY . /app\nWORKDIR /app\nCMD ["uvicorn", "app.main:app"]\n',
        "backend/src/service/entry.py": "",
        "pyproject.toml": '''\
            [project]
            name = "x"

            [tool.flake8-stability]
            python = ".venv/bin/python"
            target = "service.entry:build"
            working-dir = "backend"
            app-dir = "src"
            factory = true
        '''})
    assert found.target == Target("service.entry", "build", True,
                                  "[tool.flake8-stability] target in pyproject.toml",
                                  tmp_path / "pyproject.toml", 6)
    assert found.working_dir == tmp_path / "backend"
    assert found.import_roots == (tmp_path / "backend/src",)
    assert found.module_name(tmp_path / "backend/src/service/entry.py") == "service.entry"
    assert found.notes == ()


def test_config_working_dir_with_a_discovered_target(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        "backend/app/main.py": APP,
        "pyproject.toml": "[tool.flake8-stability]\nworking-dir = 'backend'\nfactory = false\n"})
    assert target(found) == "app.main:app"
    assert found.working_dir == found.import_roots[0] == tmp_path / "backend"
    assert "working-dir/app-dir from [tool.flake8-stability]" in found.target.origin


def test_config_folders_that_do_not_exist(tmp_path: Path) -> None:
    found = layout(tmp_path, {"pyproject.toml": (
        "[tool.flake8-stability]\ntarget = 'main:app'\nworking-dir = 'nowhere'\n")})
    assert target(found) == "main:app"
    assert found.notes == (f"[tool.flake8-stability] working-dir 'nowhere' is not a folder "
                           f"({tmp_path / 'nowhere'})",)


@pytest.mark.parametrize("setting,problem", [
    ("target = 3", "tool.flake8-stability.target must be a string like 'app.main:app', not 3"),
    ("target = 'app/main.py'", "tool.flake8-stability.target must look like "
                               "'package.module:attribute'"),
    ("app-dir = ['src']", "tool.flake8-stability.app-dir must be a string"),
    ("working-dir = ''", "tool.flake8-stability.working-dir must be a string"),
    ("factory = 'yes'", "tool.flake8-stability.factory must be true or false, not 'yes'"),
    ("python = 3", "tool.flake8-stability.python must be a string"),
])
def test_broken_config_values(tmp_path: Path, setting: str, problem: str) -> None:
    write(tmp_path, {**SERVICE, "pyproject.toml": f"[tool.flake8-stability]\n{setting}\n"})
    config = load_config(tmp_path)
    assert len(config.problems) == 1 and problem in config.problems[0], config.problems
    assert config.problems[0].startswith(str(tmp_path / "pyproject.toml"))
    assert config.problems[0].endswith("; ignored")
    found = discover_layout(tmp_path, config)
    assert target(found) == "app.main:app"  # the broken value is ignored, discovery goes on


def test_broken_config_value_keeps_the_others(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": (
        "[tool.flake8-stability]\ntarget = 'main:app'\nfactory = 1\napp-dir = 'src'\n")})
    config = load_config(tmp_path)
    assert (config.target, config.app_dir, config.factory) == ("main:app", "src", None)
    assert len(config.problems) == 1


def test_config_is_backwards_compatible() -> None:
    assert Config("python3", ("p",)) == Config(python="python3", problems=("p",))
    assert Config().merged(python="x", target=None).python == "x"


# --- Module names ---------------------------------------------------------------------------


def test_module_names(tmp_path: Path) -> None:
    found = layout(tmp_path, {
        **SERVICE,
        "app/api/v1/users.py": "",            # api/ and v1/ have no __init__.py: namespaces
        "scripts/seed-data.py": "",
        ".venv/pyvenv.cfg": "", ".venv/lib/site.py": "",
        "env/pyvenv.cfg": "", "env/lib/x.py": "",
        "node_modules/pkg/x.py": "",
        "README.md": "",
    })
    name = found.module_name
    assert name(tmp_path / "app/__init__.py") == "app"
    assert name(tmp_path / "app/main.py") == "app.main"
    assert name(tmp_path / "app/api/v1/users.py") == "app.api.v1.users"
    assert name(tmp_path / "scripts/seed-data.py") is None
    assert name(tmp_path / ".venv/lib/site.py") is None
    assert name(tmp_path / "env/lib/x.py") is None
    assert name(tmp_path / "node_modules/pkg/x.py") is None
    assert name(tmp_path / "README.md") is None
    assert name(tmp_path / "__init__.py") is None
    assert name(tmp_path.parent / "elsewhere.py") is None
    assert found.importable_at_boot(tmp_path / "app/db.py")
    assert not found.importable_at_boot(tmp_path.parent / "elsewhere.py")


def test_module_name_through_a_symlink(tmp_path: Path) -> None:
    found = layout(tmp_path / "project", SERVICE)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "project", target_is_directory=True)
    assert found.module_name(link / "app" / "db.py") == "app.db"


# --- Odd files never break discovery --------------------------------------------------------


def test_odd_files(tmp_path: Path) -> None:
    write(tmp_path, SERVICE)
    (tmp_path / "Dockerfile").write_bytes(b"\x00\x01FROM\xff\xfe binary")
    (tmp_path / "docker-compose.yml").mkdir()
    (tmp_path / "compose.yaml").write_text("services: [\n  - {: :\n\t- x\n  command: |\n")
    (tmp_path / "Procfile").write_text("web:\nweb: uvicorn $APP_MODULE\n")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "deploy" / "Containerfile").symlink_to(tmp_path / "missing")
    (tmp_path / "main.py").write_bytes(b"app = FastAPI(\x00")
    found = layout(tmp_path)
    assert target(found) == "app.main:app"
    assert found.module_name(tmp_path / "loop") is None


def test_fifos_are_never_read(tmp_path: Path) -> None:
    """A FIFO named like a boot file would block a reader: it is not a regular file."""
    write(tmp_path, SERVICE)
    for name in ("Dockerfile", "backend/Dockerfile", "start.sh", "main.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        os.mkfifo(tmp_path / name)
    write(tmp_path, {"compose.yaml": "services:\n  api:\n    build: backend\n",
                     "Procfile": "web: ./start.sh\n"})
    assert target(layout(tmp_path)) == "app.main:app"


TEXT = st.lists(st.sampled_from([*"ab -:#'\"[]{}|>&;$\\=\n\t/.", "uvicorn", "CMD ", "services:",
                                  "  ", "- ", "command:", "${", "<<EOF", "sh -c"])).map("".join)
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FUZZ
@given(TEXT)
def test_readers_never_raise(text: str) -> None:
    root = Path("/nonexistent-project")
    run = _Run(root, (_Where(root / "Procfile", 1, "web"),),
               _Place(PurePosixPath("/app"), ((PurePosixPath("/app"), root),), root, root))
    _Yaml(text).parse()
    _instructions(text)
    _shell_boot(text, run)


@FUZZ
@given(TEXT)
def test_discovery_never_raises(tmp_path: Path, text: str) -> None:
    for name in ("Dockerfile", "compose.yaml", "Procfile", "start.sh", "main.py"):
        (tmp_path / name).write_text(text)
    (tmp_path / "pyproject.toml").write_text(f"[tool.fastapi]\nentrypoint = {text!r}\n")
    found = discover_layout(tmp_path, load_config(tmp_path))
    assert found.import_roots and found.source_roots
