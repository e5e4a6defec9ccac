"""What is installed in the project's interpreter, which need not be the one running us.

The interpreter is asked once per process by a small stdlib-only script; when it is the
running interpreter, the same function runs in-process and no subprocess is started.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Protocol, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .probes import installed


@dataclass
class Environment:
    """Installed distributions of one interpreter (names canonicalised, PEP 503)."""

    python: Optional[str] = None
    executable: Optional[str] = None
    distributions: Dict[str, str] = field(default_factory=dict)
    stdlib: FrozenSet[str] = frozenset()  # standard-library module names
    top_level: FrozenSet[str] = frozenset()  # top-level names importable from installed paths
    builtin: FrozenSet[str] = frozenset()  # compiled into the interpreter: found before sys.path
    requires: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # dist -> Requires-Dist
    provides: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # dist -> top-level modules
    markers: Dict[str, str] = field(default_factory=dict)  # PEP 508 marker values
    error: Optional[str] = None

    def version(self, distribution: str) -> Optional[Version]:
        raw = self.distributions.get(canonicalize_name(distribution))
        if raw is None:
            return None
        try:
            return Version(raw)
        except InvalidVersion:
            return None

    def importable(self, top: str) -> Optional[bool]:
        """Whether a top-level module name is in the stdlib or installed (None: unknown)."""
        if self.error or not (self.stdlib or self.top_level):
            return None
        return top in self.stdlib or top in self.top_level

    def providers(self, top: str) -> Tuple[str, ...]:
        """The installed distributions (canonical names) that install top-level module `top`."""
        return tuple(sorted(dist for dist, tops in self.provides.items() if top in tops))

    def requirements_of(self, distribution: str) -> List[Requirement]:
        """An installed distribution's own Requires-Dist (unparsable entries skipped)."""
        texts = self.requires.get(canonicalize_name(distribution), ())
        return [found for found in map(_requirement, texts) if found is not None]

    def has(self, distribution: str) -> bool:
        return canonicalize_name(distribution) in self.distributions

    def describe(self, distribution: str) -> str:
        """`SQLAlchemy 2.1.9`, `SQLAlchemy (not installed)` or why it is unknown, for messages."""
        version = self.distributions.get(canonicalize_name(distribution))
        if version:
            return f"{distribution} {version}"
        if self.error:
            return f"{distribution} (version unknown: {self.error})"
        return f"{distribution} (not installed)"


@lru_cache(maxsize=4096)
def _requirement(text: str) -> Optional[Requirement]:
    """A Requires-Dist entry parsed once per process (the manifest asks for every installed
    distribution's entries once per declared name); None when it cannot be parsed."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


_cache: Dict[str, Environment] = {}


def default_interpreter(root: Path) -> str:
    """DESIGN.md: `.venv/bin/python` under the root, else $VIRTUAL_ENV, else the running one."""
    for candidate in (root / ".venv" / "bin" / "python", root / ".venv" / "Scripts" / "python.exe"):
        if candidate.exists():
            return str(candidate)
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        for candidate in (Path(venv) / "bin" / "python", Path(venv) / "Scripts" / "python.exe"):
            if candidate.exists():
                return str(candidate)
    return sys.executable


class Listings(Protocol):
    """Where the probe's output may be kept between processes (the on-disk cache)."""

    def read(self, interpreter: str) -> Optional[Dict[str, Any]]: ...

    def write(self, interpreter: str, data: Dict[str, Any]) -> None: ...


def load_environment(interpreter: str, listings: Optional[Listings] = None) -> Environment:
    """Installed distributions of `interpreter`, cached per process (and in `listings`)."""
    key = os.path.abspath(interpreter)
    if key not in _cache:
        _cache[key] = _query(interpreter, listings)
    return _cache[key]


def _query(interpreter: str, listings: Optional[Listings]) -> Environment:
    data = listings.read(interpreter) if listings is not None else None
    if data is None:
        try:
            data = _collect(interpreter)
        except _Unusable as exc:
            return Environment(error=str(exc))
        if listings is not None:
            listings.write(interpreter, data)
    try:
        return _parse(data)
    except (KeyError, TypeError, AttributeError, ValueError):
        return Environment(error=f"{interpreter} printed no package list")


class _Unusable(Exception):
    pass


def _collect(interpreter: str) -> Dict[str, Any]:
    """The probe's JSON: in-process for the running interpreter, else from a subprocess."""
    if is_running_interpreter(interpreter):
        return installed.collect()
    try:
        done = subprocess.run([interpreter, "-I", installed.__file__], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise _Unusable(f"cannot run {interpreter}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise _Unusable(f"{interpreter} failed to list its packages: {tail}")
    try:
        data = json.loads(done.stdout)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _Unusable(f"{interpreter} printed no package list")
    return data


def is_running_interpreter(interpreter: str) -> bool:
    """Whether `interpreter` is the one running us (same executable, same environment)."""
    try:
        same_file = os.path.samefile(interpreter, sys.executable)
        return same_file and sys.prefix == _prefix_of(interpreter)
    except OSError:
        return False


def _prefix_of(interpreter: str) -> str:
    """A venv's python is a symlink to the base one: the prefix tells them apart."""
    pyvenv = Path(interpreter).parent.parent / "pyvenv.cfg"
    return str(pyvenv.parent) if pyvenv.exists() else sys.base_prefix


def _parse(data: Dict[str, Any]) -> Environment:
    def by_dist(key: str) -> Dict[str, Tuple[str, ...]]:
        return {canonicalize_name(name): tuple(values)
                for name, values in data.get(key, {}).items()}

    dists = {canonicalize_name(name): version for name, version in data["distributions"].items()}
    return Environment(python=data["python"], executable=data["executable"], distributions=dists,
                       stdlib=frozenset(data.get("stdlib", ())),
                       top_level=frozenset(data.get("top_level", ())),
                       builtin=frozenset(data.get("builtin", ())),
                       requires=by_dist("requires"), provides=by_dist("provides"),
                       markers=dict(data.get("markers", {})))
