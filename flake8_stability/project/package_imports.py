"""Where the project imports an installed package, and how bad it is when that import fails:
the lines a dependency finding is mirrored onto in flake8 (issue 4, point 5)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, List, Tuple

from ..findings import Location, Severity
from .model import ModuleInfo, ProjectModel
from .reach import import_severity, loaded_at_boot
from .resolve import INSTALLED
from .summary import ImportRecord

_RANK = {Severity.BLOCKING: 0, Severity.RUNTIME: 1, Severity.WARNING: 2}


@dataclass(frozen=True)
class ImportSite:
    """One import statement of the package, with the severity of its failure there."""

    info: ModuleInfo
    record: ImportRecord
    severity: Severity

    def location(self, note: str = "") -> Location:
        return Location(str(self.info.path), self.record.line, self.record.col, note)


def imported_names(record: ImportRecord) -> Tuple[str, ...]:
    """The dotted names an absolute import loads: `a.b` and, for `from a.b import c`, `a.b.c`
    (which may be a submodule)."""
    return (record.module, *(f"{record.module}.{name}" for name, _ in record.names))


def import_sites(model: ProjectModel, wanted: Callable[[str], bool]) -> List[ImportSite]:
    """Every import of an installed module for which `wanted(dotted name)` holds, most severe
    first (blocking at boot, then in functions, then elsewhere), then by file and line; imports
    whose failure is handled (TYPE_CHECKING, try/except ImportError) are left out."""
    boot = loaded_at_boot(model)
    sites: List[ImportSite] = []
    for info in model:
        summary = info.summary
        for record in summary.imports if summary is not None else ():
            if record.level or not any(wanted(name) for name in imported_names(record)):
                continue
            if model.resolve(record.module.split(".")[0]).kind != INSTALLED:
                continue
            severity = import_severity(info, record, boot)
            if severity is not None:
                sites.append(ImportSite(info, record, severity))
    return sorted(sites, key=lambda s: (_RANK[s.severity], str(s.info.path), s.record.line))


def package_sites(model: ProjectModel, tops: Iterable[str]) -> List[ImportSite]:
    """The imports of any of the top-level modules `tops` (see `import_sites`)."""
    names = frozenset(tops)
    return import_sites(model, lambda dotted: dotted.split(".")[0] in names)


def milder(first: Severity, second: Severity) -> Severity:
    """The less severe of two severities."""
    return max(first, second, key=lambda severity: _RANK[severity])


def severest(severities: Iterable[Severity]) -> Severity:
    """The most severe of some severities."""
    return min(severities, key=lambda severity: _RANK[severity])
