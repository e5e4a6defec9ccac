"""SBA602 / SBA603 through flake8 on small projects: which cycles fail, where the finding lands,
the chain it names, and when the ASGI target is unknown."""
from __future__ import annotations

from typing import Callable, Dict

from flake8_runner import Flake8Run

APP = "from fastapi import FastAPI\n\nfrom app.db import engine\n\napp = FastAPI()\n"
DB_FAILING = "from app.models import Hero\n\nengine = object()\n"
MODELS = "from app.db import engine\n\nclass Hero:\n    pass\n"


def project(db: str, models: str = MODELS, main: str = APP) -> Dict[str, str]:
    return {"app/__init__.py": "", "app/main.py": main, "app/db.py": db, "app/models.py": models}


def test_fatal_cycle_is_reported_where_it_closes(lint: Callable[..., Flake8Run]) -> None:
    run = lint(project(DB_FAILING))
    assert [(r.path, r.line, r.code) for r in run.results] == [("./app/models.py", 1, "SBA602")]
    assert run.results[0].text.endswith("[blocking]")
    assert "'engine' from app.db, which is still initializing" in run.results[0].text


def test_benign_cycle_is_opt_in(lint: Callable[..., Flake8Run]) -> None:
    files = project("engine = object()\n\nfrom app.models import Hero\n")
    assert lint(files).results == []
    opted = lint(files, "--extend-select", "SBA603")
    assert [(r.path, r.line, r.code) for r in opted.results] == [("./app/models.py", 1, "SBA603")]


def test_unknown_target_lowers_to_warning(lint: Callable[..., Flake8Run]) -> None:
    files = project(DB_FAILING, main="from app.db import engine\n")  # no FastAPI(): no target
    run = lint(files)
    assert {r.code for r in run.results} == {"SBA602"}
    assert all(r.text.endswith("[warning]") for r in run.results)


def test_cycles_outside_the_boot_path_are_not_blocking(lint: Callable[..., Flake8Run]) -> None:
    files = project("engine = object()\n")
    files.update({"app/scripts/__init__.py": "",
                  "app/scripts/a.py": "from app.scripts.b import B\nA = 1\n",
                  "app/scripts/b.py": "from app.scripts.a import A\nB = 1\n"})
    assert lint(files).results == []  # app.main never imports them


def test_deferred_and_type_checking_imports_are_not_edges(lint: Callable[..., Flake8Run]) -> None:
    models = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.db import engine\n"
              "def bind():\n    from app.db import engine\n    return engine\n"
              "class Hero:\n    pass\n")
    assert lint(project(DB_FAILING, models)).results == []


def test_a_module_importing_its_own_name_is_left_to_sba106(
        lint: Callable[..., Flake8Run]) -> None:
    files = {"app/__init__.py": "",
             "app/main.py": "import fastapi\n\napp = fastapi.FastAPI()\n",
             "fastapi.py": "from fastapi import FastAPI\n"}
    codes = {r.code for r in lint(files, "--extend-select", "SBA603").results}
    assert "SBA106" in codes and not codes & {"SBA602", "SBA603"}
