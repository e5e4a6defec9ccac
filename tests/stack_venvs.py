"""Real second interpreters with deliberately broken stacks, for the installed-environment rules
(SBA203, SBA205, SBA209): a `python -m venv --without-pip` venv whose site-packages gets exact
versions from `pip install --no-deps --target` (nothing is imported, so compiled dependencies
are not needed; typing-extensions is there so the tests can also import SQLAlchemy and sqlmodel
to prove the predicted failure). Built once per machine under `/tmp/flake8-stability-venvs`
(the path the rules' documented examples name), each moved into place only when complete."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, Tuple

VENVS = Path("/tmp/flake8-stability-venvs")

_WEB = ("fastapi==0.165.0", "starlette==1.10.0", "pydantic==2.14.4")
STACKS: Dict[str, Tuple[str, ...]] = {
    # sqlmodel < 0.0.12 needs pydantic 1 and SQLAlchemy 1.4; fastapi 0.99 needs pydantic 1.
    "old-sqlmodel-fastapi-pydantic-2": (
        "sqlmodel==0.0.8", "pydantic==2.5.3", "pydantic-core==2.14.6", "SQLAlchemy==2.0.25",
        "greenlet==3.0.3", "fastapi==0.99.1", "starlette==0.27.0", "typing-extensions==4.12.2",
        "annotated-types==0.7.0"),
    # SQLAlchemy 2.1 no longer installs greenlet; 2.0 does not on some platforms.
    "sqlalchemy-2.1-no-greenlet": ("SQLAlchemy==2.1.9", "sqlmodel==0.0.50", "aiosqlite==0.22.1",
                                   "typing-extensions==4.12.2", *_WEB),
    "sqlalchemy-2.0-no-greenlet": ("SQLAlchemy==2.0.44", "aiosqlite==0.22.1",
                                   "typing-extensions==4.12.2", *_WEB),
    # passlib 1.7.4 (the last release) with bcrypt 5.
    "passlib-bcrypt-5": ("passlib==1.7.4", "bcrypt==5.0.0", *_WEB),
    # Python 3.9 with the last stack releases that support it (SBA208: syntax newer than 3.9).
    "python3.9-fastapi-sqlmodel": (
        "fastapi==0.115.6", "starlette==0.41.3", "pydantic==2.11.7", "pydantic-core==2.33.2",
        "sqlmodel==0.0.24", "SQLAlchemy==2.0.44", "typing-extensions==4.12.2",
        "typing-inspection==0.4.2", "annotated-types==0.7.0", "anyio==4.12.1", "idna==3.20",
        "exceptiongroup==1.3.2", "greenlet==3.2.5"),
}
# Stacks that need another Python than the running one (its `major.minor`).
PYTHONS: Dict[str, str] = {"python3.9-fastapi-sqlmodel": "3.9"}


def python_of(name: str) -> Path:
    return VENVS / name / "bin" / "python"


def base_python(version: str) -> str:
    """An interpreter of Python `version` (`3.9`): under ~/.pyenv/versions, else on PATH."""
    found = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python"))
    if found:
        return str(found[-1])
    on_path = shutil.which(f"python{version}")
    if on_path is None:
        raise FileNotFoundError(f"no Python {version} interpreter for the test venvs")
    return on_path


def _purelib(python: str, base: Path) -> str:
    if python == sys.executable:
        return sysconfig.get_path("purelib", vars={"base": str(base), "platbase": str(base)})
    code = ("import sys, sysconfig; print(sysconfig.get_path('purelib', "
            "vars={'base': sys.argv[1], 'platbase': sys.argv[1]}))")
    return subprocess.run([python, "-c", code, str(base)], check=True, capture_output=True,
                          text=True).stdout.strip()


def build(name: str) -> Path:
    """Create the venv `name` of `STACKS` (once); returns its interpreter."""
    python = python_of(name)
    if python.exists():
        return python
    VENVS.mkdir(parents=True, exist_ok=True)
    partial = VENVS / f".{name}-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    base = base_python(PYTHONS[name]) if name in PYTHONS else sys.executable
    subprocess.run([base, "-m", "venv", "--without-pip", str(partial)], check=True)
    other = ["--python-version", PYTHONS[name], "--only-binary=:all:"] if name in PYTHONS else []
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", *other, "--target", _purelib(base, partial),
                    *STACKS[name]], check=True)
    try:
        partial.rename(VENVS / name)
    except OSError:  # another session finished it first
        shutil.rmtree(partial, ignore_errors=True)
    return python


def build_all() -> Dict[str, Path]:
    """Every stack of `STACKS` (those needing a Python this machine lacks are left out)."""
    built = {}
    for name in STACKS:
        try:
            built[name] = build(name)
        except FileNotFoundError:
            continue
    return built
