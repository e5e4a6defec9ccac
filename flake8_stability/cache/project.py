"""One project's cache: entries keyed by the digest of every input of the run (see
`fingerprint`), plus the inputs outside the project root the run read (declared dependency
files, `.env` files), checked again on every read; and the listing of the project
interpreter's distributions (see `environment`)."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

from .environment import StoredListings
from .fingerprint import FileState, Inputs, file_states, project_inputs
from .store import CacheStore, Warn

if TYPE_CHECKING:
    from ..context import ProjectContext

FOLDER = ".stability_cache"


class ProjectCache:
    def __init__(self, project: "ProjectContext", folder: Path, warn: Optional[Warn] = None,
                 read_only: bool = False) -> None:
        self.project = project
        self.folder = folder
        self.store = CacheStore(folder, warn)
        self.read_only = read_only
        if project.listings is None:  # the interpreter's listing is kept here too
            project.listings = StoredListings(CacheStore(folder), read_only)

    @classmethod
    def open(cls, project: "ProjectContext", warn: Optional[Warn] = None,
             read_only: bool = False) -> Optional["ProjectCache"]:
        """The project's cache, or None when its configuration turns it off."""
        folder = cache_folder(project)
        return cls(project, folder, warn, read_only) if folder is not None else None

    @cached_property
    def inputs(self) -> Inputs:
        project = self.project
        return project_inputs(project.root, project.config, project.environment, self.folder)

    def read(self, name: str, key: Any) -> Optional[Any]:
        """The data stored under `name` for `key` and the current inputs, else None. The cache
        never fails a run: when the inputs cannot be taken stock of, it is a miss."""
        try:
            entry = self.store.read(name, [self.inputs.digest, key])
            if not isinstance(entry, dict) or not isinstance(entry.get("outside"), list):
                return None
            outside = [tuple(state) for state in entry["outside"]]
            if outside != file_states(str(state[0]) for state in outside):
                return None
        except Exception:  # noqa: BLE001 - a cache that cannot be used is only a miss
            return None
        return entry.get("data")

    def write(self, name: str, key: Any, data: Any) -> bool:
        """Store `data`, unless a file changed so recently that its times cannot be trusted."""
        try:
            if self.read_only or not self.inputs.settled:
                return False
            entry = {"outside": self._outside_inputs(), "data": data}
            return self.store.write(name, [self.inputs.digest, key], entry)
        except Exception:  # noqa: BLE001 - a result that cannot be stored is still a result
            return False

    def _outside_inputs(self) -> List[FileState]:
        """Declared dependency files and `.env` files the run read outside the project root."""
        project = self.project
        paths = [*project.declared.files, *project.env_files, *project.layout.env_files]
        root = project.root.resolve()
        return file_states(path for path in (Path(path).resolve() for path in paths)
                           if root not in path.parents)


def cache_folder(project: "ProjectContext") -> Optional[Path]:
    """`cache-dir` (relative to the project root), else `.stability_cache` under the root;
    None when `cache = false`."""
    config = project.config
    if config.cache is False:
        return None
    return project.root / (config.cache_dir or FOLDER)
