"""Golden files for stability-fix, in the style of flake8-async's autofix files: a small shop
backend (`tests/fixtures/golden/shop/before/`) with five fixable defects across four files —
comments and a parenthesised multi-name import, a multi-line call, a CRLF file with a non-ASCII
comment, a latin-1 file with a coding cookie — its expected diff (`expected.diff`, byte for
byte) and the expected files after `--write` (`after/`). The fixed backend boots."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import golden_files
from golden_files import stability_fix, tree

GOLDEN = golden_files.GOLDEN / "shop"
LIFESPAN = ("import asyncio\nfrom app.main import app\n"
            "async def boot():\n    async with app.router.lifespan_context(app):\n        pass\n"
            "asyncio.run(boot())\n")


def test_the_diff_the_files_and_the_boot_match_the_golden_files(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(GOLDEN / "before", project)
    before = subprocess.run([sys.executable, "-c", LIFESPAN], cwd=project, capture_output=True,
                            text=True, timeout=120)
    assert "pydantic.errors.PydanticImportError" in before.stderr
    shown = stability_fix(project)
    assert shown.returncode == 1
    assert shown.stdout == (GOLDEN / "expected.diff").read_bytes()
    assert tree(project) == tree(GOLDEN / "before")  # --diff writes nothing
    assert stability_fix(project, "--write").returncode == 0
    assert tree(project) == tree(GOLDEN / "after")
    again = stability_fix(project)
    assert again.returncode == 0 and again.stdout == b""
    booted = subprocess.run([sys.executable, "-c", LIFESPAN], cwd=project, capture_output=True,
                            text=True, timeout=120)
    assert booted.returncode == 0, booted.stderr
