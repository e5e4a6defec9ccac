"""The one configuration every door shares: `[tool.flake8-stability]` in pyproject.toml,
overridden by command-line options."""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

from .environment import default_interpreter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


@dataclass(frozen=True)
class Config:
    python: Optional[str] = None
    problems: tuple = ()

    def interpreter(self, root: Path) -> str:
        if self.python:
            path = Path(self.python)
            return str(path if path.is_absolute() else root / path)
        return default_interpreter(root)

    def merged(self, **overrides: Any) -> "Config":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding a project marker, else `start`'s folder."""
    start = start.resolve()
    return _root_of(start if start.is_dir() else start.parent)


@lru_cache(maxsize=1024)
def _root_of(folder: Path) -> Path:
    """Cached per folder: a lint run asks once per file, and files share folders."""
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return folder


def load_config(root: Path) -> Config:
    """Read `[tool.flake8-stability]`; a broken file is reported, never fatal."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return Config()
    try:
        data: Dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Config(problems=(f"{pyproject}: not read ({exc})",))
    section = data.get("tool", {}).get("flake8-stability", {})
    if not isinstance(section, dict):
        return Config(problems=(f"{pyproject}: [tool.flake8-stability] is not a table",))
    python = section.get("python")
    if python is not None and not isinstance(python, str):
        return Config(problems=(f"{pyproject}: tool.flake8-stability.python must be a string",))
    return Config(python=python)
