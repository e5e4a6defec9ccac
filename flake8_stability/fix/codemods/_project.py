"""What codemods must know about the rest of the project before editing one file."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from ...config import find_root
from ...project.files import python_files


def other_file_matching(path: Path, pattern: re.Pattern) -> Optional[str]:
    """Another Python file of `path`'s project whose text matches `pattern`, relative to the
    project root (None when there is none)."""
    path = path.resolve()
    root = find_root(path)
    for other in python_files(root)[0]:
        other = Path(other).resolve()
        if other == path:
            continue
        try:
            text = other.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if pattern.search(text):
            return str(other.relative_to(root))
    return None
