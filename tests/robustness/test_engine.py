"""Each hostile input on its own, through the engine every door but flake8 runs (`audit`) and
the fix path (`fix_files`): the input is named with its problem, the healthy sibling's findings
are all kept, only the sibling gets a fix, and nothing on disk changes."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Tuple

import pytest

from flake8_stability.audit.cli import main as audit_main
from flake8_stability.audit.formats import FORMATS
from flake8_stability.audit.formats.dot import render_dot
from flake8_stability.audit.report import build_report
from flake8_stability.config import NO_MARKER
from flake8_stability.engine import ProjectAudit, audit
from flake8_stability.fix.apply import fix_files
from flake8_stability.fix.cli import main as fix_main

from .corpus import (BY_NAME, HOSTILE, SECRET, SIBLING, SIBLING_FIXED, SIBLING_LINE, SIBLING_SOURCE,
                     UNREADABLE, Hostile, build_project, changed, chmod_blocks_reads, snapshot,
                     write_sibling)

SIBLING_FINDINGS = [("SBA210", SIBLING, 1), ("SBA302", SIBLING, SIBLING_LINE)]


def findings(results: List[ProjectAudit], root: Path) -> List[Tuple[str, str, int]]:
    return sorted((f.code, Path(f.path).relative_to(root).as_posix(), f.line)
                  for result in results for f in result.findings)


def problems(results: List[ProjectAudit], root: Path) -> List[Tuple[str, str]]:
    return [(os.path.relpath(p.path, root), p.message) for result in results
            for p in result.problems]


def check_input(root: Path, hostile: Hostile) -> None:
    before = snapshot(root)
    results = audit([root])
    assert [result.errors for result in results] == [[]]
    assert findings(results, root) == SIBLING_FINDINGS + (
        [("SBA302", "deep.py", 3)] if hostile.name == "deep-fixable" else [])
    named = [message for path, message in problems(results, root) if path == hostile.path]
    if hostile.problem:
        assert any(hostile.problem in message for message in named), problems(results, root)
    else:
        assert problems(results, root) == []
    fixes = fix_files([f for result in results for f in result.findings])
    assert [Path(fix.path).relative_to(root).as_posix() for fix in fixes if fix.changed] == [
        SIBLING]
    assert [fix.after for fix in fixes if fix.changed] == [SIBLING_FIXED]
    assert changed(before, snapshot(root)) == []


@pytest.mark.parametrize("hostile", HOSTILE, ids=[hostile.name for hostile in HOSTILE])
def test_each_input_is_named_and_every_other_finding_kept(tmp_path: Path,
                                                          hostile: Hostile) -> None:
    check_input(build_project(tmp_path / "project", hostile), hostile)


def test_an_unreadable_file(tmp_path: Path) -> None:
    if not chmod_blocks_reads(tmp_path):
        pytest.skip("running as root: mode 000 does not stop reads (the unreadable-even-for-"
                    "root, FIFO, dangling link and link loop inputs cover unreadable files)")
    check_input(build_project(tmp_path / "project", UNREADABLE), UNREADABLE)


def test_a_file_too_deep_for_libcst_is_skipped_not_a_crash(tmp_path: Path) -> None:
    """Regression: libcst parses it, then fails with RecursionError printing it back; the fix
    path raised instead of skipping the file."""
    root = build_project(tmp_path / "project", BY_NAME["deep-fixable"])
    fixes = fix_files([f for result in audit([root]) for f in result.findings])
    deep = next(fix for fix in fixes if fix.path.endswith("deep.py"))
    assert not deep.changed and deep.problem and "RecursionError" in deep.problem
    assert [skip.finding.code for skip in deep.skipped] == ["SBA302"]


def test_a_fifo_given_as_the_path_is_refused_not_read(tmp_path: Path) -> None:
    """Regression: reading a FIFO with no writer blocked forever."""
    root = build_project(tmp_path / "project", BY_NAME["fifo"])
    results = audit([root / "pipe.py"])
    assert problems(results, root) == [("pipe.py", "not a regular file (a FIFO, socket or "
                                                   "device): skipped")]


def test_a_folder_without_project_markers_says_so(tmp_path: Path) -> None:
    root = tmp_path / "loose"
    write_sibling(root, markers=False)
    results = audit([root])
    assert (".", NO_MARKER) in problems(results, root)
    assert findings(results, root) == SIBLING_FINDINGS


def test_a_file_outside_the_root_is_its_own_project(tmp_path: Path) -> None:
    root = build_project(tmp_path / "project")
    stray = tmp_path / "elsewhere" / "stray.py"
    stray.parent.mkdir()
    stray.write_bytes(SIBLING_SOURCE)
    results = audit([root, stray])
    assert sorted(result.root for result in results) == sorted([root, stray.parent])
    assert [(Path(f.path).name, f.code) for r in results if r.root == stray.parent
            for f in r.findings] == [("stray.py", "SBA302")]
    assert findings([r for r in results if r.root == root], root) == SIBLING_FINDINGS


def test_every_report_format_renders_the_combined_project(combined: Path) -> None:
    report = build_report(audit([combined]))
    undecodable = BY_NAME["undecodable-name"].path
    for name, render in sorted(FORMATS.items()):
        text = render(report, False)
        if name in ("json", "sarif"):
            text = json.dumps(json.loads(text), ensure_ascii=False)
        shown = "bad%FF.py" if name == "sarif" else undecodable  # SARIF has URIs
        assert "deep.py" in text and shown in text, name
        assert SECRET not in text, name
    render_dot(report)


def test_write_goes_through_a_symlinked_module(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    """Regression: `--write` replaced a symlinked module by a regular file, so the link was
    gone and the file it pointed at kept the defect."""
    root = build_project(tmp_path / "project")
    shared = tmp_path / "shared" / "db.py"
    shared.parent.mkdir()
    os.replace(root / SIBLING, shared)
    os.symlink(os.path.relpath(shared, (root / SIBLING).parent), root / SIBLING)
    assert fix_main(["--write", str(root)]) == 0
    assert "1 file(s) written" in capsys.readouterr().out
    assert (root / SIBLING).is_symlink() and shared.read_bytes() == SIBLING_FIXED


def test_a_finding_in_a_file_whose_name_is_not_utf8(tmp_path: Path,
                                                    capsysbinary: pytest.CaptureFixture) -> None:
    """Regression: the SARIF fingerprints, `--output` and stability-fix's diff header raised
    UnicodeEncodeError on such a name (flake8 itself does, printing it: flake8's own bug)."""
    root = build_project(tmp_path / "project")
    name = os.fsdecode(b"caf\xe9.py")
    (root / name).write_bytes(SIBLING_SOURCE)
    report = tmp_path / "report.sarif"
    assert audit_main(["--format", "sarif", "--output", str(report), str(root)]) == 1
    assert "caf%E9.py" in report.read_text(encoding="utf-8")
    assert audit_main(["--output", str(report), str(root)]) == 1
    assert b"caf\xe9.py:4:10: SBA302" in report.read_bytes()
    assert fix_main(["--diff", str(root)]) == 1
    assert b"--- a/caf\xe9.py\n" in capsysbinary.readouterr().out
