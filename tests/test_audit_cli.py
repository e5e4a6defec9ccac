"""`stability-audit` end to end, as users run it (`python -m flake8_stability.audit.cli` in a
subprocess): every format on the example backend, exit codes, usage errors without
tracebacks, the baseline round trip, secrets masked in every output, colour only on a TTY."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import jsonschema
import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "async-shop"
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

MAIN = "from fastapi import FastAPI\n\nfrom app.db import engine  # noqa: F401\n\napp = FastAPI()\n"
DB = ("from sqlalchemy.ext.asyncio import create_async_engine\n\n"
      "engine = create_async_engine('sqlite:///./app.db')\n")
NEW_FINDING = "other = create_async_engine('sqlite:///./other.db')\n"
RUNTIME = ("from sqlalchemy import create_engine\n\n"
           "sync_engine = create_engine('sqlite+aiosqlite:///./app.db')\n")


def stability_audit(*args: str, cwd: Path = REPO, env: Optional[Dict[str, str]] = None
                    ) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return subprocess.run([sys.executable, "-m", "flake8_stability.audit.cli", *args], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=300)


def project(root: Path, files: Dict[str, str]) -> Path:
    files = {"pyproject.toml": "[project]\nname = 'fixture'\n", "app/__init__.py": "",
             "app/main.py": MAIN, **files}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def findings(result: subprocess.CompletedProcess) -> List[Dict[str, Any]]:
    return [f for p in json.loads(result.stdout)["projects"] for f in p["findings"]]


@pytest.fixture(scope="module")
def example_json() -> Dict[str, Any]:
    result = stability_audit("--format", "json", str(EXAMPLE))
    assert result.returncode == 1 and result.stderr == ""
    return json.loads(result.stdout)


def test_text_report_of_the_example(example_json: Dict[str, Any]) -> None:
    result = stability_audit(str(EXAMPLE))
    assert result.returncode == 1 and result.stderr == ""  # piped: no progress bar, no colour
    assert "\033[" not in result.stdout
    assert "verdict      will NOT boot" in result.stdout
    for finding in example_json["projects"][0]["findings"]:
        assert f"{finding['path']}:{finding['line']}:{finding['col'] + 1}: {finding['code']}" \
            in result.stdout
    assert "src/db/session.py:12:10: SBA302" in result.stdout
    assert "      why: " in result.stdout and "      fix: " in result.stdout


def test_json_report_of_the_example(example_json: Dict[str, Any]) -> None:
    [report] = example_json["projects"]
    assert example_json["verdict"] == "does-not-boot" and report["target"] == "src.main:app"
    assert report["counts"]["severity"]["blocking"] >= 1
    for finding in report["findings"]:
        assert finding["path"] and finding["line"] >= 1 and finding["message"]
        assert finding["root_cause"] and finding["fix"]["description"]


def test_markdown_report_of_the_example(example_json: Dict[str, Any]) -> None:
    result = stability_audit("--format", "markdown", str(EXAMPLE))
    text = result.stdout
    assert result.returncode == 1 and text.startswith("# flake8-stability audit: ❌ will NOT boot")
    assert "| Verdict | **will NOT boot** |" in text and "| Target | `src.main:app` (" in text
    for finding in example_json["projects"][0]["findings"]:
        assert (f"- **{finding['code']}** `{finding['path']}:{finding['line']}:"
                f"{finding['col'] + 1}`: ") in text
    assert text.index("### Blocking") < text.index("### Runtime") < text.index("### Warning")
    assert text.count("**Fix:**") == len(example_json["projects"][0]["findings"])
    assert "```mermaid\ngraph LR\n" in text and '["src.main"]' in text
    assert "&lt;class 'list'&gt;" in text  # from a root cause, escaped


def test_sarif_report_of_the_example_is_valid_sarif(example_json: Dict[str, Any]) -> None:
    result = stability_audit("--format", "sarif", str(EXAMPLE))
    assert result.returncode == 1 and result.stderr == ""
    log = json.loads(result.stdout)
    validate_sarif(log)
    [run] = log["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    expected = example_json["projects"][0]["findings"]
    assert len(run["results"]) == len(expected)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == EXAMPLE.as_uri() + "/"
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    for result_, finding in zip(sorted(run["results"], key=_place), sorted(expected, key=_place)):
        assert rules[result_["ruleIndex"]] == result_["ruleId"] == finding["code"]
        location = result_["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": finding["path"], "uriBaseId": "%SRCROOT%"}
        assert location["region"] == {"startLine": finding["line"],
                                      "startColumn": finding["col"] + 1}
        assert finding["root_cause"] in result_["message"]["text"]
        assert finding["fix"]["description"] in result_["message"]["text"]
        assert result_["level"] == {"blocking": "error", "runtime": "error",
                                    "warning": "warning"}[finding["severity"]]
        assert "fixes" not in result_
    sba302 = run["tool"]["driver"]["rules"][rules.index("SBA302")]
    assert sba302["name"] == "async-engine-with-sync-driver"
    assert sba302["defaultConfiguration"]["level"] == "error"
    assert "How to fix:" in sba302["help"]["text"] and sba302["help"]["markdown"]


def _place(item: Dict[str, Any]) -> tuple:
    if "ruleId" in item:
        location = item["locations"][0]["physicalLocation"]
        return (item["ruleId"], location["artifactLocation"]["uri"],
                location["region"]["startLine"], location["region"]["startColumn"])
    return (item["code"], item["path"], item["line"], item["col"] + 1)


def validate_sarif(log: Dict[str, Any]) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)


def test_output_file_and_graph_dot(tmp_path: Path) -> None:
    report, dot = tmp_path / "report.md", tmp_path / "graph.dot"
    result = stability_audit("--format", "markdown", "--output", str(report), "--graph-dot",
                             str(dot), str(EXAMPLE))
    assert result.returncode == 1 and result.stdout == "" and result.stderr == ""
    assert "```mermaid" in report.read_text(encoding="utf-8")
    assert dot.read_text(encoding="utf-8").startswith("digraph imports {")


def test_exit_codes_follow_the_findings_left_after_filters(tmp_path: Path) -> None:
    root = project(tmp_path, {"app/db.py": DB, "app/sync.py": RUNTIME})
    assert stability_audit(str(root)).returncode == 1
    assert stability_audit("--exit-zero", str(root)).returncode == 0
    assert stability_audit("--ignore", "SBA302", str(root)).returncode == 0
    assert stability_audit("--select", "SBA301", str(root)).returncode == 0
    only_blocking = stability_audit("--severity", "blocking", "--format", "json", str(root))
    assert only_blocking.returncode == 1
    assert {f["code"] for f in findings(only_blocking)} == {"SBA302"}
    everything = stability_audit("--format", "json", str(root))
    assert {f["code"] for f in findings(everything)} == {"SBA301", "SBA302"}


@pytest.mark.parametrize("args, message", [
    (["no/such/folder"], "no/such/folder: no such file or folder"),
    (["--target", "not a target", "."], "--target must look like"),
    (["--baseline", "{tmp}", "."], "cannot read the baseline"),
    (["--baseline", "{tmp}/garbage.json", "."], "is not a flake8-stability baseline"),
    (["--output", "{tmp}/missing/report.txt", "."], "cannot write"),
    (["--graph-dot", "{tmp}", "."], "cannot write"),
    (["--update-baseline", "."], "--update-baseline needs --baseline FILE"),
    (["--boot", "--boot-timeout", "0", "."], "--boot-timeout must be a positive number"),
    (["--boot-get", "/health", "."], "--boot-get needs --boot"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args: List[str],
                                           message: str) -> None:
    root = project(tmp_path / "project", {"app/db.py": DB})
    (tmp_path / "garbage.json").write_text("{not json")
    result = stability_audit(*(arg.replace("{tmp}", str(tmp_path)) for arg in args), cwd=root)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("stability-audit: error: ") and message in line


def test_baseline_round_trip(tmp_path: Path) -> None:
    root = project(tmp_path / "project", {"app/db.py": DB})
    baseline = tmp_path / "baseline.json"
    first = stability_audit("--baseline", str(baseline), str(root))
    assert first.returncode == 0 and "records 1 finding(s)" in first.stdout
    assert [entry["code"] for entry in json.loads(baseline.read_text())["findings"]] == ["SBA302"]
    again = stability_audit("--baseline", str(baseline), "--format", "json", str(root))
    assert again.returncode == 0 and findings(again) == []

    moved = "# moved down\n" * 7 + DB + NEW_FINDING
    (root / "app" / "db.py").write_text(moved)
    later = stability_audit("--baseline", str(baseline), "--format", "json", str(root))
    assert later.returncode == 1
    assert [(f["code"], f["line"]) for f in findings(later)] == [("SBA302", 11)]
    assert "1 known finding(s) not shown" in json.loads(later.stdout)["notes"][0]

    update = stability_audit("--baseline", str(baseline), "--update-baseline", str(root))
    assert update.returncode == 0 and "records 2 finding(s)" in update.stdout
    assert stability_audit("--baseline", str(baseline), str(root)).returncode == 0


SECRETS = ("S3cretPassw0rd", "s3cr3t-k3y-VALUE-0042", "app:pw@", "Hunter2Password")


def test_no_secret_reaches_any_output(tmp_path: Path) -> None:
    root = project(tmp_path / "project", {
        ".env": "SECRET_KEY=s3cr3t-k3y-VALUE-0042\nDATABASE_URL=postgresql://app:pw@db/app\n",
        "app/config.py": (
            "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\n"
            "class Settings(BaseSettings):\n"
            "    model_config = SettingsConfigDict(env_file='.env')\n"
            "    DATABASE_URL: str = 'postgresql://app:Hunter2Password@db/app'\n"
            "    SECRET_KEY: str = 'dev'\n\n\nsettings = Settings()\n"),
        "app/db.py": (
            "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
            "from app.config import settings\n\n"
            "engine = create_async_engine(settings.DATABASE_URL)\n"
            "admin = create_async_engine('postgresql+psycopg2://admin:S3cretPassw0rd@db/app')\n"
            "named = create_async_engine(\n"
            "    'postgresql+psycopg2://reader@db/s3cr3t-k3y-VALUE-0042')\n"),
    })
    outputs = {}
    for format_ in ("text", "json", "markdown", "sarif", "github"):
        dot = tmp_path / f"{format_}.dot"
        result = stability_audit("--format", format_, "--graph-dot", str(dot), str(root),
                                 cwd=root)
        assert result.returncode == 1, result.stderr
        outputs[format_] = result.stdout + result.stderr
        outputs[f"{format_}.dot"] = dot.read_text(encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    stability_audit("--baseline", str(baseline), str(root))
    outputs["baseline"] = baseline.read_text(encoding="utf-8")
    assert "admin:***@db/app" in outputs["text"] and "reader@db/\\*\\*\\*" in outputs["markdown"]
    for name, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, (name, secret)


def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path: Path) -> None:
    root = project(tmp_path, {"app/db.py": DB})
    assert "\033[31;1m" in on_a_terminal(root, {})
    assert "\033[" not in on_a_terminal(root, {"NO_COLOR": "1"})


def on_a_terminal(root: Path, env: Dict[str, str]) -> str:
    """The text report when stdout is a terminal (stderr stays piped)."""
    leader, follower = pty.openpty()
    inherited = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    environment = {**inherited, **env, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "flake8_stability.audit.cli", str(root)],
                               cwd=REPO, env=environment, stdout=follower,
                               stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=300) == 1 and process.stderr.read() == b""
    process.stderr.close()
    return b"".join(chunks).decode("utf-8")


def test_boot_confirms_what_the_static_rules_predicted(tmp_path: Path) -> None:
    result = stability_audit("--boot", "--format", "json", str(EXAMPLE))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    [project_data] = data["projects"]
    assert project_data["boot"]["outcome"] == "failed"
    assert project_data["boot"]["executes_project_code"] is True
    assert any("executed the project's code" in note for note in data["notes"])
    confirmed = [(f["code"], f["path"], f["line"]) for f in project_data["findings"]
                 if f.get("confirmed")]
    assert confirmed == [("SBA302", "src/db/session.py", 12)]
    async_db = DB.replace("sqlite:", "sqlite+aiosqlite:")
    healthy = project(tmp_path / "healthy", {"app/db.py": async_db})
    booted = stability_audit("--boot", "--boot-get", "/docs", str(healthy))
    assert booted.returncode == 0, booted.stdout
    assert "boot probe   booted (it ran the app's code)" in booted.stdout


def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path) -> None:
    many = {f"app/db{index}.py": DB for index in range(300)}  # far more than a pipe buffer
    root = project(tmp_path / "many", many)
    for module in ("flake8_stability.audit.cli", "flake8_stability.fix.cli"):
        command = f"{sys.executable} -m {module} {root} | head -1"
        done = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True,
                              text=True, timeout=300)
        assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
        assert len(done.stdout.splitlines()) == 1
