"""The flake8 door's entries: what the plugin reported for one file, for exactly its text and
the set of rules that ran, while the project's inputs are unchanged. One entry per file, so
flake8's `--jobs` workers, each linting its own files, never write the same entry with
different content."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from .project import ProjectCache
from .store import digest, entry_name

LINT = "lint"
Reported = Tuple[int, int, str]  # line, column, flake8 text
_pruned: List[str] = []  # cache folders pruned by this process


class LintEntry:
    def __init__(self, cache: ProjectCache, codes: Sequence[str], path: str, text: str) -> None:
        self.cache = cache
        rules = digest(*codes)
        self.name = f"{LINT}/{entry_name(str(cache.project.root), rules, path)}"
        self.key = [rules, path, digest(text)]

    def read(self) -> Optional[List[Reported]]:
        data = self.cache.read(self.name, self.key)
        if not isinstance(data, list):
            return None
        try:
            return [(int(line), int(col), str(text)) for line, col, text in data]
        except (TypeError, ValueError):
            return None

    def write(self, reported: Sequence[Reported]) -> None:
        cache = self.cache
        if cache.write(self.name, self.key, [list(item) for item in reported]):
            if str(cache.folder) not in _pruned:  # once per process: entries of gone files
                _pruned.append(str(cache.folder))
                cache.store.prune(LINT, 2 * cache.inputs.files + 100)
