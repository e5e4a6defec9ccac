"""Secrets stay secret: every text of a report passes through a `Redactor` that masks URL
passwords and any value found in the project's `.env` files (templates included — their values
are often real). Keys stay visible; values are shown as `***`. A URL value is masked like any
URL (its password), so a report can still say which driver or host it names."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, List, Tuple

from ..analysis.urls import redact
from ..findings import Finding, Fix

if TYPE_CHECKING:
    from ..context import ProjectContext

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=\s*(?P<value>.*)$")
_MIN_SECRET = 4  # shorter values ("1", "dev", "true") are not worth masking and mask too much
_UNQUOTED_COMMENT = re.compile(r"\s+#.*$")
_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Redactor:
    values: Tuple[str, ...] = ()  # longest first, so a value containing another is masked whole

    @classmethod
    def for_project(cls, project: "ProjectContext") -> "Redactor":
        files = sorted(project.root.glob(".env*")) + list(project.env_files)
        return cls.of_values(value for path in dict.fromkeys(files) for value in _values(path))

    @classmethod
    def of_values(cls, values: Iterable[str]) -> "Redactor":
        kept = {value for value in values if len(value) >= _MIN_SECRET}
        return cls(tuple(sorted(kept, key=len, reverse=True)))

    def text(self, text: str) -> str:
        masked = redact(text)
        for value in self.values:
            masked = masked.replace(value, "***")
        return masked

    def finding(self, finding: Finding) -> Finding:
        fix = Fix(self.text(finding.fix.description), finding.fix.codemod, finding.fix.safe)
        related = tuple(replace(loc, note=self.text(loc.note)) for loc in finding.related)
        return replace(finding, message=self.text(finding.message),
                       root_cause=self.text(finding.root_cause), fix=fix, related=related)


def _values(path: Path) -> List[str]:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return []
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line)
        if match is None:
            continue
        value = match.group("value").strip()
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1]
        else:
            value = _UNQUOTED_COMMENT.sub("", value)
        if value and "://" not in value:
            found.append(value)
    return found
