"""Which files belong to a project: never virtual environments, build outputs or caches."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import List, Tuple

from .sources import NOT_REGULAR

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".stability_cache", "__pycache__", "node_modules", "build", "dist",
    "site-packages", ".eggs", "htmlcov",
})


@lru_cache(maxsize=4096)
def is_skipped_dir(path: Path) -> bool:
    """Folders that are never part of a project's source: virtual environments, VCS data,
    build outputs and caches (cached: module naming asks it for every folder above a file)."""
    name = path.name
    if name in SKIPPED_DIRS or name.endswith(".egg-info"):
        return True
    if name.startswith(".") and name not in (".", ".."):
        return True
    try:
        return (path / "pyvenv.cfg").exists()
    except (OSError, ValueError):
        return False


def python_files(root: Path) -> Tuple[List[Path], List[Tuple[Path, str]]]:
    """Every `.py` file under `root`, sorted, and the folders that could not be listed.

    Symlinked folders are not followed (no loops, no escaping the root); symlinked files are
    kept when they point at a file. A `.py` name that is no file to read (a dangling link, a
    link loop, a FIFO) is a problem: flake8 reports it (E902) or hangs on it.
    """
    found: List[Path] = []
    problems: List[Tuple[Path, str]] = []

    def on_error(error: OSError) -> None:
        problems.append((Path(error.filename or root), error.strerror or str(error)))

    for folder, dirs, names in os.walk(root, onerror=on_error, followlinks=False):
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not is_skipped_dir(base / d))
        for name in names:
            path = base / name
            if not name.endswith(".py"):
                continue
            if path.is_file():
                found.append(path)
            else:
                problems.append((path, _not_a_file(path)))
    return sorted(found), problems


def _not_a_file(path: Path) -> str:
    try:
        path.stat()
    except OSError as exc:  # a dangling symbolic link, or a loop of them
        return f"cannot be read: {exc.strerror or exc}"
    return NOT_REGULAR
