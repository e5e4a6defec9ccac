"""What stability-fix did to one file: its bytes before and after, the fixes applied, the
findings skipped and why. The Python driver (`apply.py`) and the requirement-file driver
(`text_apply.py`) both produce these."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..findings import Finding
from .codemod import FileCreation

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Skip:
    """A finding whose fix was not applied, and why."""

    finding: Finding
    codemod: str
    reason: str


@dataclass(frozen=True)
class Applied:
    """A codemod that changed the file, the findings it fixed, and its notes for the user."""

    codemod: str
    safe: bool
    findings: Tuple[Finding, ...]
    notes: Tuple[str, ...] = ()


@dataclass
class FileFix:
    """One file: its bytes before and after, the codemods applied, the findings skipped, and a
    problem when the whole file was skipped (unreadable, undecodable, unparsable)."""

    path: str
    before: bytes
    after: bytes
    applied: List[Applied] = field(default_factory=list)
    skipped: List[Skip] = field(default_factory=list)
    problem: Optional[str] = None
    created: List[FileCreation] = field(default_factory=list)  # new files the fixes need

    @property
    def changed(self) -> bool:
        return self.after != self.before or bool(self.created)


def skip_all(fix: FileFix, by_codemod: Dict[str, List[Finding]], reason: str) -> FileFix:
    fix.skipped.extend(Skip(f, name, reason) for name, findings in by_codemod.items()
                       for f in findings)
    return fix
