"""SBA403 / SBA404 / SBA405 through flake8 on small projects: the router graph across modules
(re-exports, aliases, loops, nested routers, factories, mounts), when it stays silent, and the
severities."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Tuple

from _dependency_envs import configured, venv_with
from flake8_runner import Flake8Run

from flake8_stability.config import load_config
from flake8_stability.context import ProjectContext
from flake8_stability.rules.app.routers import IncludeRouterWrongObject

Lint = Callable[..., Flake8Run]


def router(prefix: str, path: str = "/") -> str:
    return (f"from fastapi import APIRouter\n\nrouter = APIRouter(prefix={prefix!r})\n\n\n"
            f"@router.get({path!r})\ndef handler():\n    return []\n")


def full_stack(api_main: str, **extra: str) -> Dict[str, str]:
    """The full-stack template's layout: app/main.py includes api_router with the settings
    prefix, app/api/main.py includes the route modules."""
    files = {
        "app/__init__.py": "",
        "app/main.py": ("from fastapi import FastAPI\n\nfrom app.api.main import api_router\n"
                        "from app.core.config import settings\n\napp = FastAPI()\n"
                        "app.include_router(api_router, prefix=settings.API_V1_STR)\n"),
        "app/core/__init__.py": "",
        "app/core/config.py": ("from pydantic_settings import BaseSettings\n\n\n"
                               "class Settings(BaseSettings):\n    API_V1_STR: str = '/api/v1'\n"
                               "\n\nsettings = Settings()\n"),
        "app/api/__init__.py": "",
        "app/api/main.py": api_main,
        "app/api/routes/__init__.py": "",
        "app/api/routes/users.py": router("/users"),
        "app/api/routes/items.py": router("/items"),
    }
    files.update({f"app/api/routes/{name}.py": code for name, code in extra.items()})
    return files


def found(run: Flake8Run, code: str) -> List[Tuple[str, int]]:
    return [(r.path, r.line) for r in run.results if r.code == code]


def test_loop_over_modules_and_nested_router_are_reachable(lint: Lint) -> None:
    api = ("from fastapi import APIRouter\n\nfrom app.api.routes import items, users\n\n"
           "api_router = APIRouter()\nfor module in (users, items):\n"
           "    api_router.include_router(module.router)\n")
    assert found(lint(full_stack(api)), "SBA403") == []


def test_router_module_nobody_imports_is_reported(lint: Lint) -> None:
    api = ("from fastapi import APIRouter\n\nfrom app.api.routes import items, users\n\n"
           "routers = [users.router, items.router]\napi_router = APIRouter()\n"
           "for r in routers:\n    api_router.include_router(r)\n")
    run = lint(full_stack(api, legacy=router("/legacy")))
    assert found(run, "SBA403") == [("./app/api/routes/legacy.py", 3)]
    text = next(r.text for r in run.results if r.code == "SBA403")
    assert "APIRouter app.api.routes.legacy.router is never included" in text
    assert text.endswith("[runtime]")


def test_unresolved_include_argument_silences_the_rule(lint: Lint) -> None:
    api = ("from fastapi import APIRouter\n\nfrom app.api.routes import items, users\n"
           "from app.plugins import discover\n\napi_router = APIRouter()\n"
           "for r in discover():\n    api_router.include_router(r)\n")
    files = full_stack(api, legacy=router("/legacy"))
    files["app/plugins.py"] = ("import importlib\n\n\ndef discover():\n"
                               "    return [importlib.import_module(n).router for n in ()]\n")
    assert found(lint(files), "SBA403") == []


def test_other_ways_to_reach_a_router(lint: Lint) -> None:
    """A mounted sub-app, `app.router.include_router`, a router from a factory in another
    module, an include into a parameter (unknown parent), and an external router."""
    files = {
        "app/__init__.py": "",
        "app/main.py": (
            "from fastapi import FastAPI\n\nfrom app import admin, users\n"
            "from app.factory import make_router\nfrom app.register import register\n\n"
            "app = FastAPI()\nsub = FastAPI()\nsub.include_router(admin.router)\n"
            "app.mount('/admin', sub)\napp.router.include_router(users.router)\n"
            "app.include_router(make_router())\nregister(app)\n"),
        "app/admin.py": router("/a"),
        "app/users.py": router("/u"),
        "app/reports.py": router("/r"),
        "app/factory.py": ("from fastapi import APIRouter\n\n\ndef make_router():\n"
                           "    r = APIRouter()\n\n    @r.get('/x')\n    def x():\n"
                           "        return 1\n\n    return r\n"),
        "app/register.py": ("from app import reports\n\n\ndef register(app):\n"
                            "    app.include_router(reports.router)\n"),
    }
    assert found(lint(files), "SBA403") == []


def test_tests_and_unknown_targets_are_left_alone(lint: Lint) -> None:
    files = {"app/__init__.py": "", "app/routes.py": router("/x"),
             "tests/test_routes.py": ("from fastapi import FastAPI\n\nfrom app.routes import "
                                      "router\n\napp = FastAPI()\napp.include_router(router)\n")}
    assert found(lint(files), "SBA403") == []  # no target: the served app is unknown


def test_routes_added_after_include_with_fastapi_before_0_137(lint: Lint, tmp_path: Path) -> None:
    main = ("from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\nrouter = APIRouter()\n"
            "child = APIRouter()\napp.include_router(router)\n\n\n@router.get('/late')\n"
            "def late():\n    return 1\n\n\n@child.get('/c')\ndef c():\n    return 1\n\n\n"
            "router.include_router(child)\n")
    files = {"app/__init__.py": "", "app/main.py": main}
    assert found(lint(files), "SBA403") == []  # FastAPI 0.165 keeps routers by reference
    python = venv_with(tmp_path / "old", [("fastapi", "0.136.0", [], ["fastapi"])])
    files["pyproject.toml"] = configured(python, ["fastapi==0.136.0"])
    run = lint(files)
    assert found(run, "SBA403") == [("./app/main.py", 9), ("./app/main.py", 19)]
    assert "after router was included at line 6" in run.results[0].text


def test_include_router_wrong_objects(lint: Lint) -> None:
    main = ("from fastapi import FastAPI\n\nimport app.api.users as users\n"
            "from app.api import items\nfrom app.api.factories import build, build_async\n\n"
            "app = FastAPI()\napp.include_router(users)\napp.include_router(build)\n"
            "app.include_router(build_async())\nfor m in [items]:\n    app.include_router(m)\n"
            "\n\ndef late(app):\n    app.include_router(items)\n")
    files = {
        "app/__init__.py": "", "app/api/__init__.py": "", "app/main.py": main,
        "app/api/users.py": router("/users"), "app/api/items.py": router("/items"),
        "app/api/factories.py": ("from fastapi import APIRouter\n\n\ndef build():\n"
                                 "    return APIRouter()\n\n\nasync def build_async():\n"
                                 "    return APIRouter()\n"),
        "scripts/__init__.py": "",
        "scripts/extra.py": ("from fastapi import FastAPI\n\nfrom app.api import users\n\n"
                             "other = FastAPI()\nother.include_router(users)\n"),
    }
    run = lint(files)
    reported = {(r.path, r.line): r.text for r in run.results if r.code == "SBA404"}
    assert sorted(reported) == [("./app/main.py", 8), ("./app/main.py", 9), ("./app/main.py", 10),
                                ("./app/main.py", 12), ("./app/main.py", 16),
                                ("./scripts/extra.py", 6)]
    assert "the module app.api.users" in reported[("./app/main.py", 8)]
    assert "the function build (not called)" in reported[("./app/main.py", 9)]
    assert "coroutine" in reported[("./app/main.py", 10)]
    assert reported[("./app/main.py", 12)].endswith("[blocking]")
    assert reported[("./app/main.py", 16)].endswith("[runtime]")  # inside a function
    assert reported[("./scripts/extra.py", 6)].endswith("[warning]")  # not loaded at boot


def test_include_router_codemod_only_for_a_module_with_one_router(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/api/__init__.py": "",
             "app/api/users.py": router("/users"),
             "app/api/two.py": router("/a") + "\nother = APIRouter()\n",
             "app/main.py": ("from fastapi import FastAPI\n\nfrom app.api import two, users\n\n"
                             "app = FastAPI()\napp.include_router(users)\n"
                             "app.include_router(two)\n"),
             "pyproject.toml": "[project]\nname = 'fixture'\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    model = ProjectContext(tmp_path, load_config(tmp_path)).model
    findings = {f.line: f for f in IncludeRouterWrongObject().check_project(model)}
    assert findings[6].fix.codemod == "include-router-attribute"
    assert "`include_router(users.router)`" in findings[6].fix.description
    assert findings[7].fix.codemod is None
    assert "(router, other)" in findings[7].fix.description


def test_healthy_includes_are_not_wrong_objects(lint: Lint) -> None:
    files = {
        "app/__init__.py": "",
        "app/api/__init__.py": "from .users import router\n",
        "app/api/users.py": router("/users"),
        "app/main.py": ("from fastapi import FastAPI\nfrom fastapi_users import FastAPIUsers\n\n"
                        "from app.api import router\n\napp = FastAPI()\n"
                        "app.include_router(router)\n"
                        "app.include_router(FastAPIUsers(None, []).get_users_router())\n"),
    }
    assert found(lint(files), "SBA404") == []


def test_router_prefixes(lint: Lint) -> None:
    files = {
        "app/__init__.py": "",
        "app/config.py": ("from pydantic_settings import BaseSettings\n\n\n"
                          "class Settings(BaseSettings):\n    API_V1_STR: str = 'api/v1'\n"
                          "    PREFIX_FROM_ENV: str = '/x/'\n\n\nsettings = Settings()\n"),
        ".env": "PREFIX_FROM_ENV=/from-env\n",
        "app/main.py": ("from fastapi import APIRouter, FastAPI\n\nfrom app.config import settings"
                        "\n\napp = FastAPI()\nroot = APIRouter(prefix='/')\n"
                        "app.include_router(root, prefix=settings.API_V1_STR)\n"
                        "app.include_router(root, prefix=settings.PREFIX_FROM_ENV)\n"
                        "app.include_router(root, prefix=f'{settings.API_V1_STR}/users')\n"
                        "app.include_router(root, prefix='')\n\n\n"
                        "def build(prefix):\n    r = APIRouter(prefix='items/')\n"
                        "    app.include_router(r, prefix=prefix)\n    return r\n"),
    }
    run = lint(files)
    reported = {r.line: r.text for r in run.results if r.code == "SBA405"}
    assert sorted(reported) == [6, 7, 9, 14]
    assert "must not end with '/'" in reported[6] and reported[6].endswith("[blocking]")
    assert "'api/v1'" in reported[7] and "must start with '/'" in reported[7]
    assert "'api/v1/users'" in reported[9] or "'api/v1'" in reported[9]
    assert reported[14].endswith("[runtime]")


def test_app_factory_target(lint: Lint) -> None:
    main = ("from fastapi import FastAPI\n\nfrom app import admin, users\n\n\n"
            "def create_app() -> FastAPI:\n    app = FastAPI()\n"
            "    app.include_router(users.router)\n    return app\n")
    files = {"Procfile": "web: uvicorn app.main:create_app --factory\n",
             "app/__init__.py": "", "app/main.py": main,
             "app/users.py": router("/u"), "app/admin.py": router("/a")}
    assert found(lint(files), "SBA403") == [("./app/admin.py", 3)]
