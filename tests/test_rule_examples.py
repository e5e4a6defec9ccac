"""Every rule's documented examples, run through real flake8 (one run for all of them).

Each example is its own project (a folder with a pyproject.toml), so examples never see
each other; one that declares `installed=(...)` is judged with the venv holding those pins."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import boot_examples
import example_projects
from flake8_runner import Flake8Run, run_flake8
from flake8_stability.rules import all_rules

EXAMPLES: List[Tuple[str, str, int]] = [
    (rule.code, kind, index)
    for rule in all_rules()
    for kind, examples in (("invalid", rule.invalid), ("valid", rule.valid))
    for index in range(len(examples))
]


def _example(code: str, kind: str, index: int):
    rule = next(r for r in all_rules() if r.code == code)
    return getattr(rule, kind)[index]


@pytest.fixture(scope="session")
def examples_run(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Flake8Run]:
    root = tmp_path_factory.mktemp("examples")
    for code, kind, index in EXAMPLES:
        folder = root / f"{code}_{kind}_{index}"
        folder.mkdir()
        example_projects.write(_example(code, kind, index), folder)
    opt_in = ",".join(rule.code for rule in all_rules() if not rule.enabled_by_default)
    return root, run_flake8(["--jobs", "2", *(["--extend-select", opt_in] if opt_in else []), "."],
                            cwd=root)


def _reported(run: Flake8Run, code: str, kind: str,
              index: int) -> Dict[str, Dict[str, List[int]]]:
    """code -> file of the example -> reported lines."""
    folder = f"{code}_{kind}_{index}"
    found: Dict[str, Dict[str, List[int]]] = {}
    for result in run.results:
        parts = Path(result.path).parts
        if folder in parts:
            path = "/".join(parts[parts.index(folder) + 1:])
            found.setdefault(result.code, {}).setdefault(path, []).append(result.line)
    return found


@pytest.mark.parametrize("code,kind,index", [
    pytest.param(c, k, i, id=f"{c}-{k}-{i}", marks=example_projects.marks(_example(c, k, i)))
    for c, k, i in EXAMPLES])
def test_example(examples_run: Tuple[Path, Flake8Run], code: str, kind: str, index: int,
                 tmp_path: Path) -> None:
    _, run = examples_run
    assert "internal error" not in run.stderr, run.stderr
    reported = _reported(run, code, kind, index)
    example = _example(code, kind, index)
    rule = next(r for r in all_rules() if r.code == code)
    if boot_examples.is_probe_only(rule):
        assert code not in reported, "a probe-only rule never reports in flake8"
        booted = boot_examples.reported(rule, example, tmp_path)
        reported = {code: booted} if booted else {}
    if kind == "valid":
        assert code not in reported, f"false positive on a valid example:\n{example.code}"
    else:
        expected = example.expected(code)
        assert expected, "an invalid example must mark its lines with '# expect: CODE'"
        got = {path: sorted(lines) for path, lines in reported.get(code, {}).items()}
        assert got == expected, example.code
