"""Each hostile input on its own, through the engine every door but flake8 runs (`audit`) and
the fix path (`fix_files`): the input is named with its problem, the healthy sibling's findings
are all kept, only the sibling gets a fix, and nothing on disk changes."""
from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import List, Tuple

import pytest

from flake8_stability.config import NO_MARKER
from flake8_stability.engine import ProjectAudit, audit
from flake8_stability.fix.apply import fix_files
from flake8_stability.plugin import StabilityChecker

from .corpus import (BY_NAME, HOSTILE, SIBLING, SIBLING_FIXED, SIBLING_LINE, SIBLING_SOURCE,
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


def test_the_plugin_on_a_huge_file(tmp_path: Path) -> None:
    """The flake8 door in-process (flake8 itself takes 15 s over 50k lines: the 20k-line file
    of test_no_crash's hostile tree runs through the flake8 subprocess)."""
    root = build_project(tmp_path / "project", BY_NAME["huge"])
    for name, expected in (("huge.py", []), (SIBLING, [(1, "SBA210"), (SIBLING_LINE, "SBA302")])):
        path = root / name
        text = path.read_text()
        checker = StabilityChecker(ast.parse(text), str(path), text.splitlines(True))
        assert [(line, message.split()[0]) for line, _, message, _ in checker.run()] == expected


def test_an_unreadable_file(tmp_path: Path) -> None:
    if not chmod_blocks_reads(tmp_path):
        pytest.skip("running as root: mode 000 does not stop reads (the FIFO, dangling link "
                    "and link loop inputs cover files that cannot be read)")
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
