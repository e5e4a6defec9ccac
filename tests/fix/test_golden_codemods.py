"""Golden files per codemod, in the style of flake8-async's autofix files: for every codemod of
the registry, `tests/fixtures/golden/codemods/<id>/` holds a small project (`before/`) with the
plain case, comments around and inside the edited code, unusual formatting (parentheses, several
lines, backslashes) and a case the codemod must leave alone; the exact output of
`stability-fix --diff` (`expected.diff`) and its stderr, the findings it skips
(`expected.skipped`); and the project after `--write` (`after/`), byte for byte. Several inputs
are CRLF files or latin-1/cp1252 files with a coding cookie. Regenerate with
`scripts/regen_golden.py`, then read every diff (tests/fixtures/golden/README.md).

Requirement-file fixes judge what is installed: their goldens name the distributions of the
project's interpreter (`installed.json`, a venv with hand-written distributions). Their findings
stay reported after the fix, until the environment is re-installed: the second run skips them
with that advice, which is what the last check reads."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import List, Optional, Tuple

import pytest
from golden_files import (CODEMODS, DIFF, SKIPPED, codemod_goldens, interpreter, options,
                          stability_fix, tree)

from flake8_stability.engine import Selection, audit
from flake8_stability.fix.codemod import registry

COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*(?:latin-1|cp1252)", re.MULTILINE)


def skipped(text: bytes, codemod: str) -> List[Tuple[str, str]]:
    """(code, path) of each finding stability-fix reports it skipped for `codemod`."""
    found = re.findall(rf"skipped (SBA\d+) at (\S+):\d+ \({re.escape(codemod)}\)",
                       text.decode())
    return sorted(found)


def left(project: Path, codemod: str, python: Optional[str]) -> List[Tuple[str, str]]:
    """(code, path) of each finding the engine still reports with this codemod as its fix."""
    (result,) = audit([project], Selection(select=registry()[codemod].codes), python=python)
    return sorted((finding.code, Path(finding.path).relative_to(project).as_posix())
                  for finding in result.findings if finding.fix.codemod == codemod)


@pytest.mark.parametrize("codemod", codemod_goldens())
def test_the_diff_and_the_fixed_files_match_the_golden_files(
        tmp_path: Path, codemod: str) -> None:
    golden = CODEMODS / codemod
    project = tmp_path / codemod
    shutil.copytree(golden / "before", project)
    python = interpreter(codemod, tmp_path)
    arguments = [*options(codemod), *python]
    shown = stability_fix(project, "--diff", *arguments)
    assert shown.returncode == 1
    assert shown.stdout == (golden / DIFF).read_bytes()
    assert shown.stderr == (golden / SKIPPED).read_bytes()
    assert tree(project) == tree(golden / "before")  # --diff writes nothing
    assert stability_fix(project, "--write", *arguments).returncode == 0
    assert tree(project) == tree(golden / "after")
    again = stability_fix(project, "--diff", *arguments)
    assert (again.returncode, again.stdout) == (0, b"")  # idempotent
    still = left(project, codemod, python[-1] if python else None)
    assert still == skipped(again.stderr, codemod)
    assert set(skipped(shown.stderr, codemod)) <= set(still)


def test_every_codemod_has_golden_files() -> None:
    assert codemod_goldens() == sorted(registry())


def test_the_goldens_hold_crlf_and_non_utf8_files() -> None:
    inputs = [path.read_bytes() for path in CODEMODS.glob("*/before/**/*.py")]
    crlf = [data for data in inputs if b"\r\n" in data]
    cookies = [data for data in inputs if COOKIE.search(data)]
    assert len(crlf) >= 3 and all(b"\n" not in data.replace(b"\r\n", b"") for data in crlf)
    assert len(cookies) >= 3
    for data in cookies:
        assert any(byte >= 0x80 for byte in data)  # non-ASCII text the cookie decodes
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
