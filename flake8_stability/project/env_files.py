"""Variables that `.env` files of the project set. A settings default or an `os.getenv` default
is only the value when nothing sets the variable; where a `.env` file does, the value is not
known statically (which file is loaded at boot is the config rules' business)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Iterable, Optional, Tuple

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", re.MULTILINE)
_MAX_BYTES = 1_000_000


_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".tmpl")


def is_template(path: Path) -> bool:
    """`.env.example` and its kin document variables; nothing loads them."""
    return path.name.lower().endswith(_TEMPLATE_SUFFIXES)


def env_file_candidates(folders: Iterable[Path], listed: Iterable[Path] = ()) -> Tuple[Path, ...]:
    """`.env*` files directly in `folders` (not templates such as `.env.example`), and the
    files a boot command names, each once."""
    found = []
    for folder in folders:
        try:
            found.extend(sorted(p for p in folder.glob(".env*")
                                if p.is_file() and not is_template(p)))
        except OSError:
            continue
    found.extend(path for path in listed if path.is_file())
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=64)
def _variables(path: Path, size: int, mtime: float) -> FrozenSet[str]:
    del mtime  # part of the cache key only
    if size > _MAX_BYTES:
        return frozenset()
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return frozenset()
    return frozenset(match.group(1).upper() for match in _ASSIGNMENT.finditer(text))


def setting_file(files: Tuple[Path, ...], variable: str) -> Optional[Path]:
    """The first file of `files` that sets `variable` (case-insensitively, as pydantic-settings
    reads it), if any."""
    wanted = variable.upper()
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        if wanted in _variables(path, stat.st_size, stat.st_mtime):
            return path
    return None
