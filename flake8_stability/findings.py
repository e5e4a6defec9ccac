"""The data every door consumes: findings, their severities and categories."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, Mapping, Optional, Tuple


class Severity(str, enum.Enum):
    """How bad a finding is, from the user's point of view."""

    BLOCKING = "blocking"  # import or boot fails
    RUNTIME = "runtime"  # first request or first DB use fails
    WARNING = "warning"  # works, but wrong or fragile

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.BLOCKING: 0, Severity.RUNTIME: 1, Severity.WARNING: 2}


class Category(str, enum.Enum):
    BOOT = "boot"
    IMPORTS = "imports"
    DEPENDENCIES = "dependencies"
    DATABASE = "database"
    APP = "app"
    CONFIG = "config"
    STRUCTURE = "structure"


@dataclass(frozen=True)
class Location:
    """Another place that takes part in a finding (a hop of a cycle, the engine's definition...)."""

    path: str
    line: int
    col: int = 0
    note: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {"path": self.path, "line": self.line, "col": self.col, "note": self.note}


class FixData(Mapping[str, str]):
    """A read-only `{name: text}` mapping that hashes and pickles like the finding holding it."""

    __slots__ = ("_items",)

    def __init__(self, items: "Mapping[str, str] | Iterable[Tuple[str, str]]" = ()) -> None:
        self._items: Dict[str, str] = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FixData({self._items!r})"


@dataclass(frozen=True)
class Fix:
    """How to fix a finding: text for humans, the codemod that makes the exact edit, and the
    facts that codemod needs (`data`: names, keys, folders; read-only), so that it never parses
    the human text."""

    description: str
    codemod: Optional[str] = None
    safe: bool = True
    data: Mapping[str, str] = field(default_factory=FixData)

    def __post_init__(self) -> None:
        if not isinstance(self.data, FixData):
            object.__setattr__(self, "data", FixData(self.data))

    def to_dict(self) -> Dict[str, Any]:
        fields: Dict[str, Any] = {"description": self.description, "codemod": self.codemod,
                                  "safe": self.safe}
        if self.data:
            fields["data"] = dict(self.data)
        return fields


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    category: Category
    path: str
    line: int
    col: int
    message: str
    root_cause: str
    fix: Fix
    related: Tuple[Location, ...] = field(default_factory=tuple)
    confirmed: Optional[bool] = None

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "category": self.category.value,
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "message": self.message,
            "root_cause": self.root_cause,
            "fix": self.fix.to_dict(),
            "related": [loc.to_dict() for loc in self.related],
        }
        if self.confirmed is not None:
            data["confirmed"] = self.confirmed
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Finding":
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            category=Category(data["category"]),
            path=data["path"],
            line=data["line"],
            col=data["col"],
            message=data["message"],
            root_cause=data["root_cause"],
            fix=Fix(**data["fix"]),
            related=tuple(Location(**loc) for loc in data.get("related", ())),
            confirmed=data.get("confirmed"),
        )

    def flake8_text(self) -> str:
        """The one line flake8 prints after the position."""
        return f"{self.code} {self.message} [{self.severity.value}]"
