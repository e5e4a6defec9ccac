"""The project interpreter's listing of installed distributions (the probe's JSON), kept
between runs. It is reused while this tool, the interpreter's file and every folder on the
interpreter's `sys.path` are unchanged: installing, upgrading or removing a distribution adds
or removes entries in site-packages, which changes that folder's mtime. Limit: a `.pth` file or
a distribution's metadata edited in place, without adding or removing a file, is not seen."""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Dict, List, Optional

from ..environment import is_running_interpreter
from .fingerprint import RACY_SECONDS, FileState, file_states, tool_digest
from .store import CacheStore, entry_name

ENVIRONMENTS = "environment"
KEEP = 16


class StoredListings:
    """`environment.Listings` in the cache folder, one entry per interpreter."""

    def __init__(self, store: CacheStore, read_only: bool = False) -> None:
        self.store = store
        self.read_only = read_only

    def read(self, interpreter: str) -> Optional[Dict[str, Any]]:
        entry = self.store.read(_name(interpreter), _key(interpreter))
        if not isinstance(entry, dict) or not isinstance(entry.get("listing"), dict):
            return None
        folders = [tuple(state) for state in entry.get("folders", ())]
        if folders != _folder_states(entry["listing"]):
            return None
        return entry["listing"]

    def write(self, interpreter: str, data: Dict[str, Any]) -> None:
        if self.read_only:
            return
        folders = _folder_states(data)
        recent = time.time_ns() - int(RACY_SECONDS * 1e9)
        if any(max(mtime, ctime) >= recent for _, _, mtime, ctime in folders):
            return  # being installed into right now: its times cannot be trusted yet
        if self.store.write(_name(interpreter), _key(interpreter),
                            {"folders": folders, "listing": data}):
            self.store.prune(ENVIRONMENTS, KEEP)


def _name(interpreter: str) -> str:
    return f"{ENVIRONMENTS}/{entry_name(os.path.abspath(interpreter))}"


def _key(interpreter: str) -> List[Any]:
    """The tool, the interpreter's file, and (when it is the running one, listed in-process)
    this process's `sys.path`, which decides what is importable."""
    path = os.path.abspath(interpreter)
    running = list(sys.path) if is_running_interpreter(interpreter) else None
    return [tool_digest(), list(file_states([path])[0]), running]


def _folder_states(listing: Dict[str, Any]) -> List[FileState]:
    folders = listing.get("path")
    if not isinstance(folders, list):
        return []
    return file_states([os.path.abspath(folder) for folder in folders if isinstance(folder, str)])
