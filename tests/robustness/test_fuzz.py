"""Issue 9 item 2, beyond `test_no_crash` (generated programs through the per-file rules, the
web stack's own sources) and `test_fix_never_breaks` (codemods on generated programs):

- every `.py` file of the installed site-packages through every per-file rule, the way the
  engine reads files (a spread sample here; all of them with `STABILITY_SITE_PACKAGES=all`,
  which `tox -e fuzz` sets);
- generated programs as a project's module through the whole engine (project rules included)
  and the whole fix path, which must raise nothing, report no internal error, and produce
  code that still parses."""
from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path
from typing import List

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, given, settings
from test_no_crash import parse, programs, run_rules

from flake8_stability.config import Config
from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.engine import audit
from flake8_stability.fix.apply import fix_files
from flake8_stability.project.sources import decode, read_source

from .corpus import SIBLING, SIBLING_SOURCE, write_sibling

SAMPLE = os.environ.get("STABILITY_SITE_PACKAGES", "60")  # a number of files, or "all"
# A tenth of test_no_crash's count: each example is a whole audit and fix run.
ENGINE_FUZZ = settings(max_examples=int(os.environ.get("STABILITY_FUZZ_EXAMPLES", "100")) // 10
                       or 1, deadline=None,
                       suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                              HealthCheck.function_scoped_fixture])
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")


def site_packages_files(sample: str) -> List[Path]:
    """The installed `.py` files, sorted; `sample` of them spread evenly, or "all"."""
    folders = sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
    files = sorted({path for folder in folders for path in Path(folder).rglob("*.py")})
    if sample == "all" or int(sample) >= len(files):
        return files
    stride = len(files) / int(sample)
    return [files[int(n * stride)] for n in range(int(sample))]


def test_site_packages_through_every_per_file_rule(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'walk'\n")
    project = ProjectContext(tmp_path, Config(python=sys.executable))
    files = site_packages_files(SAMPLE)
    parsed = 0
    for path in files:
        source = read_source(path)
        if source.tree is None:  # reported as a problem by the engine; flake8 says E999
            assert source.problem, path
            continue
        run_rules(ModuleContext(str(path), source.lines, source.tree, project))
        parsed += 1
    assert len(files) >= (50 if SAMPLE != "all" else 1000)
    assert parsed >= 0.9 * len(files)


class Scratch:
    """A project rewritten for each generated program: `app/main.py` holds it, beside the
    healthy sibling."""

    def __init__(self, root: Path) -> None:
        self.root = root
        write_sibling(root)
        self.main = root / "app" / "main.py"

    def check(self, source: str) -> None:
        self.main.write_text(source, encoding="utf-8")
        results = audit([self.root])
        assert [result.errors for result in results] == [[]]
        found = [f for result in results for f in result.findings]
        assert any(f.code == "SBA302" and f.path.endswith(SIBLING) for f in found)
        for fix in fix_files(found, unsafe=True):
            assert Path(fix.path).read_bytes() == fix.before  # the fix path writes nothing
            if fix.changed and fix.path == str(self.main):
                assert parse(decode(fix.after)) is not None, "the fix broke the module"
        assert (self.root / SIBLING).read_bytes() == SIBLING_SOURCE


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Scratch:
    return Scratch(tmp_path_factory.mktemp("fuzz-engine"))


def writable(source: str) -> str:
    """Programs `ast` parses and a UTF-8 file can hold (generated text may hold surrogates)."""
    assume(parse(source) is not None)
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        assume(False)
    return source


@ENGINE_FUZZ
@given(source=hypothesmith.from_node())
def test_generated_programs_through_the_engine_and_the_fix_path(scratch: Scratch,
                                                                source: str) -> None:
    scratch.check(writable(source))


@ENGINE_FUZZ
@given(source=programs())
def test_database_programs_through_the_engine_and_the_fix_path(scratch: Scratch,
                                                               source: str) -> None:
    scratch.check(writable(source))
