"""The venvs examples declare with `installed=(...)`: keyed by their pins, built once and
atomically (also by concurrent processes), named in the example's pyproject.toml, and never
shown as a path in the docs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import example_projects
import stack_venvs
from flake8_stability.docs import render
from flake8_stability.rules import rule_for
from flake8_stability.rules.base import Valid

TESTS = Path(__file__).parent
_BUILD = ("import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
          "import stack_venvs; print(stack_venvs.build(['six==1.17.0'], root=Path(sys.argv[2])))")


def test_the_key_ignores_order_spelling_and_duplicates() -> None:
    key = stack_venvs.key(["SQLAlchemy==2.0.44", "aiosqlite==0.22.1"])
    assert key == stack_venvs.key(["aiosqlite==0.22.1", "sqlalchemy == 2.0.44",
                                   "aiosqlite==0.22.1"])
    assert key != stack_venvs.key(["SQLAlchemy==2.0.43", "aiosqlite==0.22.1"])
    assert len(key) == 12 and stack_venvs.venv_of(["aiosqlite==0.22.1"]).is_relative_to(
        stack_venvs.ROOT)


@pytest.mark.parametrize("pin", ["sqlmodel>=0.0.8", "sqlmodel", "sqlmodel==0.0.8; python<'3'"])
def test_only_exact_pins_are_accepted(pin: str) -> None:
    with pytest.raises(ValueError):
        stack_venvs.normalized([pin])
    with pytest.raises(ValueError):
        Valid("x = 1\n", installed=(pin,))


def test_two_processes_build_the_same_venv_once(tmp_path: Path) -> None:
    builders = [subprocess.Popen([sys.executable, "-c", _BUILD, str(TESTS), str(tmp_path)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    outputs = [builder.communicate(timeout=300) for builder in builders]
    assert [builder.returncode for builder in builders] == [0, 0], outputs
    pythons = {out.strip() for out, _ in outputs}
    expected = stack_venvs.python_of(["six==1.17.0"], root=tmp_path)
    assert pythons == {str(expected)}
    venvs = list(expected.parent.parent.parent.iterdir())
    assert venvs == [expected.parent.parent], "a partial build was left behind"
    assert (venvs[0] / "pins.txt").read_text() == "six==1.17.0\n"
    done = subprocess.run([str(expected), "-I", "-c", "import six; print(six.__version__)"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "1.17.0", done.stderr
    assert stack_venvs.build(["six==1.17.0"], root=tmp_path) == expected  # built: reused


def test_an_installed_example_names_its_venv_in_pyproject() -> None:
    pins = ("bcrypt==5.0.0",)
    python = str(stack_venvs.python_of(pins))
    appended = example_projects.pyproject_for(None, pins)
    assert appended == ("[project]\nname = 'example'\n\n[tool.flake8-stability]\n"
                        f"python = {python!r}\n")
    joined = example_projects.pyproject_for(
        "[project]\nname = 'shop'\n\n[tool.flake8-stability]\ntarget = 'app.main:app'\n", pins)
    assert joined == ("[project]\nname = 'shop'\n\n[tool.flake8-stability]\n"
                      f"python = {python!r}\ntarget = 'app.main:app'\n")
    assert example_projects.pyproject_for("[project]\nname = 'shop'\n", ()) == \
        "[project]\nname = 'shop'\n"


@pytest.mark.parametrize("installed", [(), ("bcrypt==5.0.0",)])
def test_an_example_never_names_an_interpreter_itself(installed: tuple) -> None:
    with pytest.raises(ValueError, match="installed="):
        example_projects.pyproject_for(
            "[project]\nname = 'x'\n\n[tool.flake8-stability]\npython = '/opt/py'\n", installed)


def test_the_docs_list_the_pins_and_never_a_venv_path() -> None:
    docs = render()
    assert str(stack_venvs.ROOT) not in docs and "flake8-stability-venvs" not in docs
    assert ("Judged with an interpreter that has passlib 1.7.4, bcrypt 5.0.0, fastapi 0.165.0, "
            "starlette 1.10.0, pydantic 2.14.4.") in docs
    assert "Fails with `ImportError: cannot import name 'Undefined' from 'pydantic.fields'` " \
           "when `import app.main` runs." in docs


def test_the_sba2xx_examples_are_judged_with_the_stacks_the_tests_study() -> None:
    declared = {stack_venvs.key(example.installed)
                for code in ("SBA201", "SBA203", "SBA205", "SBA208", "SBA209")
                for example in rule_for(code).invalid if example.installed}
    assert declared == {stack_venvs.key(pins) for pins in stack_venvs.STACKS.values()}
