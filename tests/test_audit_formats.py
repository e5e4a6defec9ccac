"""The report formats on hand-made reports: Markdown escaping, the Mermaid graph, the manifest
table, SARIF for several projects (validated against the official schema) and the progress
bar's rules (terminal only, long runs only, erased at the end)."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import jsonschema

from flake8_stability.audit.formats.markdown import (
    MAX_MERMAID_EDGES, code, inline, mermaid, paragraph, render_markdown)
from flake8_stability.audit.formats.sarif import sarif_log
from flake8_stability.audit.formats.text import render_text
from flake8_stability.audit.graph import AT_IMPORT, DEFERRED, TYPING, Edge, ImportGraph
from flake8_stability.audit.progress import ProgressBar
from flake8_stability.audit.report import ProjectReport, Report
from flake8_stability.engine import FileProblem
from flake8_stability.findings import Category, Finding, Fix, Location, Severity

SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


def finding(code: str = "SBA302", path: str = "app/db.py", line: int = 3, col: int = 9,
            message: str = "create_async_engine('sqlite:///x.db'): pysqlite is not async",
            severity: Severity = Severity.BLOCKING, related: tuple = ()) -> Finding:
    return Finding(code, severity, Category.DATABASE, path, line, col, message,
                   "The loaded 'pysqlite' is not async.", Fix("Use 'sqlite+aiosqlite:///x.db'."),
                   related)


def project(root: Path, findings: List[Finding], graph: Optional[ImportGraph] = None,
            manifest: Any = None, problems: tuple = (), errors: tuple = ()) -> ProjectReport:
    return ProjectReport(root=root, target="app.main:app", target_origin="convention",
                         python="3.11.7", interpreter="/usr/bin/python3", environment_error=None,
                         versions={"sqlalchemy": "2.1.9", "fastapi": None}, files=3,
                         findings=findings, problems=list(problems), errors=list(errors),
                         graph=graph, manifest=manifest)


def test_inline_text_escapes_html_and_markdown_but_keeps_code_spans() -> None:
    assert inline("ValueError \"<class 'list'> has *no* type\"") == \
        "ValueError \"&lt;class 'list'&gt; has \\*no\\* type\""
    assert inline("use `a | b` or [x](y)", table=True) == "use `a \\| b` or \\[x\\](y)"
    assert inline("one `unbalanced tick") == "one \\`unbalanced tick"
    assert inline("two\nlines") == "two lines"
    assert code("a`b") == "``a`b``" and code("`x") == "`` `x ``"
    assert code("a|b", table=True) == "`a\\|b`"
    assert paragraph("# not a heading") == "\\# not a heading"
    assert paragraph("1. not a list") == "1\\. not a list"
    assert paragraph("- not a list") == "\\- not a list"


def test_markdown_report_sections(tmp_path: Path) -> None:
    long_cause = "x" * 500
    found = [finding(),
             finding("SBA307", "app/api.py", 9, 4, "session.commit() <never> | awaited",
                     Severity.RUNTIME, (Location("app/api.py", 8, 0, "session from `get_db`"),)),
             Finding("SBA309", Severity.WARNING, Category.DATABASE, "app/db.py", 5, 0, "m",
                     long_cause, Fix("f"))]
    entries = [{"name": "sqlalchemy", "declared": [{"requirement": ">=2.0|<3",
                                                    "path": "pyproject.toml", "line": 7}],
                "locked": None, "installed": "2.1.9", "required": ">=2.0.14", "verdict": "ok",
                "reason": ""}]
    report = Report([project(tmp_path, found, manifest={"entries": entries},
                             problems=[FileProblem("app/bad.py", "line 1: invalid syntax")],
                             errors=["# internal error in SBA310"])],
                    notes=["- baseline left out 2"])
    text = render_markdown(report)
    assert "- **SBA307** `app/api.py:9:5`: session.commit() &lt;never&gt; \\| awaited" in text
    assert "  See `app/api.py:8`: session from `get_db`" in text
    assert "<details><summary>Root cause</summary>\n\n  " + long_cause in text
    assert "| Findings | 1 blocking · 1 runtime · 1 warning in 3 files |" in text
    assert "| Versions | sqlalchemy 2.1.9 |" in text
    assert ("| sqlalchemy | &gt;=2.0\\|&lt;3 | pyproject.toml:7 |  | 2.1.9 | &gt;=2.0.14 | ok |"
            in text)
    assert "- `app/bad.py`: line 1: invalid syntax" in text
    assert "- \\# internal error in SBA310" in text and "- \\- baseline left out 2" in text
    assert "### Import graph" not in text  # no graph in this report
    assert "Dependency manifest" in render_text(report)
    assert "Dependency manifest" not in render_markdown(
        Report([project(tmp_path, [], manifest={"unknown": "shape"})]))


def test_mermaid_graph_marks_fatal_deferred_and_typing_edges() -> None:
    graph = ImportGraph("app.main", {"app.main": "app/main.py", "app.db": "app/db.py",
                                     "app.models": "app/models.py", "app.end": "app/end.py",
                                     "app.alone": "app/alone.py"},
                        [Edge("app.main", "app.db", 1, AT_IMPORT),
                         Edge("app.db", "app.models", 2, AT_IMPORT, fatal=True),
                         Edge("app.models", "app.db", 3, AT_IMPORT, fatal=True),
                         Edge("app.db", "app.end", 4, DEFERRED),
                         Edge("app.end", "app.models", 5, TYPING)])
    lines = mermaid(graph)
    ids = {line.split('"')[1]: line.split("[")[0].strip() for line in lines if '["' in line}
    assert lines[0] == "graph LR" and "app.alone" not in ids
    assert set(ids.values()) == {"m0", "m1", "m2", "m3"}
    main, db, models, end = (ids[n] for n in ("app.main", "app.db", "app.models", "app.end"))
    assert f"  {main} --> {db}" in lines and f"  {db} ==> {models}" in lines
    assert f"  {db} -.-> {end}" in lines and f"  {end} -. typing .-> {models}" in lines
    assert "  linkStyle 1,2 stroke:#d73a49,stroke-width:3px" in lines
    assert f"  style {main} stroke-width:3px,font-weight:bold" in lines


def test_a_huge_graph_is_not_drawn(tmp_path: Path) -> None:
    modules = {f"m{i}": f"m{i}.py" for i in range(MAX_MERMAID_EDGES + 2)}
    edges = [Edge(f"m{i}", f"m{i + 1}", 1, AT_IMPORT) for i in range(MAX_MERMAID_EDGES + 1)]
    text = render_markdown(Report([project(tmp_path, [], ImportGraph("m0", modules, edges))]))
    assert "```mermaid" not in text and "--graph-dot FILE" in text


def test_sarif_for_several_projects_is_valid(tmp_path: Path) -> None:
    (tmp_path / "one" / "app").mkdir(parents=True)
    (tmp_path / "one" / "app" / "db.py").write_text("x = 1\n\nengine = make()\n")
    related = (Location("app/api.py", 8, 0, "chosen here"),)
    first = project(tmp_path / "one", [finding(related=related), finding(
        "SBA204", "requirements.txt", 0, 0, "no driver", Severity.WARNING)],
        problems=[FileProblem("app/bad.py", "invalid syntax")], errors=["SBA310 failed"])
    second = project(tmp_path / "two words", [finding("SBA999", "/elsewhere/x.py", 2, 0)])
    log = sarif_log(Report([first, second], notes=["a note"], exit_code=1))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    [run] = log["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        "SBA204", "SBA302", "SBA999"]
    assert run["tool"]["driver"]["rules"][2] == {"id": "SBA999"}
    blocking, warning, elsewhere = run["results"]
    assert _where(blocking) == ({"uri": "one/app/db.py", "uriBaseId": "%SRCROOT%"},
                                {"startLine": 3, "startColumn": 10})
    assert blocking["relatedLocations"][0]["id"] == 0
    assert blocking["relatedLocations"][0]["message"] == {"text": "chosen here"}
    assert len(blocking["partialFingerprints"]["flake8StabilityFingerprint/v1"]) == 20
    assert _where(warning) == ({"uri": "one/requirements.txt", "uriBaseId": "%SRCROOT%"}, None)
    assert warning["level"] == "warning" and warning["ruleIndex"] == 0
    assert _where(elsewhere)[0] == {"uri": "file:///elsewhere/x.py"}
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 1
    assert [(n["level"], n["message"]["text"]) for n in invocation["toolExecutionNotifications"]
            ] == [("error", "SBA310 failed"), ("warning", "invalid syntax"), ("note", "a note")]


def _where(result: Dict[str, Any]) -> tuple:
    location = result["locations"][0]["physicalLocation"]
    return location["artifactLocation"], location.get("region")


def test_sarif_uris_are_percent_encoded(tmp_path: Path) -> None:
    log = sarif_log(Report([project(tmp_path, [finding(path="app/my db.py")])]))
    assert _where(log["runs"][0]["results"][0])[0]["uri"] == "app/my%20db.py"


class Terminal(io.StringIO):
    def __init__(self, tty: bool = True) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_only_on_a_terminal() -> None:
    assert ProgressBar.for_stream(Terminal(tty=False)) is None
    assert isinstance(ProgressBar.for_stream(Terminal()), ProgressBar)


def test_progress_bar_waits_for_a_long_run_and_is_erased() -> None:
    stream, clock = Terminal(), Clock()
    bar = ProgressBar(stream, clock)
    bar(10, 50)
    bar.close()
    assert stream.getvalue() == ""  # few files, quickly done: no bar at all
    bar = ProgressBar(stream, clock)
    clock.now += 1.5
    bar(20, 50)
    assert stream.getvalue() == "\ranalysing [############..................] 20/50 files"
    bar(21, 50)  # too soon to redraw
    assert stream.getvalue().count("\r") == 1
    bar(50, 50)  # the last one is always drawn
    assert stream.getvalue().endswith("50/50 files")
    bar.close()
    assert stream.getvalue().endswith("\r\033[K")


def test_progress_bar_of_many_files_starts_at_once() -> None:
    stream = Terminal()
    ProgressBar(stream, Clock())(1, 201)
    assert stream.getvalue().startswith("\ranalysing [")


def test_sarif_columns_count_code_points(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "db.py").write_text("x = 'é'; engine = make()\n", encoding="utf-8")
    log = sarif_log(Report([project(tmp_path, [finding(line=1, col=10)])]))  # byte 10
    assert _where(log["runs"][0]["results"][0])[1] == {"startLine": 1, "startColumn": 10}
