"""SBA108 through flake8 on small projects: imports served by a look-alike distribution, found
from the declared requirement and, with a real second interpreter, from what is installed."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List

from _dependency_envs import configured, venv_with
from flake8_runner import Flake8Run

from flake8_stability.config import load_config
from flake8_stability.context import ProjectContext
from flake8_stability.findings import Finding, Severity
from flake8_stability.knowledge.distributions import LOOK_ALIKES
from flake8_stability.rules import rule_for

AUTH = '''from typing import TYPE_CHECKING

import jwt
from jose import jwt as jose_jwt
from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.security import OAuth2PasswordRequestForm

if TYPE_CHECKING:
    import multipart


def token(form: OAuth2PasswordRequestForm = Depends()):
    import jwt as pyjwt
    return pyjwt.encode({"sub": form.username}, "k", algorithm="HS256")
'''


def findings(root: Path) -> List[Finding]:
    project = ProjectContext(root, load_config(root))
    return sorted(rule_for("SBA108")().check_project(project.model), key=lambda f: f.line)


def test_declared_look_alikes_are_reported_where_the_code_needs_them(
        lint: Callable[..., Flake8Run]) -> None:
    run = lint({"requirements.txt": "fastapi\njwt==1.4.0\njose\nmultipart>=1\n",
                "app/__init__.py": "", "app/auth.py": AUTH})
    assert run.lines_of("SBA108", "app/auth.py") == [3, 4, 5, 6, 13]
    texts = {r.line: r.text for r in run.results if r.code == "SBA108"}
    assert texts[3] == ("`jwt` comes from the look-alike distribution 'jwt', not PyJWT "
                        "[runtime]")
    assert texts[5] == ("`fastapi.File` needs python-multipart, but the look-alike 'multipart' "
                        "is declared [runtime]")


def test_right_distributions_constraints_and_markers_are_silent(
        lint: Callable[..., Flake8Run]) -> None:
    run = lint({
        "requirements.txt": "fastapi\nPyJWT[crypto]>=2.8\npython-jose[cryptography]\n"
                            "python-multipart\njwt; python_version < '3.0'\n-c constraints.txt\n",
        "constraints.txt": "multipart<2\n",
        "app/__init__.py": "", "app/auth.py": AUTH})
    assert run.lines_of("SBA108") == []


def test_a_project_module_named_like_the_package_is_not_judged(
        lint: Callable[..., Flake8Run]) -> None:
    run = lint({"requirements.txt": "jwt\n", "jwt.py": "def encode(*a, **k):\n    return ''\n",
                "main.py": "import jwt\n"})
    assert run.lines_of("SBA108") == []


def test_bson_is_wrong_only_next_to_pymongo(lint: Callable[..., Flake8Run]) -> None:
    alone = lint({"requirements.txt": "bson\n", "app.py": "from bson import ObjectId\n"})
    assert alone.lines_of("SBA108") == []
    both = lint({"requirements.txt": "bson\npymongo>=4\n",
                 "app.py": "import pymongo\nfrom bson import ObjectId\n"})
    assert both.lines_of("SBA108") == [1, 2]


def test_root_cause_and_related_point_at_the_requirement(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\ndependencies = [\n    'fastapi',\n    'jwt>=1.3',\n]\n")
    (tmp_path / "auth.py").write_text("import jwt\n")
    [finding] = findings(tmp_path)
    assert finding.severity is Severity.RUNTIME
    assert "the project declares the distribution 'jwt' (pyproject.toml:5 (jwt>=1.3))" in \
        finding.root_cause
    assert "AttributeError: module 'jwt' has no attribute 'encode'" in finding.root_cause
    assert finding.fix.description.startswith(
        "Depend on `PyJWT` instead of `jwt` in pyproject.toml:5")
    assert [(Path(r.path).name, r.line) for r in finding.related] == [("pyproject.toml", 5)]


def test_installed_look_alike_in_a_real_second_interpreter(tmp_path: Path) -> None:
    python = venv_with(tmp_path, [("jwt", "1.4.0", ["cryptography>=3.1"], ["jwt"]),
                                  ("fastapi", "0.115.0", [], ["fastapi"])])
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(configured(python, ["fastapi", "PyJWT"]))
    (project / "auth.py").write_text("import fastapi\n\n\ndef sign():\n    import jwt\n")
    [finding] = findings(project)
    assert finding.line == 5
    assert "the project's interpreter has jwt 1.4.0 installed, which provides `jwt`" in \
        finding.root_cause
    assert finding.related == ()


def test_every_table_entry_is_complete() -> None:
    for entry in LOOK_ALIKES:
        assert entry.wrong and entry.right and entry.module and entry.evidence
        assert "`" in entry.failure  # quotes the exact error
