"""`stability-audit --format github`: GitHub Actions workflow commands, parsed back the way the
runner reads them (split at the first `::` after the properties, properties at `,` and `=`,
then unescaped), on hand-made reports and end to end on the example backend."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from flake8_stability.audit.formats import FORMATS
from flake8_stability.audit.formats.github import command, render_github
from flake8_stability.audit.report import Report
from flake8_stability.engine import FileProblem
from flake8_stability.findings import Category, Finding, Fix, Severity
from test_audit_cli import EXAMPLE, stability_audit
from test_audit_formats import finding, project

_COMMAND = re.compile(r"^::(?P<name>[a-z]+) (?P<properties>[^:]*)::(?P<data>.*)$")
_UNESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))


def parse(line: str) -> Tuple[str, Dict[str, str], str]:
    """A workflow command as GitHub's runner reads it: (command, properties, data)."""
    match = _COMMAND.match(line)
    assert match, line
    properties = dict(pair.split("=", 1) for pair in match["properties"].split(","))
    return (match["name"], {key: _unescape(value) for key, value in properties.items()},
            _unescape(match["data"]))


def _unescape(text: str) -> str:
    for escaped, character in _UNESCAPES:
        text = text.replace(escaped, character)
    return text


def commands(text: str) -> List[Tuple[str, Dict[str, str], str]]:
    return [parse(line) for line in text.splitlines() if line.startswith("::")]


def test_github_is_a_format() -> None:
    assert FORMATS["github"] is render_github


def test_properties_and_data_are_escaped_so_nothing_ends_the_command_early() -> None:
    line = command("error", {"file": "a,b:c.py", "title": "50% done\r\n::warning x::y"},
                   "one: two, 100%\n::error::injected")
    assert "\n" not in line and "\r" not in line  # one line: a newline would start a command
    assert line == ("::error file=a%2Cb%3Ac.py,title=50%25 done%0D%0A%3A%3Awarning x%3A%3Ay"
                    "::one: two, 100%25%0A::error::injected")
    assert parse(line) == ("error", {"file": "a,b:c.py", "title": "50% done\r\n::warning x::y"},
                           "one: two, 100%\n::error::injected")


def test_severities_paths_columns_and_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    root = tmp_path / "backend"
    (root / "app").mkdir(parents=True)
    (root / "app" / "db.py").write_text("x = 'é'; engine = make()\n", encoding="utf-8")
    found = [finding(line=1, col=10),  # byte 10 is code point 9: column 10
             finding("SBA307", "app/api.py", 9, 0, "session.commit() never awaited",
                     Severity.RUNTIME),
             Finding("SBA201", Severity.WARNING, Category.DEPENDENCIES, "requirements.txt", 0, 0,
                     "fastapi is not pinned", "cause", Fix("Pin it."))]
    report = Report([project(root, found, problems=[FileProblem("app/bad.py", "line 1: bad")],
                             errors=["internal error in SBA310"])],
                    notes=["baseline: 2 known finding(s) not shown"])
    monkeypatch.chdir(tmp_path)
    text = render_github(report)
    assert commands(text) == [
        ("error", {"file": "backend/app/db.py", "line": "1", "col": "10",
                   "title": "SBA302 async-engine-with-sync-driver"},
         "create_async_engine('sqlite:///x.db'): pysqlite is not async\n\n"
         "Why: The loaded 'pysqlite' is not async.\n\nFix: Use 'sqlite+aiosqlite:///x.db'."),
        ("error", {"file": "backend/app/api.py", "line": "9", "col": "1",
                   "title": "SBA307 coroutine-not-awaited"},
         "session.commit() never awaited\n\nWhy: The loaded 'pysqlite' is not async.\n\n"
         "Fix: Use 'sqlite+aiosqlite:///x.db'."),
        ("warning", {"file": "backend/requirements.txt",
                     "title": "SBA201 declared-versions-incompatible"},
         "fastapi is not pinned\n\nWhy: cause\n\nFix: Pin it."),
        ("warning", {"file": "backend/app/bad.py", "title": "flake8-stability: file not read"},
         "line 1: bad"),
        ("error", {"title": "flake8-stability internal error"}, "internal error in SBA310"),
        ("notice", {"title": "flake8-stability"}, "baseline: 2 known finding(s) not shown"),
    ]
    assert (f"flake8-stability audit of {root}: will NOT boot: 1 blocking, 1 runtime, "
            f"1 warning in 3 files\n") in text
    monkeypatch.chdir(root / "app")  # a path outside the working directory stays absolute
    assert parse(render_github(report).splitlines()[2])[1]["file"] == \
        (root / "requirements.txt").as_posix()


def test_the_example_backend_annotated_from_the_repository_root() -> None:
    json_findings = stability_audit("--format", "json", str(EXAMPLE))
    result = stability_audit("--format", "github", str(EXAMPLE))
    assert result.returncode == 1 and result.stderr == "" and json_findings.returncode == 1
    annotations = commands(result.stdout)
    assert len(annotations) == json_findings.stdout.count('"code": "SBA')
    for name, properties, data in annotations:
        assert name in ("error", "warning")
        assert os.path.isfile(EXAMPLE.parent.parent / properties["file"]), properties
        assert properties["file"].startswith("examples/async-shop/")
        assert re.match(r"SBA\d{3} [a-z0-9-]+$", properties["title"])
        assert "\n\nWhy: " in data and "\n\nFix: " in data
    assert any(p["title"].startswith("SBA302") and p["file"].endswith("src/db/session.py")
               for _, p, _ in annotations)
    assert result.stdout.splitlines()[-1].startswith("flake8-stability audit of ")
