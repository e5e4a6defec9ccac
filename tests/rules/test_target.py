"""SBA401 / SBA402 through flake8: targets read from compose files, `[tool.fastapi]`,
Dockerfiles and Procfiles, where the finding lands, and the cases left alone."""
from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from flake8_runner import Flake8Run

Lint = Callable[..., Flake8Run]
APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def found(run: Flake8Run, code: str) -> List[Tuple[str, int, str]]:
    return [(r.path, r.line, r.text) for r in run.results if r.code == code]


def procfile(command: str, main: str, **files: str) -> Dict[str, str]:
    project = {"Procfile": f"web: {command}\n", "app/__init__.py": "", "app/main.py": main}
    project.update(files)
    return project


def test_module_missing_under_fastapi_entrypoint(lint: Lint) -> None:
    files = {"pyproject.toml": ("[project]\nname = 'fixture'\n\n[tool.fastapi]\n"
                                "entrypoint = 'backend.main:app'\n"),
             "app/__init__.py": "", "app/main.py": APP}
    [(path, line, text)] = found(lint(files), "SBA401")
    assert (path, line) == ("./app/main.py", 3)
    assert "ASGI target backend.main:app (pyproject.toml line 5)" in text
    assert text.endswith("[blocking]")


def test_compose_command_from_the_wrong_folder(lint: Lint) -> None:
    files = {"docker-compose.yml": ("services:\n  api:\n    build: .\n"
                                    "    command: uvicorn main:app --host 0.0.0.0\n"),
             "Dockerfile": "FROM python:3.12\nWORKDIR /srv\nCOPY . /srv\n",
             "src/__init__.py": "", "src/main.py": APP}
    reported = found(lint(files), "SBA401")
    assert [(p, line) for p, line, _ in reported] == [("./src/main.py", 3)]


def test_found_targets_are_silent(lint: Lint) -> None:
    files = procfile("uvicorn app.main:app", APP)
    files["app/other.py"] = APP  # a second app elsewhere does not matter
    run = lint(files)
    assert found(run, "SBA401") == [] and found(run, "SBA402") == []


def test_attribute_only_inside_a_function(lint: Lint) -> None:
    main = ("from fastapi import FastAPI\n\n\ndef build():\n    app = FastAPI()\n"
            "    return app\n")
    [(path, line, text)] = found(lint(procfile("uvicorn app.main:app", main)), "SBA402")
    assert (path, line) == ("./app/main.py", 4)
    assert "attribute 'app' not found at module level of app.main" in text


def test_factory_flags(lint: Lint) -> None:
    factory = ("from fastapi import FastAPI\n\n\ndef create_app():\n    app = FastAPI()\n"
               "    return app\n")
    [(_, line, text)] = found(lint(procfile("uvicorn app.main:create_app", factory)), "SBA402")
    assert line == 4 and "factory started without --factory" in text
    assert text.endswith("[warning]")
    [(_, line, text)] = found(lint(procfile("uvicorn app.main:app --factory", APP)), "SBA402")
    assert line == 3 and "started as a factory but app is an app instance" in text
    assert text.endswith("[blocking]")


def test_dynamic_and_imported_attributes_are_left_alone(lint: Lint) -> None:
    files = procfile("uvicorn app.main:app", "from app.core import app\n",
                     **{"app/core.py": APP,
                        "app/star.py": "from app.core import *\n",
                        "app/lazy.py": "def __getattr__(name):\n    return None\n",
                        "app/guarded.py": ("try:\n    from app.core import app\n"
                                           "except ImportError:\n    app = None\n")})
    assert found(lint(files), "SBA402") == []
    for module in ("star", "lazy", "guarded"):
        files["Procfile"] = f"web: uvicorn app.{module}:app\n"
        assert found(lint(files), "SBA402") == [], module


def test_no_target_no_finding(lint: Lint) -> None:
    files = {"app/__init__.py": "", "app/util.py": "VALUE = 1\n"}
    run = lint(files)
    assert found(run, "SBA401") == [] and found(run, "SBA402") == []
