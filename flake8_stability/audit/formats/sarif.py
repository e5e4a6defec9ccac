"""SARIF 2.1.0, for code-scanning uploads: one run for the whole report, the rules its results
use (with their descriptions and help), one result per finding located relative to
`%SRCROOT%` (the project root, or the folder holding every audited root), and the rule
errors, unreadable files and notes as tool execution notifications.

Levels: `blocking` and `runtime` are both `error` — either way the service is broken (it does
not start, or its first request or database use fails), and code-scanning gates stop on errors;
`warning` (works, but wrong or fragile) is `warning`. The exact severity stays in each result's
`properties.severity`. No result has `fixes`: a fix is only text so far (SARIF fixes are exact
text edits), so the fix is in the message and in `properties.fix`."""
from __future__ import annotations

import itertools
import json
import os
import tokenize
from pathlib import Path
from typing import Any, Dict, List, Optional, Type
from urllib.parse import quote

from ...findings import Finding, Location, Severity
from ...rules import Rule, registry
from ..baseline import fingerprint
from ..report import ProjectReport, Report

SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
          "sarif-schema-2.1.0.json")
SRCROOT = "%SRCROOT%"
FINGERPRINT = "flake8StabilityFingerprint/v1"  # baseline.fingerprint: line-independent
LEVELS = {Severity.BLOCKING: "error", Severity.RUNTIME: "error", Severity.WARNING: "warning"}


def render_sarif(report: Report, colour: bool = False) -> str:
    del colour  # SARIF is for machines
    return json.dumps(sarif_log(report), indent=2) + "\n"


def sarif_log(report: Report) -> Dict[str, Any]:
    """The SARIF log of `report`, as JSON data."""
    base = _base(report)
    codes = sorted({finding.code for finding in report.findings})
    rules = registry()
    results = [_result(finding, project, base, codes.index(finding.code))
               for project in report.projects for finding in project.findings]
    run: Dict[str, Any] = {
        "tool": {"driver": {"name": "flake8-stability", "version": report.tool_version,
                            "rules": [_rule(code, rules.get(code)) for code in codes]}},
        "invocations": [_invocation(report, base)],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if base is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _base(report: Report) -> Optional[Path]:
    roots = [str(project.root) for project in report.projects]
    return Path(os.path.commonpath(roots)) if roots else None


def _rule(code: str, rule: Optional[Type[Rule]]) -> Dict[str, Any]:
    if rule is None:
        return {"id": code}
    how = f"Why: {rule.why}\n\nHow to fix: {rule.how_to_fix}\n\nFix safety: {rule.fix_safety}"
    markdown = (f"**Why:** {rule.why}\n\n**How to fix:** {rule.how_to_fix}\n\n"
                f"**Fix safety:** {rule.fix_safety}")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what},
        "help": {"text": how, "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[rule.severity],
                                 "enabled": rule.enabled_by_default},
        "properties": {"severity": rule.severity.value, "category": rule.category.value,
                       "tags": [rule.category.value, rule.severity.value],
                       "references": list(rule.references)},
    }


def _result(finding: Finding, project: ProjectReport, base: Optional[Path],
            index: int) -> Dict[str, Any]:
    text = (f"{finding.message}\n\nRoot cause: {finding.root_cause}\n\n"
            f"Fix: {finding.fix.description}")
    result: Dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [_location(project, base, finding.path, finding.line, finding.col)],
        "partialFingerprints": {FINGERPRINT: fingerprint(finding, project.root)},
        "properties": {"severity": finding.severity.value, "category": finding.category.value,
                       "rootCause": finding.root_cause, "fix": finding.fix.description,
                       "fixSafe": finding.fix.safe},
    }
    if finding.confirmed is not None:
        result["properties"]["confirmed"] = finding.confirmed
    if finding.related:
        result["relatedLocations"] = [_related(project, base, location, number)
                                      for number, location in enumerate(finding.related)]
    return result


def _related(project: ProjectReport, base: Optional[Path], location: Location,
             number: int) -> Dict[str, Any]:
    related = _location(project, base, location.path, location.line, location.col)
    related["id"] = number
    if location.note:
        related["message"] = {"text": location.note}
    return related


def _location(project: ProjectReport, base: Optional[Path], path: str, line: int,
              col: int) -> Dict[str, Any]:
    physical: Dict[str, Any] = {"artifactLocation": _artifact(project, base, path)}
    if line >= 1:
        column = code_point_column(project.root / path, line, col) if col > 0 else 0
        physical["region"] = {"startLine": line, "startColumn": column + 1}
    return {"physicalLocation": physical}


def code_point_column(path: Path, line: int, col: int) -> int:
    """`col`, a UTF-8 byte offset as `ast` counts it, in code points of the line (the run's
    columnKind); unchanged when the line cannot be read."""
    if path.suffix != ".py":
        return col
    try:
        with tokenize.open(path) as stream:
            text = next(itertools.islice(stream, line - 1, None), "")
    except (OSError, SyntaxError, UnicodeDecodeError):
        return col
    return len(text.encode("utf-8")[:col].decode("utf-8", "ignore"))


def _artifact(project: ProjectReport, base: Optional[Path], path: str) -> Dict[str, Any]:
    absolute = Path(path) if os.path.isabs(path) else project.root / path
    if base is not None:
        try:
            relative = absolute.relative_to(base).as_posix()
            return {"uri": quote(relative), "uriBaseId": SRCROOT}
        except ValueError:
            pass
    return {"uri": absolute.as_uri()}


def _invocation(report: Report, base: Optional[Path]) -> Dict[str, Any]:
    notifications: List[Dict[str, Any]] = []
    for project in report.projects:
        notifications.extend({"level": "error", "message": {"text": error},
                              "descriptor": {"id": "rule-error"}} for error in project.errors)
        notifications.extend({"level": "warning", "message": {"text": problem.message},
                              "descriptor": {"id": "unreadable-file"},
                              "locations": [_location(project, base, problem.path, 0, 0)]}
                             for problem in project.problems)
    notifications.extend({"level": "note", "message": {"text": note}} for note in report.notes)
    invocation: Dict[str, Any] = {
        "executionSuccessful": not any(project.errors for project in report.projects)}
    if report.exit_code is not None:
        invocation["exitCode"] = report.exit_code
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
