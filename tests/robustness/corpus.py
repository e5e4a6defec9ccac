"""Hostile inputs, written by code into a temporary folder: one project per input, each with a
healthy sibling holding known real defects (so "every other finding is kept" is checkable), and
one project with every input at once. Nothing here is committed as a file: 50k-line files,
symlink loops and FIFOs exist only while a test runs."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from flake8_stability.cache.project import FOLDER as CACHE_FOLDER

PYPROJECT = b"[project]\nname = 'hostile'\n"
# The healthy sibling: `create_async_engine` with a sync driver (SBA302, fixable to aiosqlite,
# line 4) and an open `sqlalchemy>=1.4` requirement (SBA210, shown on the import at line 1).
SIBLING = "app/db.py"
SIBLING_SOURCE = (b"import sqlalchemy\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n"
                  b"engine = create_async_engine(\"sqlite:///x.db\")\n")
SIBLING_FIXED = SIBLING_SOURCE.replace(b"sqlite:///", b"sqlite+aiosqlite:///")
SIBLING_LINE = 4
REQUIREMENTS = b"sqlalchemy>=1.4\n"
HUGE_LINES = 50_000
PROC_MEMORY = "/proc/self/mem"


@dataclass(frozen=True)
class Hostile:
    """One hostile input: `build(root)` writes it at `path`. The engine names `path` with a
    message holding `problem` (nothing when empty: the input is odd but valid); flake8 itself
    reports `flake8_code` there. `flake8_fails`: flake8 itself cannot lint it (it hangs or
    fails before any plugin runs), so flake8 runs leave it out. `costly`: seconds in every run
    (flake8 itself takes 15 s over the 50k-line file), so it is checked on its own through the
    engine, not in the combined project (test_no_crash runs a 20k-line file through flake8)."""

    name: str
    build: Callable[[Path], None]
    path: str
    problem: str = ""
    flake8_code: str = ""
    flake8_fails: bool = False
    costly: bool = False


def _write(root: Path, relative: str, data: bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _file(relative: str, data: bytes) -> Callable[[Path], None]:
    return lambda root: _write(root, relative, data)


def _huge(root: Path) -> None:
    lines = [f"value_{n} = {n} + {n}" for n in range(HUGE_LINES)]
    _write(root, "huge.py", ("\n".join(lines) + "\n").encode())


def _nested(root: Path) -> None:
    """Deeper than CPython's parser recurses: `ast.parse` raises RecursionError (and flake8
    itself fails on the file, before any plugin runs)."""
    _write(root, "nested.py", b"x = " + b"-" * 3000 + b"1\n")


def _deep_fixable(root: Path) -> None:
    """Parsed by `ast` and libcst, too deep for libcst to print (and for pyflakes), with a
    fixable finding of its own."""
    chain = " + ".join(["1"] * 1000)
    _write(root, "deep.py", (f"from sqlalchemy.ext.asyncio import create_async_engine\n"
                             f"x = {chain}\nengine = create_async_engine('sqlite:///d.db')\n")
           .encode())


def _symlink_loops(root: Path) -> None:
    (root / "loop").mkdir()
    os.symlink("..", root / "loop" / "up")  # a folder loop
    os.symlink("cycle_b.py", root / "cycle_a.py")  # a file loop
    os.symlink("cycle_a.py", root / "cycle_b.py")


def _fifo(root: Path) -> None:
    os.mkfifo(root / "pipe.py")


def _fifo_config_files(root: Path) -> None:
    """FIFOs where the tool reads project files: each would block a plain `open`. (Not
    setup.cfg or tox.ini: flake8 itself blocks reading its configuration from them.)"""
    for name in (".env.local", "requirements-test.txt", "Dockerfile", "docker-compose.yml",
                 "poetry.lock", "uv.lock", "Procfile"):
        os.mkfifo(root / name)


def _folder_named_py(root: Path) -> None:
    (root / "folder.py").mkdir()
    _write(root, "folder.py/inner.txt", b"not python\n")


def _dangling(root: Path) -> None:
    os.symlink("missing_target.py", root / "dangling.py")


def _proc_memory(root: Path) -> None:
    """A file no one can read, root included: reading /proc/self/mem from offset 0 fails with
    EIO (Linux), while `stat` calls it an empty regular file."""
    os.symlink(PROC_MEMORY, root / "memory.py")


def _unreadable(root: Path) -> None:
    _write(root, "secret.py", b"x = 1\n")
    os.chmod(root / "secret.py", 0)


HOSTILE: Tuple[Hostile, ...] = (
    Hostile("syntax-error", _file("broken.py", b"def broken(:\n    pass\n"), "broken.py",
            "syntax error at line 1", "E999"),
    Hostile("python2", _file("legacy.py", b"print \"hello\"\nexec \"x = 1\"\n"), "legacy.py",
            "Missing parentheses in call to 'print'", "E999"),
    Hostile("nul-byte", _file("nul.py", b"x = 1\x00\ny = 2\n"), "nul.py", "NUL byte", "E999"),
    Hostile("latin1-no-cookie", _file("latin.py", b"name = 'caf\xe9'\n"), "latin.py",
            "cannot be decoded"),
    Hostile("latin1-cookie", _file("cookie.py", b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"),
            "cookie.py"),
    Hostile("unknown-cookie", _file("unknown.py", b"# -*- coding: klingon -*-\nx = 1\n"),
            "unknown.py", "unknown encoding: klingon"),
    Hostile("bom", _file("bom.py", b"\xef\xbb\xbfx = 1\n"), "bom.py"),
    Hostile("bom-and-other-cookie",
            _file("bomcookie.py", b"\xef\xbb\xbf# coding: latin-1\nx = 1\n"), "bomcookie.py",
            "a UTF-8 BOM and a coding cookie naming another encoding"),
    Hostile("undecodable-name", _file(os.fsdecode(b"bad\xff.py"), b"def (:\n"),
            os.fsdecode(b"bad\xff.py"), "syntax error at line 1", flake8_fails=True),
    Hostile("huge", _huge, "huge.py", costly=True),
    Hostile("deeply-nested", _nested, "nested.py", "RecursionError", flake8_fails=True),
    Hostile("deep-fixable", _deep_fixable, "deep.py", flake8_fails=True),
    Hostile("empty", _file("empty.py", b""), "empty.py"),
    Hostile("symlink-loops", _symlink_loops, "cycle_a.py", "Too many levels of symbolic links",
            "E902"),
    Hostile("fifo", _fifo, "pipe.py", "not a regular file", flake8_fails=True),
    Hostile("fifo-config-files", _fifo_config_files, "Dockerfile"),
    Hostile("folder-named-py", _folder_named_py, "folder.py"),
    Hostile("dangling-symlink", _dangling, "dangling.py", "No such file or directory", "E902"),
    Hostile("broken-pyproject", _file("pyproject.toml", b"[project\nname = \n"),
            "pyproject.toml", "Expected ']' at the end of a table declaration"),
    Hostile("broken-requirements",
            _file("requirements-dev.txt", b"fastapi>=<1\n-r missing.txt\nsqlalchemy[\n"),
            "requirements-dev.txt", "line 1: invalid requirement 'fastapi>=<1'"),
    Hostile("binary-env", _file(".env", b"\xff\xfe\x00DATABASE_URL=postgres://u:hunter2@db/x\n"
                                        b"\x00\x01\x02\n"), ".env", "not UTF-8 text"),
)
if os.path.exists(PROC_MEMORY):
    HOSTILE += (Hostile("unreadable-even-for-root", _proc_memory, "memory.py",
                        "cannot be read: Input/output error", "E902"),)
COMBINED = tuple(hostile for hostile in HOSTILE if not hostile.costly)
SECRET = "hunter2"  # in the binary .env: no door may print it
UNREADABLE = Hostile("unreadable", _unreadable, "secret.py", "Permission denied", "E902")
BY_NAME: Dict[str, Hostile] = {hostile.name: hostile for hostile in HOSTILE + (UNREADABLE,)}


def write_sibling(root: Path, markers: bool = True) -> None:
    """The healthy part of every project: its known defects must always be reported."""
    if markers:
        _write(root, "pyproject.toml", PYPROJECT)
    _write(root, "requirements.txt", REQUIREMENTS)
    _write(root, "app/__init__.py", b"")
    _write(root, SIBLING, SIBLING_SOURCE)


def build_project(root: Path, *hostiles: Hostile) -> Path:
    """A project at `root` with the healthy sibling and each of `hostiles`."""
    root.mkdir(parents=True, exist_ok=True)
    write_sibling(root)
    for hostile in hostiles:
        hostile.build(root)
    return root


def build_combined(root: Path) -> Path:
    """One project holding every hostile input at once (not the costly ones, nor the
    unreadable file: see `chmod_blocks_reads`)."""
    return build_project(root, *COMBINED)


def chmod_blocks_reads(folder: Path) -> bool:
    """Whether mode 000 stops this process from reading a file (not for root: `os.access`
    says no, yet the read succeeds)."""
    probe = folder / ".chmod-probe"
    probe.write_bytes(b"x")
    os.chmod(probe, 0)
    try:
        probe.read_bytes()
    except PermissionError:
        return True
    finally:
        os.chmod(probe, 0o600)
        probe.unlink()
    return False


Snapshot = Dict[str, Tuple[str, bytes, int]]


def snapshot(root: Path) -> Snapshot:
    """Every entry under `root` (links not followed): its kind, bytes (or link target) and
    mtime — FIFOs and unreadable files by kind and mtime only, so taking it never blocks. The
    tool's own cache folder (`.stability_cache/`, the one place the doors may write unasked) is
    left out."""
    entries: Snapshot = {}
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = [name for name in dirs if name != CACHE_FOLDER]
        for name in dirs + names:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            status = path.lstat()
            if path.is_symlink():
                entries[relative] = ("link", os.readlink(path).encode(), status.st_mtime_ns)
            elif path.is_dir():
                entries[relative] = ("dir", b"", status.st_mtime_ns)
            elif not path.is_file() or not status.st_mode & 0o444:
                entries[relative] = ("other", b"", status.st_mtime_ns)
            else:
                entries[relative] = ("file", path.read_bytes(), status.st_mtime_ns)
    return entries


def changed(before: Snapshot, after: Snapshot) -> List[str]:
    """The entries that differ between two snapshots (added, removed or changed)."""
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
