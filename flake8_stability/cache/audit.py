"""The audit's entries: what one run of the engine found in a project for one selection of
rules and files (findings, files that could not be used; a run in which a rule failed is not
stored), and the parts of the report computed from the whole project (its import graph, its
dependency manifest)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..findings import Finding
from .project import ProjectCache
from .store import digest, entry_name

RUNS, PARTS = "audit", "report"
KEEP = 32  # runs kept: one per recent (root, selection, files); parts: a few per root


@dataclass
class AuditRecord:
    findings: List[Finding]
    problems: List[Tuple[str, str]]  # (path, message) of files that could not be used


def read_audit(cache: ProjectCache, rules: Sequence[str],
               files: Sequence[str]) -> Optional[AuditRecord]:
    data = cache.read(_run_name(cache, rules, files), _run_key(rules, files))
    try:
        return AuditRecord([Finding.from_dict(found) for found in data["findings"]],
                           [(path, message) for path, message in data["problems"]])
    except (TypeError, KeyError, ValueError, AttributeError):
        return None  # no entry, or one this version cannot read


def write_audit(cache: ProjectCache, rules: Sequence[str], files: Sequence[str],
                record: AuditRecord) -> None:
    data = {"findings": [finding.to_dict() for finding in record.findings],
            "problems": [list(problem) for problem in record.problems]}
    if cache.write(_run_name(cache, rules, files), _run_key(rules, files), data):
        cache.store.prune(RUNS, KEEP)


def read_part(cache: ProjectCache, part: str) -> Optional[Dict[str, Any]]:
    """A part of the report (`"graph"`, `"manifest"`) as stored for the current inputs."""
    data = cache.read(_part_name(cache, part), part)
    return data if isinstance(data, dict) else None


def write_part(cache: ProjectCache, part: str, data: Dict[str, Any]) -> None:
    if cache.write(_part_name(cache, part), part, data):
        cache.store.prune(PARTS, KEEP)


def _run_name(cache: ProjectCache, rules: Sequence[str], files: Sequence[str]) -> str:
    return f"{RUNS}/{entry_name(str(cache.project.root), _run_key(rules, files))}"


def _run_key(rules: Sequence[str], files: Sequence[str]) -> str:
    return digest(*rules, "", *files)


def _part_name(cache: ProjectCache, part: str) -> str:
    return f"{PARTS}/{entry_name(str(cache.project.root), part)}"
