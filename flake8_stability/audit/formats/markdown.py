"""The Markdown report, for pull-request comments: a summary table per project, the findings by
severity then category (each with its place, code, problem, root cause and fix), the import
graph as a Mermaid block (GitHub draws it), the dependency manifest, unreadable files and notes.

Text from findings is escaped so nothing in it turns into HTML or Markdown by accident; the
inline code a rule writes on purpose (`like this`) stays code."""
from __future__ import annotations

import re
from typing import Dict, List

from ...findings import Finding, Severity
from ..graph import AT_IMPORT, DEFERRED, ImportGraph
from ..report import ProjectReport, Report
from .manifest import COLUMNS, manifest_rows

MAX_MERMAID_EDGES = 400  # Mermaid refuses graphs past its maxEdges (500 by default)
_FOLD_AFTER = 400  # characters of root cause shown without a <details> fold
_PLAIN_SPECIALS = re.compile(r"([\\`*_\[\]~|])")
_BLOCK_START = re.compile(r"^(\d*)([#>+=.)-])")  # could open a heading, quote or list
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_BACKTICKS = re.compile(r"`+")
_HEADINGS = {Severity.BLOCKING: "Blocking: the app does not boot",
             Severity.RUNTIME: "Runtime: the first request or database use fails",
             Severity.WARNING: "Warning: works, but wrong or fragile"}
_ARROWS = {AT_IMPORT: "-->", DEFERRED: "-.->"}
_FATAL_STYLE = "stroke:#d73a49,stroke-width:3px"


def render_markdown(report: Report, colour: bool = False) -> str:
    del colour  # Markdown carries no terminal colour
    verdict = "✅ will boot" if report.boots else "❌ will NOT boot"
    lines = [f"# flake8-stability audit: {verdict}", ""]
    for project in report.projects:
        lines.extend(_project(project))
    if report.notes:
        lines.extend(["### Notes", ""])
        lines.extend(f"- {paragraph(note)}" for note in report.notes)
        lines.append("")
    lines.append(f"<sub>flake8-stability {inline(report.tool_version)}</sub>")
    return "\n".join(lines) + "\n"


def inline(text: str, table: bool = False) -> str:
    """`text` as one line of Markdown that shows it as written: HTML and Markdown specials
    escaped, its balanced `code spans` kept as code (pipes escaped in tables)."""
    text = re.sub(r"\s*\n\s*", " ", text)
    parts: List[str] = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(_plain(text[position:match.start()]))
        span = match.group(0)
        parts.append(span.replace("|", "\\|") if table else span)
        position = match.end()
    parts.append(_plain(text[position:]))
    return "".join(parts)


def paragraph(text: str) -> str:
    """`inline(text)` safe at the start of a line, where `#`, `>`, `-`, `1.` open blocks."""
    return _BLOCK_START.sub(r"\1\\\2", inline(text), count=1)


def code(text: str, table: bool = False) -> str:
    """`text` as inline code, fenced with more backticks than it holds."""
    text = re.sub(r"\s*\n\s*", " ", text)
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    shown = f"{fence}{pad}{text}{pad}{fence}"
    return shown.replace("|", "\\|") if table else shown


def _plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PLAIN_SPECIALS.sub(r"\\\1", text)


def _project(project: ProjectReport) -> List[str]:
    verdict = "✅ will boot" if project.boots else "❌ will NOT boot"
    lines = [f"## {code(str(project.root))}: {verdict}", ""]
    lines.extend(_summary(project))
    for severity, category, findings in project.grouped():
        lines.extend([f"### {_HEADINGS[severity]} · {category.value} ({len(findings)})", ""])
        for finding in findings:
            lines.extend(_finding(finding))
    if project.graph is not None and project.graph.edges:
        lines.extend(_graph(project.graph))
    lines.extend(_manifest(project))
    if project.problems:
        lines.extend(["### Problems with the project's files", ""])
        lines.extend(f"- {code(p.path)}: {inline(p.message)}" for p in project.problems)
        lines.append("")
    if project.errors:
        lines.extend(["### Internal errors (these rules' findings are missing)", ""])
        lines.extend(f"- {paragraph(error)}" for error in project.errors)
        lines.append("")
    return lines


