"""The one configuration every door shares: `[tool.flake8-stability]` in pyproject.toml,
overridden by command-line options."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .environment import default_interpreter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
NO_MARKER = ("no pyproject.toml, setup.cfg, setup.py or .git here or above: this folder is taken "
             "as the project root (add a pyproject.toml to the project's root to set it)")
TABLE = "tool.flake8-stability"
# `package.module:attribute` as uvicorn reads it (the attribute may be dotted).
TARGET_PATTERN = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True)
class Config:
    """`python`: the project's interpreter. The boot command, when it cannot be found in the
    project's files: `target` (`"app.main:app"`), `working_dir` (relative to the project
    root), `app_dir` (uvicorn's `--app-dir`, relative to the working dir) and `factory`. The
    on-disk cache: `cache` (False turns it off) and `cache_dir` (relative to the root)."""

    python: Optional[str] = None
    problems: tuple = ()
    target: Optional[str] = None
    app_dir: Optional[str] = None
    working_dir: Optional[str] = None
    factory: Optional[bool] = None
    cache: Optional[bool] = None
    cache_dir: Optional[str] = None

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
        if has_marker(candidate):
            return candidate
    return folder


def has_marker(folder: Path) -> bool:
    """Whether `folder` holds a project marker (a root `find_root` did not have to guess)."""
    return any((folder / marker).exists() for marker in ROOT_MARKERS)


def load_config(root: Path) -> Config:
    """Read `[tool.flake8-stability]`; a broken file or value is reported, never fatal: a
    wrong value is left out and the others are kept."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return Config()
    try:
        data: Dict[str, Any] = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Config(problems=(f"{pyproject}: not read ({exc})",))
    tool = data.get("tool", {})
    section = tool.get("flake8-stability", {}) if isinstance(tool, dict) else {}
    if not isinstance(section, dict):
        return Config(problems=(f"{pyproject}: [{TABLE}] is not a table",))
    values, problems = _read_section(section)
    return Config(problems=tuple(f"{pyproject}: {problem}" for problem in problems), **values)


# key in pyproject.toml -> (Config field, expected type, what a valid value looks like)
_KEYS: Dict[str, Tuple[str, type, str]] = {
    "python": ("python", str, "a string (the project's interpreter)"),
    "target": ("target", str, "a string like 'app.main:app'"),
    "app-dir": ("app_dir", str, "a string (a folder, relative to the working dir)"),
    "working-dir": ("working_dir", str, "a string (a folder, relative to the project root)"),
    "factory": ("factory", bool, "true or false"),
    "cache": ("cache", bool, "true or false"),
    "cache-dir": ("cache_dir", str, "a string (a folder, relative to the project root)"),
}


def _read_section(section: Dict[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    values: Dict[str, Any] = {}
    problems: List[str] = []
    for key, (name, kind, expected) in _KEYS.items():
        value = section.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is str and not value.strip()):
            problems.append(f"{TABLE}.{key} must be {expected}, not {value!r}; ignored")
        elif key == "target" and not TARGET_PATTERN.fullmatch(value.strip()):
            problems.append(f"{TABLE}.target must look like 'package.module:attribute' "
                            f"(as uvicorn takes it), not {value!r}; ignored")
        else:
            values[name] = value.strip() if kind is str else value
    return values, problems
