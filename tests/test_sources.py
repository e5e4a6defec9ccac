"""Reading the project's files: every file once, whatever it holds, never crashing."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from flake8_stability.project.files import python_files
from flake8_stability.project.sources import read_source


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data,problem", [
    (b"x = 1\n", None),
    (b"\xef\xbb\xbfx = 1\n", None),  # BOM
    (b"# -*- coding: latin-1 -*-\nname = '\xe9'\n", None),
    (b"", None),
    (b"def broken(:\n", "syntax error at line 1"),
    (b"x = '\x00'\n", "contains a NUL byte"),
    (b"name = '\xe9'\n", "cannot be decoded"),
    (b"# -*- coding: no-such-codec -*-\n", "cannot be decoded"),
    (b"print 'python 2'\n", "syntax error at line 1"),
])
def test_read_source(tmp_path: Path, data: bytes, problem) -> None:
    source = read_source(write(tmp_path / "m.py", data))
    if problem is None:
        assert source.problem is None and source.tree is not None
    else:
        assert source.tree is None and source.problem.startswith(problem)


def test_latin1_text_is_decoded(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "m.py", b"# coding: latin-1\nname = '\xe9'\n"))
    assert "é" in source.text


def test_unreadable_and_huge_files(tmp_path: Path) -> None:
    assert read_source(tmp_path / "missing.py").problem.startswith("cannot be read")
    huge = write(tmp_path / "huge.py", b"x = 1\n" * 1_000_000)
    assert read_source(huge).problem.startswith("skipped: larger than")


def test_project_files_skip_environments_caches_and_link_loops(tmp_path: Path) -> None:
    for name in ("src/app/main.py", "src/app/api/users.py", "tests/test_users.py",
                 ".venv/lib/site.py", "env/lib/x.py", "node_modules/x/y.py", "build/lib/z.py",
                 "src/app/__pycache__/main.py", "pkg.egg-info/x.py", ".git/hooks/h.py"):
        write(tmp_path / name, b"x = 1\n")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    os.symlink(tmp_path / "src", tmp_path / "src" / "app" / "loop")
    found, problems = python_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "src/app/api/users.py", "src/app/main.py", "tests/test_users.py"]
    assert problems == []