def _summary(project: ProjectReport) -> List[str]:
    counts = project.counts()
    severities = " · ".join(f"{count} {name}" for name, count in counts["severity"].items())
    categories = " · ".join(f"{count} {name}" for name, count in counts["category"].items())
    interpreter = f"{code(project.interpreter, True)} (Python {project.python or 'unknown'})"
    if project.environment_error:
        interpreter += f": {inline(project.environment_error, True)}"
    versions = ", ".join(f"{name} {version}" for name, version in project.versions.items()
                         if version)
    rows = [("Verdict", f"**{'will boot' if project.boots else 'will NOT boot'}**"),
            ("Findings", f"{severities} in {project.files} files"),
            ("Categories", categories or "none"),
            ("Target", f"{code(project.target, True) if project.target else 'none found'} "
                       f"({inline(project.target_origin, True)})"),
            ("Interpreter", interpreter),
            ("Versions", inline(versions, True) or "none found")]
    if project.boot is not None:
        rows.append(("Boot probe", inline(f"{project.boot['summary']} (it ran the app's code)",
                                          True)))
    return (["| | |", "| --- | --- |"] + [f"| {name} | {value} |" for name, value in rows]
            + [""])


def _finding(finding: Finding) -> List[str]:
    where = code(f"{finding.path}:{finding.line}:{finding.col + 1}")
    mark = {True: " _(confirmed by the boot)_", False: " _(not seen at boot)_"}.get(
        finding.confirmed, "")
    lines = [f"- **{finding.code}** {where}: {inline(finding.message)}{mark}", ""]
    if len(finding.root_cause) > _FOLD_AFTER:
        lines.extend(["  <details><summary>Root cause</summary>", "",
                      f"  {paragraph(finding.root_cause)}", "", "  </details>", ""])
    else:
        lines.extend([f"  **Root cause:** {inline(finding.root_cause)}", ""])
    lines.extend([f"  **Fix:** {inline(finding.fix.description)}", ""])
    for location in finding.related:
        note = f": {inline(location.note)}" if location.note else ""
        lines.extend([f"  See {code(f'{location.path}:{location.line}')}{note}", ""])
    return lines


def _graph(graph: ImportGraph) -> List[str]:
    lines = ["### Import graph", ""]
    if len(graph.edges) > MAX_MERMAID_EDGES:
        return lines + [f"The project's own modules import each other along "
                        f"{len(graph.edges)} edges, more than Mermaid draws in a comment: "
                        f"write it with `--graph-dot FILE`.", ""]
    lines.extend(["Imports between the project's own modules: `-->` runs at import, dashed "
                  "is deferred into a function, `typing` only for type checkers; red edges "
                  "belong to an import cycle that fails at boot; the target module is bold.", ""])
    return lines + ["```mermaid"] + mermaid(graph) + ["```", ""]


def mermaid(graph: ImportGraph) -> List[str]:
    """The graph as Mermaid `graph LR` lines: node ids `m0`, `m1`... labelled with the module
    names, fatal edges styled red by their `linkStyle` index."""
    names = [name for name in graph.modules
             if name == graph.entry or any(name in (e.source, e.target) for e in graph.edges)]
    ids: Dict[str, str] = {name: f"m{index}" for index, name in enumerate(names)}
    lines = ["graph LR"] + [f'  {ids[name]}["{_label(name)}"]' for name in names]
    fatal: List[str] = []
    for index, edge in enumerate(graph.edges):
        arrow = "==>" if edge.fatal else _ARROWS.get(edge.kind, "-. typing .->")
        lines.append(f"  {ids[edge.source]} {arrow} {ids[edge.target]}")
        if edge.fatal:
            fatal.append(str(index))
    if fatal:
        lines.append(f"  linkStyle {','.join(fatal)} {_FATAL_STYLE}")
    if graph.entry in ids:
        lines.append(f"  style {ids[graph.entry]} stroke-width:3px,font-weight:bold")
    return lines


def _label(name: str) -> str:
    for char, entity in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"),
                         ("`", "#96;")):
        name = name.replace(char, entity)
    return name


def _manifest(project: ProjectReport) -> List[str]:
    rows = manifest_rows(project.manifest)
    if rows is None:
        return []
    lines = ["### Dependency manifest", "", "| " + " | ".join(t for _, t in COLUMNS) + " |",
             "|" + " --- |" * len(COLUMNS)]
    lines.extend("| " + " | ".join(inline(row[key], True) for key, _ in COLUMNS) + " |"
                 for row in rows)
    return lines + [""]
