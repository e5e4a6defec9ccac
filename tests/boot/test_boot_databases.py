"""The probe against real databases: a real PostgreSQL server (asyncpg and psycopg) and SQLite
(aiosqlite). A healthy app boots and creates its tables; a wrong driver, a wrong database name,
an unreachable host and wrong credentials each end in the finding that names them."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import List, Tuple

import pytest

from flake8_stability.audit.report import ProjectReport, build_report
from flake8_stability.boot import BootResult, correlate, probe
from flake8_stability.engine import audit
from flake8_stability.findings import Finding, Severity

PASSWORD = "app-pw-4711"  # the app role's password (conftest)


def boot(root: Path, get_path: str = "/health",
         timeout: float = 40.0) -> Tuple[BootResult, ProjectReport, List[Finding]]:
    results = audit([root])
    report = build_report(results, graph=False).projects[0]
    result = probe(results[0].project, timeout=timeout, get_path=get_path)
    return result, report, correlate(report, result)


def boot_findings(findings: List[Finding]) -> List[Finding]:
    return [f for f in findings if f.code.startswith("SBA0")]


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg"])
def test_healthy_app_boots_and_creates_its_tables(postgres, database: str, driver: str,
                                                  fixture_copy, monkeypatch) -> None:
    root = fixture_copy("healthy")
    monkeypatch.setenv("DATABASE_URL", postgres.url(database, driver))
    result, _, findings = boot(root, get_path="/heroes/")
    assert result.describe() == "booted", result.to_dict()
    assert result.request == {"path": "/heroes/", "status": 200, "body": "[]"}
    assert {"/heroes/", "/health"} <= {route.path for route in result.routes or ()}
    assert postgres.tables(database) == ["hero", "team"]
    assert not boot_findings(findings)


def test_env_file_named_by_the_boot_command_is_loaded(postgres, database: str,
                                                      fixture_copy, monkeypatch) -> None:
    root = fixture_copy("healthy")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (root / ".env").write_text(f'DATABASE_URL="{postgres.url(database, "psycopg")}"\n')
    result, _, _ = boot(root)
    assert result.describe() == "booted", result.to_dict()
    assert postgres.tables(database) == ["hero", "team"]
    assert PASSWORD not in str(result.to_dict())


def test_healthy_sqlite_app_boots(fixture_copy, monkeypatch) -> None:
    root = fixture_copy("healthy")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result, _, findings = boot(root)
    assert result.describe() == "booted", result.to_dict()
    assert result.request and result.request["status"] == 200
    with sqlite3.connect(root / "healthy.db") as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table' ORDER BY name")]
    assert names == ["hero", "team"]
    assert not boot_findings(findings)


def test_wrong_driver_confirms_the_static_finding(fixture_copy) -> None:
    result, report, findings = boot(fixture_copy("wrong_driver"))
    assert result.phase == "import" and result.error is not None
    assert result.error.message.startswith("The asyncio extension requires an async driver to "
                                           "be used. The loaded 'psycopg2' is not async.")
    confirmed = [f for f in findings if f.confirmed]
    assert [(f.code, f.path, f.line) for f in confirmed] == [("SBA302", "app/db.py", 3)]
    assert not boot_findings(findings)
    assert "s3cret-pw" not in str(result.to_dict())


def _startup_failure(root: Path, monkeypatch, url: str, timeout: float = 40.0) -> Finding:
    monkeypatch.setenv("DATABASE_URL", url)
    result, _, findings = boot(root, timeout=timeout)
    assert result.outcome == "failed" and result.phase == "startup", result.to_dict()
    found = boot_findings(findings)
    assert [(f.code, f.severity, f.path) for f in found] == [
        ("SBA002", Severity.BLOCKING, "app/main.py")]
    assert PASSWORD not in str(found[0].to_dict()) and "wrong-pw" not in str(found[0].to_dict())
    return found[0]


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg"])
def test_database_that_does_not_exist(postgres, fixture_copy, monkeypatch,
                                      driver: str) -> None:
    finding = _startup_failure(fixture_copy("healthy"), monkeypatch,
                               postgres.url("no_such_db", driver))
    assert 'database "no_such_db" does not exist' in finding.message
    assert finding.fix.description.startswith("The database named in the URL does not exist")
    assert finding.line == 13  # `async with engine.begin() as conn:` in the lifespan


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg"])
def test_wrong_credentials(postgres, database: str, fixture_copy, monkeypatch,
                           driver: str) -> None:
    finding = _startup_failure(fixture_copy("healthy"), monkeypatch,
                               postgres.url(database, driver, password="wrong-pw"))
    assert 'password authentication failed for user "app"' in finding.message
    assert finding.fix.description.startswith("The database rejected the credentials")


def test_unreachable_port_fails_fast(postgres, fixture_copy, monkeypatch,
                                     closed_port: int) -> None:
    closed = closed_port
    finding = _startup_failure(fixture_copy("healthy"), monkeypatch,
                               postgres.url("shop", port=closed))
    assert f"Connect call failed ('127.0.0.1', {closed})" in finding.root_cause
    assert finding.fix.description.startswith("The database is unreachable at startup")


def test_silent_host_ends_with_the_connect_timeout(postgres, fixture_copy, monkeypatch,
                                                   silent_port: int) -> None:
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    finding = _startup_failure(fixture_copy("healthy"), monkeypatch,
                               postgres.url("shop", port=silent_port), timeout=20.0)
    assert finding.message == "starting app.main:app failed: TimeoutError"
    assert finding.fix.description.startswith("The database is unreachable at startup")


def test_silent_host_without_timeout_is_a_boot_timeout(postgres, fixture_copy, monkeypatch,
                                                       silent_port: int) -> None:
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "60")
    monkeypatch.setenv("DATABASE_URL", postgres.url("shop", port=silent_port))
    result, _, findings = boot(fixture_copy("healthy"), timeout=4.0)
    assert result.describe() == "timeout at startup"
    found = boot_findings(findings)
    assert [(f.code, f.severity, f.path) for f in found] == [
        ("SBA003", Severity.BLOCKING, "app/main.py")]
    assert found[0].message == "app.main:app did not finish startup within 4s"
