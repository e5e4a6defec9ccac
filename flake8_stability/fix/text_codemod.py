"""The text codemod: one mechanical fix to a requirement file (`requirements*.txt`, the PEP 621 /
PEP 735 arrays of `pyproject.toml`), for findings whose fix is a dependency change (SBA2xx).

Such findings usually point at Python code (the import that fails); a text codemod finds the
line that declares the dependency in the project's declared dependencies and plans `TextEdit`s
on it: rewrite the requirement written there (add an extra, an upper bound) or add a new
requirement after it. It never guesses: when the project declares its dependencies nowhere, in
several files, or in a form it cannot edit safely (Poetry tables, setup.cfg, a URL
requirement), the plan is a reason instead of edits. Text codemods register by name with the
libcst codemods, so `Fix.codemod`, the docs and `--select/--ignore/--unsafe` treat them alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence, Tuple, Union

from libcst.metadata import MetadataWrapper

from ..findings import Finding
from .codemod import Codemod, Outcome, Target
from .requirement_text import AddExtra, AddUpperBound

if TYPE_CHECKING:
    from ..context import ProjectContext

Rewrite = Union[AddExtra, AddUpperBound]


@dataclass(frozen=True)
class TextEdit:
    """One edit of the requirement for `name` written on `line` (1-based) of the file at `path`:
    rewrite it (`rewrite`), or add the requirement `insert` right after it."""

    path: str
    line: int
    name: str
    rewrite: Optional[Rewrite] = None
    insert: Optional[str] = None


@dataclass(frozen=True)
class Plan:
    """What a text codemod will do for one finding: edits and notes, or why it does nothing."""

    edits: Tuple[TextEdit, ...] = ()
    notes: Tuple[str, ...] = ()
    reason: str = ""

    @classmethod
    def skip(cls, reason: str) -> "Plan":
        return cls(reason=reason)


class TextCodemod(Codemod):
    """Subclasses set `name`, `codes`, `safe` and `summary`, and implement `plan`."""

    def plan(self, finding: Finding, project: "ProjectContext") -> Plan:
        raise NotImplementedError

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        raise TypeError(f"{self.name} edits requirement files, not Python code: use plan()")
