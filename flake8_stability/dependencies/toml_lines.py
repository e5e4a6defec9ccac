"""Line numbers in TOML text, which `tomllib` does not give: the line of a table's header, of
a key inside a table, and of a string item of an array under a key."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

TOMLDecodeError = tomllib.TOMLDecodeError
loads = tomllib.loads


def dotted(key: str) -> Tuple[str, ...]:
    """`tool.poetry.group."dev".dependencies` -> its parts, quotes and spaces removed."""
    parts: List[str] = []
    current, quote = "", ""
    for char in key:
        if quote:
            if char == quote:
                quote = ""
            else:
                current += char
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return tuple(parts)


class TomlLines:
    """Where tables, keys and array items are written in one TOML document."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: List[Tuple[int, Tuple[str, ...]]] = []  # (0-based index, table path)
        for index, line in enumerate(self.lines):
            stripped = line.strip()
            if stripped.startswith("["):
                inner = stripped.lstrip("[").split("]")[0]
                self.headers.append((index, dotted(inner)))

    def header(self, table: Sequence[str], nth: int = 0) -> Optional[int]:
        """The 1-based line of the `nth` header `[table]` / `[[table]]`."""
        found = [index for index, path in self.headers if path == tuple(table)]
        return found[nth] + 1 if nth < len(found) else None

    def key(self, table: Sequence[str], key: str, nth: int = 0) -> Optional[int]:
        """The line of `key` in `[table]`: its own header `[table.key]`, or `key = ...` (also
        written as a dotted key in a parent table)."""
        own = self.header((*table, key))
        if own is not None:
            return own
        for depth in range(len(table), -1, -1):
            start = self.header(table[:depth], nth) if depth else 0
            if start is None:
                continue
            rest = tuple(table[depth:]) + (key,)
            for index in range(start, self._end(start)):
                if self._assigns(self.lines[index], rest):
                    return index + 1
        return None

    def item(self, table: Sequence[str], key: str, text: str, nth: int = 0) -> Optional[int]:
        """The line of the string `text` in the array under `key` (else the key's line)."""
        start = self.key(table, key, nth)
        if start is None:
            return None
        for index in range(start - 1, self._end(start)):
            line = self.lines[index]
            if f'"{text}"' in line or f"'{text}'" in line:
                return index + 1
        return start

    def _end(self, start: int) -> int:
        """The 0-based index where the section holding 1-based line `start` ends."""
        later = [index for index, _ in self.headers if index >= start]
        return later[0] if later else len(self.lines)

    @staticmethod
    def _assigns(line: str, key: Tuple[str, ...]) -> bool:
        name, equals, _ = line.partition("=")
        return bool(equals) and not name.strip().startswith("#") and dotted(name) == key
