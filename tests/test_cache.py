"""The on-disk cache (`.stability_cache/`): a warm run gives exactly the report of a cold one,
any change to an input is seen, and a broken, shared or unwritable cache never changes a result.

Whether a run used the cache is seen by poisoning: a stored finding's message is replaced, so a
run that reuses the entry prints the poison and a run that recomputes does not. Projects are
copied and left alone for `RACY_SECONDS` before the first run: files changed just before a run
cannot be trusted by their times, and such a run stores nothing (see test_fresh_files...)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from flake8_runner import run_flake8
from flake8_stability.cache.fingerprint import RACY_SECONDS
from flake8_stability.cache.project import FOLDER
from flake8_stability.cache.store import CacheStore

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "async-shop"
DOOR = REPO / "tests" / "fixtures" / "door"
POISON = "POISONED BY THE TEST"
Copies = Callable[..., Dict[str, Path]]


@pytest.fixture
def settled(tmp_path: Path) -> Copies:
    """Copies of a fixture project, one per name, aged past the racy window together."""

    def make(source: Path, *names: str, pyproject: str = "") -> Dict[str, Path]:
        copies = {}
        for name in names:
            copy = tmp_path / name
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns(FOLDER, "__pycache__"))
            if pyproject:
                with open(copy / "pyproject.toml", "a", encoding="utf-8") as stream:
                    stream.write(pyproject)
            copies[name] = copy
        time.sleep(RACY_SECONDS + 0.3)
        return copies

    return make


def audit_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "flake8_stability.audit.cli", ".", "--format",
                           "json", *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def report(root: Path, *args: str) -> dict:
    done = audit_cli(root, *args)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def entries(root: Path, kind: str) -> List[Path]:
    return sorted((root / FOLDER / kind).glob("*.json"))


def poison(root: Path) -> None:
    """Replace the first stored finding's message in every audit entry."""
    for path in entries(root, "audit"):
        entry = json.loads(path.read_text(encoding="utf-8"))
        entry["data"]["data"]["findings"][0]["message"] = POISON
        path.write_text(json.dumps(entry), encoding="utf-8")


def messages(data: dict) -> List[str]:
    return [f["message"] for project in data["projects"] for f in project["findings"]]


@pytest.mark.parametrize("fixture", [EXAMPLE, DOOR], ids=["async-shop", "door"])
def test_a_warm_run_gives_exactly_the_cold_report(settled: Copies, fixture: Path) -> None:
    root = settled(fixture, "project")["project"]
    cold = audit_cli(root)
    assert (root / FOLDER / "CACHEDIR.TAG").read_text().startswith(
        "Signature: 8a477f597d28d172789f06886806bc55")
    assert (root / FOLDER / ".gitignore").read_text() == "*\n"
    assert entries(root, "audit") and entries(root, "report")
    warm = audit_cli(root)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout,
                                                           cold.stderr)
    assert warm.stdout == audit_cli(root, "--no-cache").stdout
    assert json.loads(cold.stdout)["projects"][0]["findings"]
    poison(root)
    assert POISON in messages(report(root))  # the warm run read the stored findings
    assert POISON not in messages(report(root, "--no-cache"))


def test_a_change_to_any_input_is_seen(settled: Copies, tmp_path: Path) -> None:
    changes: Dict[str, Callable[[Path], object]] = {
        "same size, mtime restored": _rewrite_keeping_size_and_mtime,
        "touched": lambda root: os.utime(root / "src" / "db" / "session.py"),
        "new module": lambda root: (root / "src" / "extra.py").write_text("import os\n"),
        "module removed": lambda root: (root / "src" / "api" / "__init__.py").unlink(),
        "requirements": lambda root: (root / "requirements.txt").write_text(
            "fastapi==0.99.0\nsqlalchemy<2\n"),
        "pyproject dependencies": lambda root: _replace(root / "pyproject.toml",
                                                        '"aiosqlite>=0.20",\n', ""),
        ".env": lambda root: (root / ".env").write_text(
            "DATABASE_URL=postgresql://shop:s3cret@db/shop\n"),
        "config": lambda root: _append(root / "pyproject.toml",
                                       '\n[tool.flake8-stability]\ntarget = "src.main:app"\n'),
    }
    copies = settled(EXAMPLE, *(name.replace(" ", "-").replace(",", "") for name in changes))
    for root in copies.values():
        report(root)
        poison(root)
    unchanged = next(iter(copies.values()))
    assert POISON in messages(report(unchanged))
    for (what, change), root in zip(changes.items(), copies.values()):
        change(root)
        warm = report(root)
        assert POISON not in messages(warm), what
        assert warm == report(root, "--no-cache"), what


