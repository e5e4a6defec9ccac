"""The terminal report: the verdict first, then findings by severity and category with the
problem, root cause and fix of each, then the import graph and unreadable files. Colour only
when asked (on a TTY)."""
from __future__ import annotations

import textwrap
from typing import List, Set

from ...findings import Finding, Severity
from ..graph import ImportGraph
from ..report import ProjectReport, Report
from .manifest import COLUMNS, manifest_rows

_COLOURS = {Severity.BLOCKING: "\033[31;1m", Severity.RUNTIME: "\033[33;1m",
            Severity.WARNING: "\033[36m"}
_RESET = "\033[0m"
_WIDTH = 100
_BOOT_MARKS = {True: " [confirmed by the boot]", False: " [not seen at boot]"}


def render_text(report: Report, colour: bool = False) -> str:
    lines: List[str] = []
    for project in report.projects:
        lines.extend(_project(project, colour))
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines).rstrip("\n") + "\n"


def _project(project: ProjectReport, colour: bool) -> List[str]:
    counts = project.counts()["severity"]
    verdict = ("will boot" if project.boots else "will NOT boot")
    lines = [f"flake8-stability audit of {project.root}",
             f"  target       {project.target or 'none found'} ({project.target_origin})",
             f"  interpreter  {project.interpreter} (Python {project.python or 'unknown'})"
             + (f": {project.environment_error}" if project.environment_error else ""),
             "  versions     " + ", ".join(
                 f"{name} {version}" for name, version in project.versions.items() if version),
             f"  verdict      {verdict}: {counts['blocking']} blocking, {counts['runtime']} "
             f"runtime, {counts['warning']} warning in {project.files} files"]
    if project.boot is not None:
        lines.append(f"  boot probe   {project.boot['summary']} (it ran the app's code)")
    lines.append("")
    for severity, category, findings in project.grouped():
        lines.append(_paint(f"{severity.value.upper()} — {category.value}", severity, colour))
        for finding in findings:
            lines.extend(_finding(finding, colour))
        lines.append("")
    if project.graph is not None and project.graph.entry:
        lines.append("Import graph (imports that run at boot, from the target)")
        lines.extend(_tree(project.graph))
        lines.append("")
    lines.extend(_manifest(project))
    if project.problems:
        lines.append("Problems with the project's files")
        lines.extend(f"  {problem.path}: {problem.message}" for problem in project.problems)
        lines.append("")
    if project.errors:
        lines.append("Internal errors (these rules' findings are missing)")
        lines.extend(f"  {error}" for error in project.errors)
        lines.append("")
    return lines


def _manifest(project: ProjectReport) -> List[str]:
    rows = manifest_rows(project.manifest)
    if rows is None:
        return []
    widths = [max([len(title)] + [len(row[key]) for row in rows]) for key, title in COLUMNS]
    table = [[title for _, title in COLUMNS]] + [[row[key] for key, _ in COLUMNS] for row in rows]
    return (["Dependency manifest"]
            + ["  " + "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()
               for cells in table] + [""])


def _finding(finding: Finding, colour: bool) -> List[str]:
    head = _paint(f"{finding.code}", finding.severity, colour)
    lines = [f"  {finding.path}:{finding.line}:{finding.col + 1}: {head} {finding.message}"
             + _BOOT_MARKS.get(finding.confirmed, "")]
    lines.extend(_wrapped("why", finding.root_cause))
    lines.extend(_wrapped("fix", finding.fix.description))
    for location in finding.related:
        note = f" — {location.note}" if location.note else ""
        lines.append(f"      see {location.path}:{location.line}{note}")
    return lines


def _wrapped(label: str, text: str) -> List[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=f"      {label}: ",
                         subsequent_indent=" " * (8 + len(label))) or [f"      {label}:"]


def _tree(graph: ImportGraph) -> List[str]:
    lines: List[str] = []
    seen: Set[str] = set()
    stack = [(graph.entry, 0, False)]
    while stack:
        name, depth, fatal = stack.pop()
        assert name is not None
        marker = "  !! fails: " if fatal else ""
        repeat = " (see above)" if name in seen else ""
        lines.append(f"  {'  ' * depth}{marker}{name}{repeat}")
        if name in seen:
            continue
        seen.add(name)
        for edge in reversed(graph.children(name)):
            stack.append((edge.target, depth + 1, edge.fatal))
    return lines


def _paint(text: str, severity: Severity, colour: bool) -> str:
    return f"{_COLOURS[severity]}{text}{_RESET}" if colour else text
