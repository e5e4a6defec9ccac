"""Lock files, the most precise source of versions: `uv.lock` and `poetry.lock` (TOML arrays of
`[[package]]` with `name` and `version`)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .records import Collected, DependencyProblem, LockedVersion, read_toml
from .toml_lines import TomlLines

LOCK_FILES = ("uv.lock", "poetry.lock")


def read_lock(path: Path, into: Collected, locked: Dict[str, LockedVersion]) -> None:
    """Add the lock file's name -> version pairs to `locked` (earlier files win)."""
    read = read_toml(path, into)
    if read is None:
        return
    data, text = read
    packages = data.get("package")
    lines = TomlLines(text)
    for index, package in enumerate(packages if isinstance(packages, list) else ()):
        name, raw = package.get("name"), package.get("version")
        if not isinstance(name, str) or not isinstance(raw, str):
            continue  # a workspace member or editable source without a version
        line = lines.key(("package",), "name", index) or lines.header(("package",), index) or 1
        try:
            version = Version(raw)
        except InvalidVersion:
            into.problems.append(DependencyProblem(path, line, f"invalid version {raw!r} "
                                                   f"locked for {name}"))
            continue
        locked.setdefault(canonicalize_name(name),
                          LockedVersion(canonicalize_name(name), version, path, line, path.name))
