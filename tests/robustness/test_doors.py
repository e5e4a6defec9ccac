"""Every hostile input at once, through each door as users run it (subprocesses): flake8
(`--jobs 1` and `2`), `stability-audit` (text and JSON) and `stability-fix` (`--diff`, then
`--write`, then `--diff` again). Each finishes without a traceback, with a meaningful exit
status, names the bad files, keeps the sibling's findings, and writes nothing it was not asked
to: the whole tree is compared, bytes and mtimes, before and after."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List

import pytest

from flake8_runner import run_flake8
from flake8_stability.config import NO_MARKER

from .corpus import (BY_NAME, COMBINED, SECRET, SIBLING, SIBLING_FIXED, SIBLING_LINE,
                     SIBLING_SOURCE, build_combined, build_project, changed, snapshot,
                     write_sibling)

TIMEOUT = 120  # a door that blocks (on a FIFO) fails the test instead of hanging the suite
LINTABLE = [hostile for hostile in COMBINED if not hostile.flake8_fails]
REPORTED = [hostile for hostile in COMBINED if hostile.problem]


@dataclass
class Run:
    returncode: int
    stdout: str  # file names that are not UTF-8 keep their bytes (as surrogates)
    stderr: str  # where Python shows them backslash-escaped: see `on_stderr`


def door(module: str, *args: str, cwd: Path) -> Run:
    done = subprocess.run([sys.executable, "-m", f"flake8_stability.{module}.cli", *args],
                          cwd=cwd, capture_output=True, timeout=TIMEOUT)
    run = Run(done.returncode, os.fsdecode(done.stdout), os.fsdecode(done.stderr))
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert SECRET not in run.stdout + run.stderr
    return run


def on_stderr(path: str) -> str:
    """`path` as Python's standard error writes it."""
    return path.encode("utf-8", "backslashreplace").decode()


def excluded() -> List[str]:
    """flake8 itself hangs on a FIFO and fails on the deepest files before any plugin runs:
    what it cannot lint is left out of its runs (see test_what_flake8_itself_cannot_lint)."""
    return ["--exclude", ",".join(h.path for h in COMBINED if h.flake8_fails)]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_flake8(combined: Path, jobs: str) -> None:
    before = snapshot(combined)
    run = run_flake8(["--jobs", jobs, *excluded(), "."], cwd=combined, select="SBA,E9")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.lines_of("SBA302", SIBLING) == [SIBLING_LINE]
    assert run.lines_of("SBA210", SIBLING) == [1]
    for hostile in LINTABLE:
        codes = run.codes(hostile.path)
        assert codes == ([hostile.flake8_code] if hostile.flake8_code else []), hostile.name
    assert changed(before, snapshot(combined)) == []


@pytest.mark.parametrize("name, select, error", [
    ("nested.py", "SBA", "RecursionError"),  # flake8's own ast.parse
    ("deep.py", "SBA", "RecursionError"),  # pyflakes, which flake8 always runs
    (BY_NAME["undecodable-name"].path, "E9", "UnicodeEncodeError"),  # flake8 printing the name
], ids=["nested", "deep", "undecodable-name"])
def test_what_flake8_itself_cannot_lint(combined: Path, name: str, select: str,
                                        error: str) -> None:
    """flake8 fails on these with or without our plugin: the failure is raised before (or
    beside) it, never inside it. (flake8 with `--select SBA` says nothing about the file
    whose name is not UTF-8: it has no SBA finding.)"""
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", select, name],
                          cwd=combined, capture_output=True, timeout=TIMEOUT)
    said = os.fsdecode(done.stdout + done.stderr)
    assert done.returncode == 1 and error in said
    assert "flake8_stability" not in said and "internal error" not in said


def test_flake8_lints_the_project_beside_a_fifo(combined: Path) -> None:
    """The plugin reads the whole project for every file: a FIFO in it must not block that."""
    run = run_flake8([SIBLING], cwd=combined)
    assert run.lines_of("SBA302", SIBLING) == [SIBLING_LINE]


def test_audit_text(combined: Path) -> None:
    before = snapshot(combined)
    done = door("audit", ".", cwd=combined)
    text = done.stdout
    assert done.returncode == 1
    assert f"{SIBLING}:{SIBLING_LINE}:10: SBA302" in text and f"{SIBLING}:1:1: SBA210" in text
    problems = text.split("Problems with the project's files\n", 1)[1]
    for hostile in REPORTED:
        assert f"  {hostile.path}: " in problems and hostile.problem in problems, hostile.name
    assert changed(before, snapshot(combined)) == []