def _rewrite_keeping_size_and_mtime(root: Path) -> None:
    """An edit no size or mtime shows (the ctime still does)."""
    path = root / "src" / "db" / "session.py"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    edited = text.replace("sqlite:///./shop.db", "sqlite:///./shop.xx")
    assert edited != text and len(edited) == len(text)
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(text)


def test_installing_a_package_in_the_projects_interpreter_is_seen(settled: Copies,
                                                                  tmp_path: Path) -> None:
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env)
    python = env / "bin" / "python"
    root = settled(EXAMPLE, "project", pyproject=f'\n[tool.flake8-stability]\npython = "{python}"\n'
                   )["project"]
    before = report(root)
    assert entries(root, "environment")  # the interpreter's listing is kept too
    poison(root)
    assert POISON in messages(report(root))
    site = next(env.glob("lib/python*/site-packages"))
    info = site / "fastapi-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fastapi\nVersion: 0.1.0\n")
    after = report(root)
    assert POISON not in messages(after)
    assert after == report(root, "--no-cache")
    assert after["projects"][0]["versions"]["fastapi"] == "0.1.0"
    assert before["projects"][0]["versions"]["fastapi"] is None


def test_fresh_files_are_not_trusted_so_nothing_is_stored(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(FOLDER))
    report(root)
    assert not (root / FOLDER).exists()


def test_corrupt_truncated_and_foreign_entries_are_misses(settled: Copies) -> None:
    root = settled(EXAMPLE, "project")["project"]
    cold = audit_cli(root)
    damaged = entries(root, "audit") + entries(root, "report")
    assert len(damaged) >= 3
    damaged[0].write_bytes(damaged[0].read_bytes()[:100])
    damaged[1].write_bytes(b"\x00\xff not json")
    entry = json.loads(damaged[2].read_text())
    damaged[2].write_text(json.dumps(dict(entry, format=entry["format"] + 1)))
    warm = audit_cli(root)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout,
                                                           cold.stderr)
    for path in damaged:  # the next run stored them again
        assert json.loads(path.read_text())["format"] == entry["format"]


def test_concurrent_runs_share_one_cache(settled: Copies) -> None:
    root = settled(EXAMPLE, "project")["project"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "flake8_stability.audit.cli", ".", "--format", "json"]
    runs = [subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate(timeout=300) for run in runs]
    expected = audit_cli(root, "--no-cache").stdout
    assert all(out == expected and err == "" for out, err in outputs)
    assert audit_cli(root).stdout == expected
    assert len(entries(root, "audit")) == 1
    assert not list((root / FOLDER).rglob(".tmp-*"))


def test_an_unusable_cache_folder_costs_one_line_on_stderr(settled: Copies) -> None:
    copies = settled(EXAMPLE, "audit", "flake8")
    copies.update(settled(EXAMPLE, "config", pyproject='\n[tool.flake8-stability]\n'
                                                       'cache-dir = "pyproject.toml/cache"\n'))
    for name in ("audit", "flake8"):
        (copies[name] / FOLDER).write_text("a file where the folder should be")
    for name in ("audit", "config"):
        expected = audit_cli(copies[name], "--no-cache")
        done = audit_cli(copies[name])
        assert (done.returncode, done.stdout) == (expected.returncode, expected.stdout)
        assert done.stderr.count("\n") == 1 and "cache disabled" in done.stderr
    linted = run_flake8(["."], cwd=copies["flake8"])
    assert linted.results and linted.stderr == ""


