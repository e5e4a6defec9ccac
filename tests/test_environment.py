"""The project's interpreter is asked what it has: versions, each distribution's own
requirements, the modules each provides and its marker values; in-process and via a real
second interpreter."""
from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

from flake8_stability.environment import load_environment


def _venv_with(tmp_path: Path) -> Path:
    """A real second interpreter with one hand-installed distribution (no pip needed)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    info = Path(purelib) / "PyJWT_like-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: PyJWT-like\nVersion: 1.0\n"
                                   "Requires-Dist: cryptography>=3.4\n"
                                   "Requires-Dist: not a requirement ((\n"
                                   "Requires-Dist: pytest; extra == 'tests'\n")
    (info / "RECORD").write_text("jwtlike/__init__.py,,\njwtlike/api.py,,\n"
                                 "PyJWT_like-1.0.dist-info/METADATA,,\n../../bin/jwtlike,,\n")
    (Path(purelib) / "jwtlike").mkdir()
    (Path(purelib) / "jwtlike" / "__init__.py").write_text("")
    return venv / "bin" / "python"


def test_running_interpreter_lists_requirements_providers_and_markers() -> None:
    environment = load_environment(sys.executable)
    assert environment.error is None
    assert environment.providers("sqlalchemy") == ("sqlalchemy",)
    assert "psycopg2-binary" in environment.providers("psycopg2")
    names = {requirement.name.lower() for requirement in environment.requirements_of("sqlmodel")}
    assert {"sqlalchemy", "pydantic"} <= names
    assert environment.markers["python_version"] == "%d.%d" % sys.version_info[:2]


def test_another_interpreter_is_asked_in_a_subprocess(tmp_path: Path) -> None:
    environment = load_environment(str(_venv_with(tmp_path)))
    assert environment.error is None
    assert environment.version("pyjwt-like") is not None
    assert environment.providers("jwtlike") == ("pyjwt-like",)
    assert [str(r) for r in environment.requirements_of("PyJWT_like")] == [
        "cryptography>=3.4", 'pytest; extra == "tests"']
    assert not environment.has("sqlalchemy")
    assert environment.markers["sys_platform"] == sys.platform


def test_missing_interpreter_is_an_error_not_a_crash(tmp_path: Path) -> None:
    environment = load_environment(str(tmp_path / "nope" / "python"))
    assert environment.error and "cannot run" in environment.error
    assert environment.providers("sqlalchemy") == () and environment.requirements_of("x") == []