def test_audit_json(combined: Path) -> None:
    before = snapshot(combined)
    done = door("audit", "--format", "json", ".", cwd=combined)
    assert done.returncode == 1
    project, = json.loads(done.stdout)["projects"]
    assert {(f["code"], f["path"], f["line"]) for f in project["findings"]} >= {
        ("SBA302", SIBLING, SIBLING_LINE), ("SBA210", SIBLING, 1), ("SBA302", "deep.py", 3)}
    for hostile in REPORTED:
        assert any(p["path"] == hostile.path and hostile.problem in p["message"]
                   for p in project["problems"]), hostile.name
    assert project["errors"] == []
    assert changed(before, snapshot(combined)) == []


def test_fix_diff_write_and_diff_again(tmp_path: Path) -> None:
    root = build_combined(tmp_path / "combined")
    before = snapshot(root)
    diff = door("fix", "--diff", ".", cwd=root)
    assert diff.returncode == 1
    assert diff.stdout.startswith(f"# stability-fix: {SIBLING}: async-driver-url\n")
    assert diff.stdout.count("\n--- a/") == 1  # the sibling only: deep.py is too deep
    skipped = diff.stderr
    for hostile in REPORTED:
        assert f"skipped {on_stderr(hostile.path)}: " in skipped, hostile.name
    assert "skipped SBA302 at deep.py:3 (async-driver-url): too deeply nested" in skipped
    assert changed(before, snapshot(root)) == []

    write = door("fix", "--write", ".", cwd=root)
    assert write.returncode == 0 and "1 file(s) written" in write.stdout
    assert changed(before, snapshot(root)) == ["app", SIBLING]  # the folder: a rename in it
    assert (root / SIBLING).read_bytes() == SIBLING_FIXED

    again = door("fix", "--diff", ".", cwd=root)
    assert again.returncode == 0 and again.stdout == ""


def test_fix_verify(combined: Path) -> None:
    """Regression: the scratch copy of `--verify` raised shutil.Error on the FIFO."""
    before = snapshot(combined)
    verify = door("fix", "--verify", ".", cwd=combined)
    assert verify.returncode == 0, verify.stdout
    assert f"  gone: SBA302 {SIBLING}:{SIBLING_LINE}\n" in verify.stdout
    assert changed(before, snapshot(combined)) == []


def test_a_fifo_given_on_the_command_line(combined: Path) -> None:
    """Regression: both doors read the FIFO and blocked until killed."""
    audit = door("audit", "pipe.py", cwd=combined)
    assert audit.returncode == 0 and "pipe.py: not a regular file" in audit.stdout
    fix = door("fix", "pipe.py", cwd=combined)
    assert fix.returncode == 0 and "skipped pipe.py: not a regular file" in fix.stderr


def test_a_file_outside_the_root_on_the_command_line(tmp_path: Path) -> None:
    root = build_project(tmp_path / "project")
    stray = tmp_path / "elsewhere" / "stray.py"
    stray.parent.mkdir()
    stray.write_bytes(SIBLING_SOURCE)
    outside = str(stray)
    run = run_flake8([".", outside], cwd=root)
    assert run.lines_of("SBA302", "stray.py") == [SIBLING_LINE]
    assert run.lines_of("SBA302", SIBLING) == [SIBLING_LINE]
    report = json.loads(door("audit", "--format", "json", ".", outside, cwd=root).stdout)
    assert sorted(Path(p["root"]).name for p in report["projects"]) == ["elsewhere", "project"]
    before = snapshot(tmp_path)
    diff = door("fix", ".", outside, cwd=root)
    assert diff.returncode == 1 and diff.stdout.count("\n--- a/") == 2
    assert changed(before, snapshot(tmp_path)) == []


def test_a_folder_without_project_markers(tmp_path: Path) -> None:
    """Each door says which folder it took as the root, and still reports."""
    root = tmp_path / "loose"
    write_sibling(root, markers=False)
    run = run_flake8(["."], cwd=root)
    assert NO_MARKER in run.stderr
    assert run.lines_of("SBA302", SIBLING) == [SIBLING_LINE]
    audit = door("audit", ".", cwd=root).stdout
    assert f".: {NO_MARKER}" in audit and "SBA302" in audit
    fix = door("fix", ".", cwd=root)
    assert fix.returncode == 1 and NO_MARKER in fix.stderr
