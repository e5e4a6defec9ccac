"""The audit engine: every selected rule over every file of a project, once, with the findings
flake8 would give, unreadable files listed, failing rules contained and `# noqa` honoured."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from flake8_stability.engine import Selection, audit
from flake8_stability.rules import rule_for

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "async-shop"
DB = ("from sqlalchemy.ext.asyncio import create_async_engine\n\n"
      "engine = create_async_engine('sqlite:///./app.db')\n")
MAIN = "from fastapi import FastAPI\n\nfrom app.db import engine  # noqa: F401\n\napp = FastAPI()\n"


def write(root: Path, files: Dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return root


def codes(result) -> list:
    return sorted((Path(f.path).name, f.line, f.code) for f in result.findings)


def test_the_example_backend_gives_what_flake8_gives() -> None:
    [result] = audit([EXAMPLE])
    found = {(Path(f.path).relative_to(EXAMPLE).as_posix(), f.line, f.code, f.severity.value)
             for f in result.findings}
    assert ("src/db/session.py", 12, "SBA302", "blocking") in found
    assert ("src/core/config.py", 2, "SBA103", "blocking") in found
    assert ("src/core/config.py", 9, "SBA502", "blocking") in found
    assert ("src/api/orders.py", 16, "SBA206", "blocking") in found
    assert result.problems == [] and result.errors == []
    assert len(result.files) == 11


def test_unreadable_files_are_listed_and_the_rest_is_audited(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/main.py": MAIN,
                            "app/broken.py": "def f(:\n", "app/nul.py": b"x = 1\x00\n",
                            "app/latin.py": b"# -*- coding: utf-8 -*-\nname = '\xff'\n"})
    [result] = audit([root])
    assert ("db.py", 3, "SBA302") in codes(result)
    assert sorted(Path(p.path).name for p in result.problems) == [
        "broken.py", "latin.py", "nul.py"]


def test_selection_works_like_flake8(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/main.py": MAIN})
    assert codes(audit([root], Selection(("SBA3",), ("SBA302",)))[0]) == []
    assert codes(audit([root], Selection(("SBA302",)))[0]) == [("db.py", 3, "SBA302")]
    assert not Selection(("SBA",)).wants(rule_for("SBA603"))
    assert Selection(("SBA603",)).wants(rule_for("SBA603"))


def test_noqa_comments_suppress_like_in_flake8(tmp_path: Path) -> None:
    for comment, reported in (("  # noqa", False), ("  # noqa: SBA302", False),
                              ("  # noqa:E501,SBA3", False), ("  # noqa: E501", True)):
        db = DB.replace("app.db')", "app.db')" + comment)
        root = write(tmp_path, {"app/__init__.py": "", "app/db.py": db, "app/main.py": MAIN})
        assert bool(codes(audit([root], Selection(("SBA302",)))[0])) is reported, comment


def test_a_failing_rule_is_one_error_line_and_the_others_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = rule_for("SBA302")

    def explode(self, module):
        raise RuntimeError("boom")

    monkeypatch.setattr(rule, "check_module", explode)
    root = write(tmp_path, {"app/__init__.py": "", "app/db.py": DB, "app/main.py": MAIN,
                            "app/other.py": "from pydantic import BaseSettings\n"})
    [result] = audit([root])
    assert [error for error in result.errors if "SBA302" in error and "boom" in error]
    assert ("other.py", 1, "SBA103") in codes(result)


def test_paths_in_several_projects_give_one_result_each(tmp_path: Path) -> None:
    one = write(tmp_path / "one", {"app/__init__.py": "", "app/db.py": DB, "app/main.py": MAIN})
    two = write(tmp_path / "two", {"main.py": MAIN.replace("from app.db import engine", "")})
    results = audit([one / "app" / "db.py", two])
    assert [r.root for r in results] == [one, two]
    assert [len(r.files) for r in results] == [1, 1]
