"""Secrets stay secret: every text of a report passes through a `Redactor` that masks URL
passwords and any value found in the project's `.env` files (templates included — their values
are often real). Keys stay visible; values are shown as `***`. A URL value is masked like any
URL (its password), so a report can still say which driver or host it names."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, List, Tuple

from ..analysis.urls import redact
from ..findings import Finding
from ..project.env_sources import read_env_file

if TYPE_CHECKING:
    from ..context import ProjectContext

_MIN_SECRET = 4  # shorter values ("1", "dev", "true") are not worth masking and mask too much


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
        fix = replace(finding.fix, description=self.text(finding.fix.description),
                      data={key: self.text(value) for key, value in finding.fix.data.items()})
        related = tuple(replace(loc, note=self.text(loc.note)) for loc in finding.related)
        return replace(finding, message=self.text(finding.message),
                       root_cause=self.text(finding.root_cause), fix=fix, related=related)


def _values(path: Path) -> List[str]:
    """The values a `.env` file sets, read with the project's dotenv parser (URLs left out: their
    passwords are masked like any URL's)."""
    parsed = read_env_file(path)
    if parsed is None:
        return []
    return [entry.value for entry in parsed.entries if entry.value and "://" not in entry.value]
