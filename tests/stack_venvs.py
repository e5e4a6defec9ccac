"""Real second interpreters holding exact pins: the ones rule examples declare with
`installed=(...)`, and deliberately broken stacks for the installed-environment rules (SBA203,
SBA204, SBA205, SBA209).

Each is a `python -m venv --without-pip` venv whose site-packages gets the pins from
`pip install --no-deps --target` (nothing is resolved or compiled; typing-extensions is among
the broken stacks so the tests can also import SQLAlchemy and sqlmodel to prove the predicted
failure). A venv is keyed by its pins: it lives in `<temp dir>/flake8-stability-venvs/py3XY/`
under a short stable hash of the sorted, normalized pins, is built once per machine, and is
moved into place only when complete, so concurrent builders (pytest-xdist workers, parallel
sessions) never see a half-built one."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple

from packaging.utils import canonicalize_name

ROOT = Path(tempfile.gettempdir()) / "flake8-stability-venvs"

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
}

_PIN = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(?P<version>\S+)\s*$")


def normalized(pins: Iterable[str]) -> Tuple[str, ...]:
    """`name==version` with canonical names, sorted and without duplicates."""
    found = set()
    for pin in pins:
        match = _PIN.match(pin)
        if match is None:
            raise ValueError(f"not an exact pin (name==version): {pin!r}")
        found.add(f"{canonicalize_name(match['name'])}=={match['version']}")
    return tuple(sorted(found))


def key(pins: Iterable[str]) -> str:
    """The folder name of the venv holding `pins`: the same for any order or spelling."""
    return hashlib.sha256("\n".join(normalized(pins)).encode()).hexdigest()[:12]


def venv_of(pins: Iterable[str], root: Optional[Path] = None) -> Path:
    python_tag = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return (root or ROOT) / python_tag / key(pins)


def python_of(pins: Iterable[str], root: Optional[Path] = None) -> Path:
    return venv_of(pins, root) / "bin" / "python"


def site_packages(pins: Iterable[str], root: Optional[Path] = None) -> Path:
    return _purelib(venv_of(pins, root))


def _purelib(venv: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))


def build(pins: Iterable[str], root: Optional[Path] = None) -> Path:
    """The venv holding exactly `pins`, built unless it exists; returns its interpreter."""
    pins = normalized(pins)
    venv = venv_of(pins, root)
    if venv.is_dir():
        return python_of(pins, root)
    venv.parent.mkdir(parents=True, exist_ok=True)
    partial = venv.parent / f".{venv.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(partial)],
                       check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--target", str(_purelib(partial)),
                        *pins], check=True)
        (partial / "pins.txt").write_text("".join(f"{pin}\n" for pin in pins))
        partial.rename(venv)
    except OSError:
        if not venv.is_dir():  # not a lost race: a real failure
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return python_of(pins, root)


def build_all() -> Dict[str, Path]:
    """Every named stack of `STACKS`: name -> interpreter."""
    return {name: build(pins) for name, pins in STACKS.items()}
