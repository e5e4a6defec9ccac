"""`stability-fix` end to end (subprocess, real engine, real files) and its driver: diff by
default, atomic idempotent writes, bytes kept outside the fix (CRLF, coding cookie, BOM, no
final newline), unparsable files skipped, --unsafe gating, --verify on the example backend,
usage errors, and codemods chained on one file."""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import libcst as cst
from fix_projects import findings_of, write_project

from flake8_stability.fix.apply import _State, fix_files
from flake8_stability.fix.codemod import apply_codemod, registry

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "async-shop"

SETTINGS = ('from pydantic import BaseSettings\n\n\n'
            'class Settings(BaseSettings):\n    debug: bool = False\n')
DB = ('from sqlalchemy.ext.asyncio import create_async_engine\n\n'
      'engine = create_async_engine("sqlite:///./app.db")\n')


def fix_cli(cwd: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "flake8_stability.fix.cli", *args], cwd=cwd,
                          env=env, capture_output=True, text=text, timeout=300)


def snapshot(root: Path) -> Dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_diff_is_the_default_writes_nothing_exits_1_and_applies(tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", {"app/settings.py": SETTINGS, "app/db.py": DB})
    before = snapshot(root)
    result = fix_cli(root)
    assert result.returncode == 1, result.stderr
    assert snapshot(root) == before
    out = result.stdout
    assert "# stability-fix: app/db.py: async-driver-url\n--- a/app/db.py\n+++ b/app/db.py\n" in out
    assert ("# stability-fix: app/settings.py: moved-import\n# note: `pydantic_settings` comes "
            "from the pydantic-settings distribution") in out
    assert '+engine = create_async_engine("sqlite+aiosqlite:///./app.db")\n' in out
    patch = tmp_path / "fix.patch"
    patch.write_text(out)
    applied = subprocess.run(["git", "apply", str(patch)], cwd=root, capture_output=True,
                             text=True)
    assert applied.returncode == 0, applied.stderr
    assert (root / "app" / "db.py").read_text() == DB.replace("sqlite://", "sqlite+aiosqlite://")


def test_write_is_atomic_keeps_the_mode_and_a_second_run_has_nothing_to_do(
        tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", {"app/settings.py": SETTINGS, "app/db.py": DB})
    db = root / "app" / "db.py"
    db.chmod(0o640)
    inode = db.stat().st_ino
    untouched = (root / "app" / "__init__.py").stat().st_mtime_ns
    result = fix_cli(root, "--write")
    assert result.returncode == 0, result.stderr
    assert "fixed app/db.py: 1 finding(s) by async-driver-url" in result.stdout
    assert "2 file(s) written" in result.stdout
    assert db.read_text() == DB.replace("sqlite://", "sqlite+aiosqlite://")
    assert stat.S_IMODE(db.stat().st_mode) == 0o640
    assert db.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert (root / "app" / "__init__.py").stat().st_mtime_ns == untouched
    assert not [p for p in root.rglob("*.tmp")]
    again = fix_cli(root)
    assert (again.returncode, again.stdout) == (0, "")
    assert "nothing to fix" in fix_cli(root, "--write").stdout


def test_crlf_coding_cookie_bom_and_missing_final_newline_are_kept(tmp_path: Path) -> None:
    latin = ('# -*- coding: latin-1 -*-\r\n# Base de donn\xe9es\r\n'
             'from sqlalchemy.ext.asyncio import create_async_engine\r\n\r\n'
             'engine = create_async_engine("sqlite:///./caf\xe9.db")').encode("latin-1")
    bom = b"\xef\xbb\xbf" + SETTINGS.replace("debug", "d\u00e9bug").encode("utf-8")
    root = write_project(tmp_path / "shop", {"app/db.py": latin, "app/settings.py": bom})
    diff = fix_cli(root, text=False)
    assert diff.returncode == 1
    assert (b'-engine = create_async_engine("sqlite:///./caf\xe9.db")\n'
            b'\\ No newline at end of file\n'
            b'+engine = create_async_engine("sqlite+aiosqlite:///./caf\xe9.db")\n'
            b'\\ No newline at end of file\n') in diff.stdout  # the file's own bytes
    assert b" # Base de donn\xe9es\r\n" in diff.stdout
    result = fix_cli(root, "--write")
    assert result.returncode == 0, result.stderr
    assert (root / "app" / "db.py").read_bytes() == latin.replace(b"sqlite://",
                                                                  b"sqlite+aiosqlite://")
    assert (root / "app" / "settings.py").read_bytes() == bom.replace(
        b"from pydantic import", b"from pydantic_settings import")


def test_a_file_that_does_not_parse_is_skipped_and_the_others_are_fixed(tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", {"app/db.py": DB, "app/broken.py": "def f(:\n"})
    result = fix_cli(root, "--write")
    assert result.returncode == 0
    assert "stability-fix: skipped app/broken.py: syntax error at line 1" in result.stderr
    assert "sqlite+aiosqlite://" in (root / "app" / "db.py").read_text()
    assert (root / "app" / "broken.py").read_text() == "def f(:\n"


def test_the_driver_skips_a_file_libcst_cannot_parse_and_fixes_the_others(
        tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", {"app/db.py": DB, "app/settings.py": SETTINGS})
    findings = findings_of(root)
    (root / "app" / "settings.py").write_text("from pydantic import (BaseSettings\n")
    fixes = {Path(fix.path).name: fix for fix in fix_files(findings)}
    assert not fixes["settings.py"].changed
    assert fixes["settings.py"].problem and fixes["settings.py"].problem.startswith(
        "cannot be parsed by libcst")
    assert [skip.finding.code for skip in fixes["settings.py"].skipped] == ["SBA103"]
    assert fixes["db.py"].changed and [a.codemod for a in fixes["db.py"].applied] == [
        "async-driver-url"]


def test_two_codemods_on_one_file_follow_each_others_line_moves(tmp_path: Path) -> None:
    source = ('from pydantic import BaseModel, BaseSettings\n' + DB +
              '\n\nclass Settings(BaseSettings):\n    debug: bool = False\n')
    root = write_project(tmp_path / "shop", {"app/main.py": source})
    [fix] = fix_files(findings_of(root))
    assert [a.codemod for a in fix.applied] == ["moved-import", "async-driver-url"]
    assert fix.skipped == []
    assert fix.after.decode() == source.replace(
        "BaseModel, BaseSettings\n",
        "BaseModel\nfrom pydantic_settings import BaseSettings\n").replace(
        "sqlite://", "sqlite+aiosqlite://")


def test_a_target_on_a_line_an_earlier_codemod_rewrote_conflicts(tmp_path: Path) -> None:
    source = "from pydantic import BaseSettings, validator\n"
    root = write_project(tmp_path / "shop", {"app/main.py": source})
    findings = findings_of(root, "app/main.py")
    moved = [f for f in findings if "BaseSettings" in f.message]
    other = [f for f in findings if "validator" in f.message]
    assert len(moved) == 1 and len(other) == 1
    state = _State(cst.parse_module(source))
    outcome = apply_codemod(registry()["moved-import"](), source, moved)
    assert state.advance(outcome.module, "moved-import") is None
    assert state.locate(other[0]) == (None, "conflicts with moved-import")


def _example_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "async-shop"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    return copy


def test_unsafe_fixes_are_applied_only_with_unsafe(tmp_path: Path) -> None:
    copy = _example_copy(tmp_path)
    gated = "skipped SBA321 at src/db/models.py:16 (rename-reserved-attribute): unsafe"
    assert gated in fix_cli(copy).stderr
    assert gated not in fix_cli(copy, "--unsafe").stderr


def test_verify_fixes_a_scratch_copy_and_reports_the_findings_gone(tmp_path: Path) -> None:
    copy = _example_copy(tmp_path)
    before = snapshot(copy)
    result = fix_cli(copy, "--verify", "--select", "SBA103,SBA302")
    assert snapshot(copy) == before
    lines: List[str] = result.stdout.splitlines()
    assert "  gone: SBA103 src/core/config.py:2" in lines
    assert "  gone: SBA302 src/db/session.py:12" in lines
    assert not [line for line in lines if line.startswith(("  still", "  new"))]
    assert any(line.startswith("  boot: ") for line in lines)


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    for args in (["--diff", "--write"], [str(tmp_path / "missing")], ["--target", "no target"]):
        result = fix_cli(tmp_path, *args)
        assert result.returncode == 2
        assert result.stderr.startswith("stability-fix: error: ")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_missing_init_is_shown_as_a_new_file_then_created_once(tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", {
        "app/main.py": "from fastapi import FastAPI\n\nfrom app.routers import users\n\n"
                       "app = FastAPI()\napp.include_router(users.router)\n",
        "app/routers/users.py": "from fastapi import APIRouter\n\nrouter = APIRouter()\n"})
    shown = fix_cli(root, "--select", "SBA601", ".")
    assert shown.returncode == 1, shown.stderr
    assert "# stability-fix: create app/routers/__init__.py (empty)" in shown.stdout
    assert "+++ b/app/routers/__init__.py" in shown.stdout
    assert not (root / "app" / "routers" / "__init__.py").exists()
    written = fix_cli(root, "--select", "SBA601", "--write", ".")
    assert written.returncode == 0 and "created app/routers/__init__.py" in written.stdout
    assert (root / "app" / "routers" / "__init__.py").read_bytes() == b""
    again = fix_cli(root, "--select", "SBA601", ".")
    assert again.returncode == 0 and again.stdout == ""