def test_no_cache_and_cache_false_write_nothing_and_cache_dir_moves_it(settled: Copies) -> None:
    copies = settled(EXAMPLE, "option", "off", "moved")
    audit_cli(copies["option"], "--no-cache")
    _append(copies["off"] / "pyproject.toml", "\n[tool.flake8-stability]\ncache = false\n")
    audit_cli(copies["off"])
    run_flake8(["."], cwd=copies["off"])
    _append(copies["moved"] / "pyproject.toml",
            '\n[tool.flake8-stability]\ncache-dir = "build/lint-cache"\n')
    time.sleep(RACY_SECONDS + 0.3)
    audit_cli(copies["moved"])
    for root in copies.values():
        assert not (root / FOLDER).exists()
    assert (copies["moved"] / "build" / "lint-cache" / "CACHEDIR.TAG").is_file()


def test_stability_fix_reads_the_cache_but_never_writes_it(settled: Copies) -> None:
    copies = settled(EXAMPLE, "fresh", "warm")
    env = dict(os.environ, PYTHONPATH=str(REPO))

    def fix(root: Path, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "flake8_stability.fix.cli", ".", *args],
                              cwd=root, env=env, capture_output=True, text=True,
                              timeout=300).stdout

    assert fix(copies["fresh"]) and not (copies["fresh"] / FOLDER).exists()
    report(copies["warm"])
    assert fix(copies["warm"]) == fix(copies["warm"], "--no-cache") == fix(copies["fresh"])


def test_flake8_jobs_2_with_the_cache_gives_what_jobs_1_gives_without(settled: Copies) -> None:
    copies = settled(DOOR, "cached", "uncached")
    _append(copies["uncached"] / "pyproject.toml", "\n[tool.flake8-stability]\ncache = false\n")
    expected = _flake8_lines(copies["uncached"], "--jobs", "1")
    assert expected
    assert _flake8_lines(copies["cached"], "--jobs", "2") == expected  # cold, writing
    lint = entries(copies["cached"], "lint")
    assert len(lint) == len(list(copies["cached"].rglob("*.py")))
    assert _flake8_lines(copies["cached"], "--jobs", "2") == expected  # warm, reading
    for path in lint:
        entry = json.loads(path.read_text())
        if entry["data"]["data"]:
            entry["data"]["data"][0][2] = "SBA999 " + POISON
            path.write_text(json.dumps(entry))
    assert any(POISON in line for line in _flake8_lines(copies["cached"], "--jobs", "2"))


def _flake8_lines(root: Path, *args: str) -> List[str]:
    return sorted(f"{r.path}:{r.line}:{r.col}: {r.code} {r.text}"
                  for r in run_flake8([*args, "."], cwd=root).results)


def test_an_editors_buffer_is_linted_as_it_is_not_as_cached(settled: Copies) -> None:
    root = settled(DOOR, "project")["project"]
    path = root / "app" / "db.py"
    assert 11 in run_flake8(["app/db.py"], cwd=root).lines_of("SBA302")  # cached as on disk
    buffer = path.read_text(encoding="utf-8").replace("sqlite:///", "sqlite+aiosqlite:///")
    args = ["-", "--stdin-display-name", "app/db.py"]
    for _ in range(2):  # computed, then from the buffer's own entry
        assert run_flake8(args, cwd=root, stdin=buffer).lines_of("SBA302") == []
    assert 11 in run_flake8(["app/db.py"], cwd=root).lines_of("SBA302")


def test_the_store_prunes_the_oldest_entries_beyond_what_it_keeps(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "cache")
    for number in range(10):
        assert store.write(f"kind/{number}.json", "key", number)
        os.utime(tmp_path / "cache" / "kind" / f"{number}.json", ns=(number, number))
    store.prune("kind", 3)
    assert sorted(p.name for p in (tmp_path / "cache" / "kind").iterdir()) == [
        "7.json", "8.json", "9.json"]
    assert [store.read(f"kind/{n}.json", "key") for n in (6, 9)] == [None, 9]
    assert store.read("kind/9.json", "another key") is None
