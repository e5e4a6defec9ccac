"""Whatever the app does while it boots, the probe ends, says what happened, and leaves nothing
behind: hangs at import and in the lifespan, sys.exit, os._exit, output floods, child processes.
Each failure is located at its innermost project frame and becomes the SBA0xx finding no static
rule explains; static findings are confirmed or contradicted by what the boot saw."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import List, Tuple

from dotenv import load_dotenv

from flake8_stability.audit.report import ProjectReport, build_report
from flake8_stability.boot import BootResult, correlate, probe
from flake8_stability.boot.runner import OUTPUT_CAP, probe_environment
from flake8_stability.config import Config, load_config
from flake8_stability.context import ProjectContext
from flake8_stability.engine import audit
from flake8_stability.findings import Category, Finding, Fix, Severity


def boot(root: Path, timeout: float = 30.0,
         get_path: str = "/health") -> Tuple[BootResult, ProjectReport, List[Finding]]:
    results = audit([root])
    report = build_report(results, graph=False).projects[0]
    result = probe(results[0].project, timeout=timeout, get_path=get_path)
    json.dumps(result.to_dict())
    return result, report, correlate(report, result)


def sba0(findings: List[Finding]) -> List[Tuple[str, Severity, str, int]]:
    return [(f.code, f.severity, f.path, f.line) for f in findings if f.code.startswith("SBA0")]


def test_hang_at_import_is_a_timeout_located_at_the_waiting_line(fixture_copy) -> None:
    started = time.monotonic()
    result, _, findings = boot(fixture_copy("hang_import"), timeout=2.0)
    assert time.monotonic() - started < 15
    assert result.describe() == "timeout at import"
    assert sba0(findings) == [("SBA003", Severity.BLOCKING, "app/main.py", 3)]


def test_sys_exit_at_import(fixture_copy, monkeypatch) -> None:
    monkeypatch.delenv("REQUIRED_TOKEN", raising=False)
    result, _, findings = boot(fixture_copy("exit_import"))
    assert result.describe() == "exited with code 3 during import (sys.exit)"
    assert sba0(findings) == [("SBA001", Severity.BLOCKING, "app/main.py", 5)]
    finding = findings[0]
    assert finding.message == "app.main:app exited with code 3 during import (sys.exit)"
    assert "raise an exception" in finding.fix.description


def test_os_exit_at_import(fixture_copy) -> None:
    result, _, findings = boot(fixture_copy("os_exit"))
    assert result.describe() == "exited with code 4 during import (os._exit)"
    assert sba0(findings) == [("SBA001", Severity.BLOCKING, "app/main.py", 4)]


def test_output_flood_is_drained_and_capped(fixture_copy) -> None:
    result, _, findings = boot(fixture_copy("flood"), timeout=60.0)
    assert result.describe() == "booted", result.reason
    assert result.output_truncated and result.output_bytes > 2 * OUTPUT_CAP
    assert len(result.stdout.encode()) <= OUTPUT_CAP
    assert result.stdout.rstrip().endswith("x" * 100)
    assert result.request == {"path": "/health", "status": 200, "body": "ok"}
    assert not sba0(findings)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state not in "ZX"


def test_child_processes_are_killed(fixture_copy, monkeypatch, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("CHILD_PID_FILE", str(pid_file))
    result, _, _ = boot(fixture_copy("child"))
    assert result.describe() == "booted"
    assert result.leftover_processes
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_lifespan_that_never_completes(fixture_copy) -> None:
    result, _, findings = boot(fixture_copy("lifespan_never"), timeout=3.0)
    assert result.describe() == "timeout at startup"
    assert ("app/main.py", 6) in {(Path(f.file).relative_to(result.working_dir).as_posix()
                                   if f.file.startswith(str(result.working_dir)) else f.file,
                                   f.line) for f in result.frames}
    assert sba0(findings) == [("SBA003", Severity.BLOCKING, "app/main.py", 6)]
    assert [(loc.path, loc.line) for loc in findings[0].related] == [("app/main.py", 13)]


def test_lifespan_blocking_the_event_loop(fixture_copy) -> None:
    result, _, findings = boot(fixture_copy("lifespan_blocking"), timeout=3.0)
    assert result.describe() == "timeout at startup"
    assert sba0(findings) == [("SBA003", Severity.BLOCKING, "app/main.py", 6)]


def test_unexplained_import_failure(fixture_copy) -> None:
    result, _, findings = boot(fixture_copy("unexplained_import"))
    assert result.describe() == "failed at import: FileNotFoundError"
    assert sba0(findings) == [("SBA001", Severity.BLOCKING, "app/config.py", 4)]
    finding = findings[0]
    assert finding.message == ("importing app.main:app failed: FileNotFoundError: [Errno 2] No "
                               "such file or directory: 'features.json'")
    assert [(loc.path, loc.line) for loc in finding.related] == [("app/main.py", 3)]
    assert "python -c \"import app.main\"" in finding.fix.description


def test_openapi_failure(fixture_copy) -> None:
    result, _, findings = boot(fixture_copy("openapi_broken"))
    assert result.describe() == "failed at openapi: pydantic.errors.PydanticInvalidForJsonSchema"
    assert result.routes is not None and "/prices" in {r.path for r in result.routes}
    assert sba0(findings) == [("SBA004", Severity.RUNTIME, "app/main.py", 16)]


def test_secrets_in_exception_texts_are_masked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PAYMENT_API_KEY", raising=False)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'billing'\n")
    (tmp_path / "Procfile").write_text("web: uvicorn main:app --env-file .env\n")
    (tmp_path / ".env").write_text("PAYMENT_API_KEY='sk-live-9f8e7d6c'\n")
    (tmp_path / "main.py").write_text(
        "import os\n\nraise RuntimeError('key rejected: ' + os.environ['PAYMENT_API_KEY'])\n")
    result, _, findings = boot(tmp_path)
    assert result.error is not None and result.error.message == "key rejected: ***"
    assert "sk-live" not in json.dumps([f.to_dict() for f in findings])
    assert "sk-live" not in json.dumps(result.to_dict())


def test_environment_is_the_users_plus_env_files(tmp_path: Path, monkeypatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nexport A_ONE=1\nB_TWO = \"two words\"\nC_THREE=3 # note\n"
                        "OWN=from-file\n\nnot a line\n")
    monkeypatch.setenv("OWN", "from-shell")
    env = probe_environment((env_file, tmp_path / "missing.env"))
    assert (env["A_ONE"], env["B_TWO"], env["C_THREE"], env["OWN"]) == (
        "1", "two words", "3", "from-shell")
    assert set(env) - set(os.environ) == {"A_ONE", "B_TWO", "C_THREE"}


def test_env_file_bindings_follow_python_dotenv(tmp_path: Path, monkeypatch) -> None:
    """Within a file the last binding wins and a bare `KEY` unsets it, as `load_dotenv` does;
    across files the first file that sets a key wins (later loads do not override)."""
    first, second = tmp_path / ".env", tmp_path / ".env.local"
    first.write_text("TWICE=old\nTWICE=new\nBARE=set\nBARE\n")
    second.write_text("TWICE=other-file\nONLY_SECOND=2\n")
    for key in ("TWICE", "BARE", "ONLY_SECOND"):  # recorded, so load_dotenv's writes are undone
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    env = probe_environment((first, second))
    assert (env["TWICE"], env["ONLY_SECOND"]) == ("new", "2") and "BARE" not in env
    load_dotenv(first)
    load_dotenv(second)
    assert {key: os.environ.get(key) for key in ("TWICE", "BARE", "ONLY_SECOND")} == {
        key: env.get(key) for key in ("TWICE", "BARE", "ONLY_SECOND")}


def test_probe_that_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "tool.py").write_text("print('no app here')\n")
    no_target = probe(ProjectContext(tmp_path, load_config(tmp_path)), timeout=5)
    assert no_target.outcome == "not-run" and "no ASGI target" in no_target.reason
    project = ProjectContext(tmp_path, Config(python="/nonexistent/bin/python",
                                              target="tool:app"))
    missing = probe(project, timeout=5)
    assert missing.describe().startswith("not run: interpreter /nonexistent/bin/python")
    report = build_report(audit([tmp_path]), graph=False).projects[0]
    assert correlate(report, missing) == report.findings


def _fake(code: str, path: str, line: int, severity: Severity = Severity.BLOCKING) -> Finding:
    return Finding(code, severity, Category.DATABASE, path, line, 0, "predicted", "why",
                   Fix("fix"))


def test_contradicted_and_untouched_predictions(fixture_copy, monkeypatch) -> None:
    root = fixture_copy("healthy")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (root / "scripts").mkdir()
    (root / "scripts" / "seed.py").write_text("print('seed')\n")
    results = audit([root])
    report = build_report(results, graph=False).projects[0]
    report.findings = [_fake("SBA302", "app/db.py", 18), _fake("SBA302", "scripts/seed.py", 1),
                       _fake("SBA305", "app/heroes.py", 14, Severity.RUNTIME)]
    result = probe(results[0].project, timeout=30)
    assert result.describe() == "booted"
    by_path = {f.path: f.confirmed for f in correlate(report, result)}
    assert by_path == {"app/db.py": False, "scripts/seed.py": None, "app/heroes.py": None}


def test_confirmed_prediction_suppresses_the_unexplained_finding(fixture_copy) -> None:
    root = fixture_copy("unexplained_import")
    results = audit([root])
    report = build_report(results, graph=False).projects[0]
    report.findings = [_fake("SBA501", "app/config.py", 4)]
    found = correlate(report, probe(results[0].project, timeout=30))
    assert [(f.code, f.confirmed) for f in found] == [("SBA501", True)]


def test_routers_said_unreachable_are_checked_against_the_routes(
        fixture_copy, monkeypatch) -> None:
    root = fixture_copy("healthy")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (root / "app" / "admin.py").write_text(
        "from fastapi import APIRouter\n\nadmin_router = APIRouter(prefix='/admin')\n\n\n"
        "@admin_router.get('/stats')\nasync def stats() -> dict:\n    return {}\n")
    results = audit([root])
    report = build_report(results, graph=False).projects[0]
    report.findings = [_fake("SBA403", "app/admin.py", 3, Severity.RUNTIME),
                       _fake("SBA403", "app/heroes.py", 10, Severity.RUNTIME)]
    result = probe(results[0].project, timeout=30)
    assert result.describe() == "booted"
    by_path = {f.path: f.confirmed for f in correlate(report, result)}
    assert by_path == {"app/admin.py": True, "app/heroes.py": False}


def test_import_cycle_confirms_the_static_prediction(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.flake8-stability]\ntarget = 'app.main:app'\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text(
        "from fastapi import FastAPI\n\nfrom .routes import router\n\napp = FastAPI()\n"
        "app.include_router(router)\n")
    (tmp_path / "app" / "routes.py").write_text(
        "from fastapi import APIRouter\n\nfrom .main import app\n\nrouter = APIRouter()\n")
    result, report, findings = boot(tmp_path)
    assert result.error is not None and "partially initialized module 'app.main'" in (
        result.error.message)
    assert any(f.code == "SBA602" for f in report.findings)
    assert {f.code for f in findings if f.confirmed} == {"SBA602"}
    assert not sba0(findings)


def test_known_messages_point_at_the_rules_that_predict_them() -> None:
    from flake8_stability.boot import known

    def codes(text: str) -> set:
        return {code for entry in known.matches([text]) for code in entry.codes}

    assert codes("sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async "
                 "driver to be used. The loaded 'psycopg2' is not async.") == {"SBA302"}
    assert "SBA605" in codes("sqlalchemy.exc.InvalidRequestError: Table 'hero' is already "
                             "defined for this MetaData instance.")
    assert codes("AttributeError: 'AsyncEngine' object has no attribute "
                 "'_run_ddl_visitor'") == {"SBA308"}
    assert known.hint_for(["KeyError: 'X'"]) is None
