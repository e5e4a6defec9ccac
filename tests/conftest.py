import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from typing import Callable, Dict  # noqa: E402

import pytest  # noqa: E402

import stack_venvs  # noqa: E402
from flake8_runner import Flake8Run, run_flake8  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def example_venvs(request: pytest.FixtureRequest) -> None:
    """The interpreters the collected rule examples declare with `installed=(...)` (their
    tests mark them `venv(*pins)`), each built once per machine (`stack_venvs`)."""
    needed = {stack_venvs.normalized(mark.args) for item in request.session.items
              for mark in item.iter_markers("venv")}
    for pins in sorted(needed):
        try:
            stack_venvs.build(pins)
        except FileNotFoundError:  # a `python==X.Y` pin this machine has no Python for
            continue  # the examples needing it are skipped (example_projects.interpreter)


@pytest.fixture
def lint(tmp_path: Path) -> Callable[..., Flake8Run]:
    """Write a small project (`{"relative/path.py": source}`) and run flake8 on it."""

    def run(files: Dict[str, str], *args: str) -> Flake8Run:
        (tmp_path / "pyproject.toml").write_text("[project]\nname = 'fixture'\n")
        for name, source in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
        return run_flake8([*args, "."], cwd=tmp_path)

    return run
