"""Database URLs as SQLAlchemy reads them: dialect, driver, in-memory or not, query options.
Every URL shown to a user goes through `redact` first."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Optional
from urllib.parse import parse_qsl

from packaging.version import Version

from ..knowledge import dialects
from .values import StrValue

_SCHEME = re.compile(r"^(?P<dialect>[A-Za-z][A-Za-z0-9_]*)(?:\+(?P<driver>[A-Za-z0-9_]+))?://")
# As SQLAlchemy reads a URL: the password runs from the first ':' after the user name to the
# next '@', and may hold '/', spaces and quotes. Over-masking is harmless; a leak is not.
_PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.\-]*://[^:/\s]*:)(?P<secret>[^@\n]*)(?P<tail>@)")


def redact(text: str) -> str:
    """Mask the password of every URL in `text`."""
    return _PASSWORD.sub(lambda m: m.group("head") + "***" + m.group("tail"), text)


@dataclass(frozen=True)
class DatabaseURL:
    value: StrValue
    dialect: str
    driver: Optional[str]  # as written after '+', None for a bare scheme

    @classmethod
    def parse(cls, value: Optional[StrValue]) -> Optional["DatabaseURL"]:
        if value is None:
            return None
        match = _SCHEME.match(value.text)
        if match is None:
            return None
        return cls(value, match.group("dialect").lower(), match.group("driver"))

    @property
    def scheme(self) -> str:
        return self.dialect + (f"+{self.driver}" if self.driver else "")

    def shown(self) -> str:
        """The URL for messages: redacted, and marked when only its start is known."""
        text = redact(self.value.text)
        return text if self.value.complete else text + "…"

    def effective_driver(self, sa_version: Optional[Version]) -> Optional[str]:
        return self.driver or dialects.default_driver(self.dialect, sa_version)

    @property
    def memory(self) -> Optional[bool]:
        """For SQLite: True for an in-memory database, False for a file, None if unknown."""
        if self.dialect != "sqlite":
            return False
        rest = self.value.text[len(self.scheme) + len("://"):]
        if not self.value.complete:
            path = rest[1:] if rest.startswith("/") else None
            if path is None or not path or path.startswith((":memory:", "file::memory:")):
                return None if not path else True
            return False
        path = rest[1:] if rest.startswith("/") else rest
        path = path.split("?", 1)[0]
        return path in ("", ":memory:") or path.startswith("file::memory:") or "mode=memory" in rest

    def query(self) -> Optional[Dict[str, str]]:
        """Query options, when the query part is fully known."""
        text = self.value.text
        if "?" not in text:
            return {} if self.value.complete else None
        if not self.value.complete:
            return None
        return dict(parse_qsl(text.split("?", 1)[1], keep_blank_values=True))
