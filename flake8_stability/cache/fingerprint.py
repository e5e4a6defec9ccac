"""What a cached result was computed from, as one digest: the tool (its version and its own
files, the Python running it), the project's configuration, the judged interpreter's installed
distributions, and every file under the project root by (path, size, mtime_ns, ctime_ns).

The ctime also changes when a tool rewrites a file and restores its mtime (it cannot be set),
or changes its permissions. Limit: a file modified less than `RACY_SECONDS` before the run may
change again within the file system's timestamp granularity without its times changing, so a
run that saw such a file stores nothing (as git treats "racily clean" entries)."""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, List, Optional, Tuple, Union

from .. import __version__
from ..config import Config
from ..environment import Environment
from .store import digest

RACY_SECONDS = 2.0
# Never inputs of a finding: version control data, bytecode and other tools' caches. Folders
# holding `pyvenv.cfg` (virtual environments) are skipped too: the environment's own digest
# covers what is installed.
NOT_INPUTS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".tox", ".nox",
                        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
                        ".stability_cache"})
FileState = Tuple[str, int, int, int]  # (path, size, mtime_ns, ctime_ns); -1s when missing


@dataclass(frozen=True)
class Inputs:
    digest: str
    newest_mtime_ns: int  # the most recent change among the project's files
    files: int
    taken_ns: int  # when the files were looked at

    @property
    def settled(self) -> bool:
        """Whether every file was last modified long enough before the run to be trusted."""
        return self.newest_mtime_ns < self.taken_ns - int(RACY_SECONDS * 1e9)


def project_inputs(root: Path, config: Config, environment: Environment,
                   cache_folder: Optional[Path]) -> Inputs:
    taken = time.time_ns()
    states = list(tree_states(root, cache_folder))
    newest = max((max(mtime, ctime) for _, _, mtime, ctime in states), default=0)
    settings = repr(replace(config, cache=None, cache_dir=None))
    text = json.dumps([tool_digest(), str(root), settings, environment_digest(environment),
                       states], separators=(",", ":"))
    return Inputs(digest(text), newest, len(states), taken)


def tree_states(root: Path, skipped: Optional[Path] = None) -> Iterator[FileState]:
    """(path relative to `root`, size, mtime_ns, ctime_ns) of every file under `root`, in a
    stable order; symlinked files by their target, symlinked folders not followed."""
    skip = os.path.abspath(skipped) if skipped else None
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in NOT_INPUTS
                         and os.path.join(folder, d) != skip
                         and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
        for name in sorted(names):
            path = os.path.join(folder, name)
            if path == skip:  # the cache's own place, whatever is there
                continue
            yield (os.path.relpath(path, root),) + _stat(path)[1:]  # type: ignore[return-value]


def file_states(paths: Iterable[Union[str, Path]]) -> List[FileState]:
    """The states of files (or folders) given by absolute path, sorted by path."""
    return [_stat(path) for path in sorted({str(path) for path in paths})]


def _stat(path: str) -> FileState:
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return (path, -1, -1, -1)
    return (path, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def environment_digest(environment: Environment) -> str:
    return digest(json.dumps(asdict(environment), default=_sorted, sort_keys=True))


def _sorted(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(type(value).__name__)


@lru_cache(maxsize=1)
def tool_digest() -> str:
    """This tool's version, its own files (an edited rule changes its findings) and the Python
    running it (which decides what `ast` parses)."""
    package = Path(__file__).resolve().parent.parent
    states = [state for state in tree_states(package) if not state[0].endswith(".pyc")]
    return digest(json.dumps([__version__, sys.version, sys.executable, states]))
