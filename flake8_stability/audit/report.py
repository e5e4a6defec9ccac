"""The Audit Report as data: per project, the verdict, the target and interpreter judged, the
findings (paths relative to the project root), the files that could not be read, the import
graph of the project's own modules and the dependency manifest. Every format renders this;
`to_dict()` is the JSON form (schema: docs/report-schema.json)."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .. import __version__
from ..cache.audit import read_part, write_part
from ..context import ProjectContext
from ..dependencies.manifest import build_manifest
from ..engine import FileProblem, ProjectAudit
from ..findings import Category, Finding, Severity
from .graph import ImportGraph, import_graph
from .secrets import Redactor

SCHEMA_VERSION = 1
STACK = ("fastapi", "starlette", "pydantic", "pydantic-settings", "sqlmodel", "sqlalchemy",
         "greenlet", "uvicorn", "asyncpg", "aiosqlite", "psycopg", "psycopg2-binary")


@dataclass
class ProjectReport:
    root: Path
    target: Optional[str]  # "app.main:app", as uvicorn would be given it
    target_origin: str  # where the target was found
    python: Optional[str]  # the judged interpreter's version
    interpreter: str
    environment_error: Optional[str]
    versions: Dict[str, Optional[str]]  # installed versions of the stack
    files: int
    findings: List[Finding]
    problems: List[FileProblem]
    errors: List[str]
    graph: Optional[ImportGraph]
    manifest: Optional[Dict[str, Any]] = None
    boot: Optional[Dict[str, Any]] = None  # `BootResult.to_dict()` when --boot ran

    @property
    def blocking(self) -> int:
        """Blocking findings, but those the boot probe saw the app get past."""
        return sum(1 for f in self.findings
                   if f.severity is Severity.BLOCKING and f.confirmed is not False)

    @property
    def boots(self) -> bool:
        """The verdict: no blocking finding remains, and the boot probe (when it ran) booted."""
        outcome = self.boot.get("outcome") if self.boot else None
        return self.blocking == 0 and outcome in (None, "booted", "not-run")

    def counts(self) -> Dict[str, Dict[str, int]]:
        by_severity = Counter(f.severity.value for f in self.findings)
        by_category = Counter(f.category.value for f in self.findings)
        return {"severity": {s.value: by_severity.get(s.value, 0) for s in Severity},
                "category": {c.value: by_category.get(c.value, 0) for c in Category
                             if by_category.get(c.value)}}

    def grouped(self) -> List[Tuple[Severity, Category, List[Finding]]]:
        """Findings by severity (worst first), then category, in file order."""
        groups: Dict[Tuple[Severity, Category], List[Finding]] = {}
        for finding in self.findings:
            groups.setdefault((finding.severity, finding.category), []).append(finding)
        return [(severity, category, found) for (severity, category), found
                in sorted(groups.items(), key=lambda item: (item[0][0].rank, item[0][1].value))]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "root": str(self.root),
            "verdict": "boots" if self.boots else "does-not-boot",
            "target": self.target,
            "target_origin": self.target_origin,
            "interpreter": {"path": self.interpreter, "python": self.python,
                            "error": self.environment_error},
            "versions": self.versions,
            "files": self.files,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
            "errors": list(self.errors),
            "import_graph": self.graph.to_dict() if self.graph else None,
            "manifest": self.manifest,
            "boot": self.boot,
        }


@dataclass
class Report:
    projects: List[ProjectReport]
    tool_version: str = __version__
    notes: List[str] = field(default_factory=list)  # e.g. what a baseline left out
    exit_code: Optional[int] = None  # the CLI's exit code, once decided (SARIF records it)

    @property
    def boots(self) -> bool:
        return all(project.boots for project in self.projects)

    @property
    def findings(self) -> List[Finding]:
        return [finding for project in self.projects for finding in project.findings]

    def to_dict(self) -> Dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "tool": "flake8-stability",
                "tool_version": self.tool_version, "verdict": "boots" if self.boots
                else "does-not-boot", "notes": list(self.notes),
                "projects": [project.to_dict() for project in self.projects]}


def build_report(results: Sequence[ProjectAudit], *, graph: bool = True) -> Report:
    """The report of audited projects: paths made relative to each root, secrets masked."""
    return Report([_project_report(result, graph) for result in results])


def _project_report(result: ProjectAudit, with_graph: bool) -> ProjectReport:
    project = result.project
    environment = project.environment
    layout = project.layout
    target = layout.target
    redactor = Redactor.for_project(project)
    root = result.root
    findings = [redactor.finding(_relative_finding(finding, root)) for finding in result.findings]
    return ProjectReport(
        root=root,
        target=f"{target.module}:{target.attribute}" if target else None,
        target_origin=target.origin if target else "no ASGI target found",
        python=environment.python,
        interpreter=project.config.interpreter(root),
        environment_error=environment.error,
        versions={name: environment.distributions.get(name) for name in STACK},
        files=len(result.files),
        findings=findings,
        problems=[FileProblem(_relative(p.path, root), redactor.text(p.message))
                  for p in result.problems],
        errors=[redactor.text(error) for error in result.errors],
        graph=_graph(result) if with_graph else None,
        manifest=_cached(result, "manifest", lambda: _manifest(project, root)),
    )


def _graph(result: ProjectAudit) -> ImportGraph:
    data = _cached(result, "graph", lambda: import_graph(result.project.model).to_dict())
    try:
        return ImportGraph.from_dict(data)
    except (KeyError, TypeError, ValueError):  # an entry this version cannot read
        return import_graph(result.project.model)


def _cached(result: ProjectAudit, part: str,
            build: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
    """A part of the report computed from the whole project, from the cache when none of its
    inputs changed."""
    cached = read_part(result.cache, part) if result.cache else None
    if cached is not None:
        return cached
    data = build()
    if result.cache:
        write_part(result.cache, part, data)
    return data


def _manifest(project: ProjectContext, root: Path) -> Dict[str, Any]:
    """The dependency manifest, its file paths relative to the root."""
    data = build_manifest(project.declared, project.environment).to_dict()
    for entry in data["entries"]:
        for spec in entry["declared"]:
            spec["path"] = _relative(spec["path"], root)
    data["files"] = [_relative(path, root) for path in data["files"]]
    return data


def _relative_finding(finding: Finding, root: Path) -> Finding:
    related = tuple(replace(loc, path=_relative(loc.path, root)) for loc in finding.related)
    return replace(finding, path=_relative(finding.path, root), related=related)


def _relative(path: str, root: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        return Path(absolute).relative_to(root).as_posix()
    except ValueError:
        return absolute
