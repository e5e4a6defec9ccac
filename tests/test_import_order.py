"""The import-order simulation predicts exactly the circular imports that fail, and Python
agrees: every fixture here is also imported for real in a subprocess."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from flake8_stability.config import Config
from flake8_stability.environment import load_environment
from flake8_stability.project.import_order import simulate
from flake8_stability.project.layout import discover_layout
from flake8_stability.project.model import ProjectModel

PROJECTS: Dict[str, Dict[str, str]] = {
    "fatal": {
        "app/__init__.py": "",
        "app/main.py": "from app.db import engine\napp = object()\n",
        "app/db.py": "from app.models import Base\nengine = object()\n",
        "app/models.py": "from app.db import engine\nclass Base:\n    pass\n",
    },
    "benign-module-import": {
        "app/__init__.py": "",
        "app/main.py": "from app.db import engine\napp = object()\n",
        "app/db.py": "from app.models import Base\nengine = object()\n",
        "app/models.py": "import app.db\nclass Base:\n    pass\n",
    },
    "benign-bound-first": {
        "app/__init__.py": "",
        "app/main.py": "from app.db import engine\napp = object()\n",
        "app/db.py": "engine = object()\nfrom app.models import Base\n",
        "app/models.py": "from app.db import engine\nclass Base:\n    pass\n",
    },
    "type-checking-and-deferred": {
        "app/__init__.py": "",
        "app/main.py": "from app.db import engine\napp = object()\n",
        "app/db.py": "from app.models import Base\nengine = object()\n",
        "app/models.py": textwrap.dedent("""\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from app.db import engine
            class Base:
                def bind(self):
                    from app.db import engine
                    return engine
        """),
    },
    "package-init-cycle": {
        "app/__init__.py": "",
        "app/main.py": "from app.routers import router\napp = object()\n",
        "app/routers/__init__.py": "from .users import router\n",
        "app/routers/users.py": "from app.routers import helpers\nfrom app.main import app\n"
                                "router = object()\n",
        "app/routers/helpers.py": "x = 1\n",
    },
    "main-imported-by-router": {
        "app/__init__.py": "",
        "app/main.py": "app = object()\nfrom app.routers.users import router\n",
        "app/routers/__init__.py": "",
        "app/routers/users.py": "from app.main import app\nrouter = object()\n",
    },
    "submodule-from-running-package": {
        "app/__init__.py": "from .main import app\n",
        "app/main.py": "from . import settings\napp = object()\n",
        "app/settings.py": "TITLE = 'shop'\n",
    },
}

# project -> (module that fails, name, partial module) or None when the import succeeds
EXPECTED: Dict[str, Optional[Tuple[str, str, str]]] = {
    "fatal": ("app.models", "engine", "app.db"),
    "benign-module-import": None,
    "benign-bound-first": None,
    "type-checking-and-deferred": None,
    "package-init-cycle": ("app.routers.users", "app", "app.main"),
    "main-imported-by-router": None,
    "submodule-from-running-package": None,
}


def write(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def model_of(root: Path) -> ProjectModel:
    return ProjectModel(discover_layout(root, Config()), load_environment(sys.executable))


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_prediction(tmp_path: Path, name: str) -> None:
    model = model_of(write(tmp_path, PROJECTS[name]))
    result = simulate(model, model.modules["app.main"])
    predicted = [(f.closing.module.name, f.name, f.partial) for f in result.failures]
    expected = EXPECTED[name]
    assert predicted == ([expected] if expected else [])


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_python_agrees(tmp_path: Path, name: str) -> None:
    write(tmp_path, PROJECTS[name])
    done = subprocess.run([sys.executable, "-c", "import app.main"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    expected = EXPECTED[name]
    if expected is None:
        assert done.returncode == 0, done.stderr
    else:
        module, attr, partial = expected
        assert (f"ImportError: cannot import name '{attr}' from partially initialized module "
                f"'{partial}' (most likely due to a circular import)") in done.stderr


def test_chain_names_every_hop(tmp_path: Path) -> None:
    model = model_of(write(tmp_path, PROJECTS["fatal"]))
    failure = simulate(model, model.modules["app.main"]).failures[0]
    hops: List[Tuple[str, int, str]] = [(h.module.name, h.record.line, h.target)
                                        for h in failure.chain]
    assert hops == [("app.main", 1, "app.db"), ("app.db", 1, "app.models"),
                    ("app.models", 1, "app.db")]
    assert [h.module.name for h in failure.cycle] == ["app.db", "app.models"]


def test_benign_cycles_are_recorded(tmp_path: Path) -> None:
    model = model_of(write(tmp_path, PROJECTS["benign-module-import"]))
    result = simulate(model, model.modules["app.main"])
    assert [r.partial for r in result.reentries] == ["app.db"]
    assert result.order == ["app", "app.models", "app.db", "app.main"]


def test_importing_a_submodule_from_a_running_package_is_no_cycle(tmp_path: Path) -> None:
    """`from . import settings` in app/main.py while app/__init__.py runs: Python imports the
    submodule whatever the package has bound, so no statement order matters (no SBA603)."""
    model = model_of(write(tmp_path, PROJECTS["submodule-from-running-package"]))
    result = simulate(model, model.modules["app.main"])
    assert result.reentries == [] and result.failures == []
