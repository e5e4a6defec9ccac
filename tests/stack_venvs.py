"""Real second interpreters holding exact pins: the ones rule examples declare with
`installed=(...)`, and deliberately broken stacks for the installed-environment rules (SBA203,
SBA204, SBA205, SBA209).

Each is a `python -m venv --without-pip` venv whose site-packages gets the pins from
`pip install --no-deps --target` (nothing is resolved or compiled; typing-extensions is among
the broken stacks so the tests can also import SQLAlchemy and sqlmodel to prove the predicted
failure). A venv is keyed by its pins: it lives in `<temp dir>/flake8-stability-venvs/py3XY/`
under a short stable hash of the sorted, normalized pins, is built once per machine, and is
moved into place only when complete, so concurrent builders (pytest-xdist workers, parallel
sessions) never see a half-built one.

A pseudo-pin `python==3.9` builds the venv from that Python (found under ~/.pyenv/versions or
on PATH) with wheels for it: such a venv is a whole environment of its own, and examples that
declare it are run by its interpreter, not in front of the test stack."""
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

from flake8_stability.rules.dependencies.python_version import PY39_STACK

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
    # Python 3.9 with the last stack releases that support it (SBA208's examples).
    "python3.9-fastapi-sqlmodel": PY39_STACK,
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


def python_version(pins: Iterable[str]) -> Optional[str]:
    """The `python==X.Y` pseudo-pin's version: the venv's own Python (None: the running one)."""
    versions = [pin.split("==", 1)[1] for pin in normalized(pins) if pin.startswith("python==")]
    return versions[0] if versions else None


def base_python(version: str) -> str:
    """An interpreter of Python `version` (`3.9`): under ~/.pyenv/versions, else on PATH."""
    found = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python"))
    if found:
        return str(found[-1])
    on_path = shutil.which(f"python{version}")
    if on_path is None:
        raise FileNotFoundError(f"no Python {version} interpreter for the test venvs")
    return on_path


def venv_of(pins: Iterable[str], root: Optional[Path] = None) -> Path:
    version = python_version(pins) or "%d.%d" % sys.version_info[:2]
    return (root or ROOT) / f"py{version.replace('.', '')}" / key(pins)


def python_of(pins: Iterable[str], root: Optional[Path] = None) -> Path:
    return venv_of(pins, root) / "bin" / "python"


def site_packages(pins: Iterable[str], root: Optional[Path] = None) -> Path:
    return _purelib(venv_of(pins, root), python_version(pins))


def _purelib(venv: Path, version: Optional[str] = None) -> Path:
    if version is None:
        return Path(sysconfig.get_path("purelib", vars={"base": str(venv),
                                                        "platbase": str(venv)}))
    return venv / "lib" / f"python{version}" / "site-packages"


def build(pins: Iterable[str], root: Optional[Path] = None) -> Path:
    """The venv holding exactly `pins`, built unless it exists; returns its interpreter."""
    pins = normalized(pins)
    venv = venv_of(pins, root)
    if venv.is_dir():
        return python_of(pins, root)
    venv.parent.mkdir(parents=True, exist_ok=True)
    partial = venv.parent / f".{venv.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        version = python_version(pins)
        base = base_python(version) if version else sys.executable
        wheels = ["--python-version", version, "--only-binary=:all:"] if version else []
        subprocess.run([base, "-m", "venv", "--without-pip", str(partial)], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--disable-pip-version-check", *wheels, "--target",
                        str(_purelib(partial, version)),
                        *(pin for pin in pins if not pin.startswith("python=="))], check=True)
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
