"""The cache folder: JSON entries written atomically (a temp file, then `os.replace`), read
tolerantly (a missing, corrupt, truncated or foreign entry is a miss, never an exception), and
pruned so it cannot grow without bound. A folder that cannot be created or written turns the
cache off for the run: `warn` hears about it once."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

FORMAT = 1  # bump when the layout of an entry changes
CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by flake8-stability.\n"
                "# For information about cache directory tags see https://bford.info/cachedir/\n")
Warn = Callable[[str], None]


class CacheStore:
    """Entries under `folder`, each a JSON object `{"format", "key", "data"}`: `key` is
    everything the data was computed from, and a read hits only when the key is equal."""

    def __init__(self, folder: Path, warn: Optional[Warn] = None) -> None:
        self.folder = folder
        self._warn = warn
        self._usable: Optional[bool] = None

    def read(self, name: str, key: Any) -> Optional[Any]:
        """The data stored under `name` for exactly `key`, else None."""
        try:
            with open(self.folder / name, "r", encoding="utf-8") as stream:
                entry = json.load(stream)
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        return entry.get("data")

    def write(self, name: str, key: Any, data: Any) -> bool:
        """Store `data` under `name` atomically; concurrent writers of one entry are safe (the
        last `os.replace` wins, and readers see a whole entry or none)."""
        target = self.folder / name
        if not self._ready(target.parent):
            return False
        text = json.dumps({"format": FORMAT, "key": key, "data": data}, separators=(",", ":"))
        try:
            _write_atomically(target, text)
        except OSError as exc:
            self._disable(exc)
            return False
        return True

    def prune(self, subfolder: str, keep: int) -> None:
        """Remove the oldest entries of `subfolder` beyond the `keep` most recently written."""
        folder = self.folder / subfolder
        try:
            with os.scandir(folder) as found:
                entries = [(entry.stat().st_mtime_ns, entry.path) for entry in found
                           if entry.name.endswith(".json") and entry.is_file()]
        except OSError:
            return
        for _, path in sorted(entries, reverse=True)[keep:]:
            _remove(Path(path))

    def _ready(self, folder: Path) -> bool:
        if self._usable is False:
            return False
        if self._usable is None:
            self._usable = self._create()
            if not self._usable:
                return False
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._disable(exc)
            return False
        return True

    def _create(self) -> bool:
        """The folder, with a `.gitignore` that ignores it all and a `CACHEDIR.TAG`."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for name, text in ((".gitignore", "*\n"), ("CACHEDIR.TAG", CACHEDIR_TAG)):
                path = self.folder / name
                if not path.exists():
                    _write_atomically(path, text)
        except OSError as exc:
            self._disable(exc)
            return False
        return True

    def _disable(self, exc: OSError) -> None:
        if self._usable is not False and self._warn is not None:
            self._warn(f"cache disabled: cannot write {self.folder} "
                       f"({exc.strerror or type(exc).__name__})")
        self._usable = False


def _write_atomically(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, path)
    except OSError:
        _remove(Path(temp))
        raise


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def entry_name(*parts: str) -> str:
    """A file name for the entry identified by `parts` (a root, codes, a path...)."""
    return digest(*parts)[:32] + ".json"


def digest(*parts: str) -> str:
    """A stable hash of `parts`."""
    joined = "\0".join(parts).encode("utf-8", "surrogateescape")
    return hashlib.blake2b(joined, digest_size=20).hexdigest()
