"""GitHub Actions annotations: one workflow command per finding
(`::error file=app/db.py,line=3,col=10,title=SBA302 async-engine-with-sync-driver::message`),
then a plain summary line per project. GitHub shows each command as an annotation on the file
and line of the pull request.

Levels are SARIF's: `blocking` and `runtime` are both `error` (the service does not start, or
its first request or database use fails), `warning` is `warning`. Files that could not be read
are warnings, internal rule errors are errors without a file, report notes are notices.

Paths are relative to the working directory (run the audit from the repository root, where
GitHub resolves them); a path outside it stays absolute. Data is escaped as GitHub's runner
reads it: `%`, CR and LF everywhere, and also `:` and `,` in properties."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List

from ...findings import Finding
from ...rules import registry
from ..report import ProjectReport, Report
from .sarif import LEVELS, code_point_column

_DATA_ESCAPES = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = _DATA_ESCAPES + ((":", "%3A"), (",", "%2C"))


def render_github(report: Report, colour: bool = False) -> str:
    del colour  # the runner reads plain lines
    cwd = Path.cwd()
    lines: List[str] = []
    for project in report.projects:
        lines.extend(_annotation(finding, project, cwd) for finding in project.findings)
        lines.extend(command("warning", {"file": _path(project, problem.path, cwd),
                                         "title": "flake8-stability: file not read"},
                             problem.message) for problem in project.problems)
        lines.extend(command("error", {"title": "flake8-stability internal error"}, error)
                     for error in project.errors)
        lines.append(_summary(project))
    lines.extend(command("notice", {"title": "flake8-stability"}, note) for note in report.notes)
    return "\n".join(lines) + "\n"


def command(name: str, properties: Dict[str, str], data: str) -> str:
    """One workflow command, its properties and data escaped."""
    pairs = ",".join(f"{key}={_escape(value, _PROPERTY_ESCAPES)}"
                     for key, value in properties.items())
    return f"::{name} {pairs}::{_escape(data, _DATA_ESCAPES)}"


def _escape(text: str, escapes: tuple) -> str:
    for character, escaped in escapes:
        text = text.replace(character, escaped)
    return text


def _annotation(finding: Finding, project: ProjectReport, cwd: Path) -> str:
    properties = {"file": _path(project, finding.path, cwd)}
    if finding.line >= 1:
        properties["line"] = str(finding.line)
        column = (code_point_column(project.root / finding.path, finding.line, finding.col)
                  if finding.col > 0 else 0)
        properties["col"] = str(column + 1)
    rule = registry().get(finding.code)
    properties["title"] = f"{finding.code} {rule.name}" if rule else finding.code
    text = (f"{finding.message}\n\nWhy: {finding.root_cause}\n\n"
            f"Fix: {finding.fix.description}")
    return command(LEVELS[finding.severity], properties, text)


def _path(project: ProjectReport, path: str, cwd: Path) -> str:
    absolute = Path(os.path.abspath(project.root / path))
    try:
        return absolute.relative_to(cwd).as_posix()
    except ValueError:
        return absolute.as_posix()


def _summary(project: ProjectReport) -> str:
    counts = project.counts()["severity"]
    verdict = "will boot" if project.boots else "will NOT boot"
    return (f"flake8-stability audit of {project.root}: {verdict}: {counts['blocking']} "
            f"blocking, {counts['runtime']} runtime, {counts['warning']} warning in "
            f"{project.files} files")
