"""Rule examples as project folders, for the tests that lint, prove and boot them. An example
that declares `installed=(...)` is judged with the venv holding those pins (`stack_venvs`): its
pyproject.toml names that venv's python, and its code runs with that venv's site-packages ahead
of the test stack's."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import pytest

import stack_venvs
from flake8_stability.rules.base import Invalid, Valid

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

Example = Union[Valid, Invalid]
DEFAULT_PYPROJECT = "[project]\nname = 'example'\n"
_HEADER = re.compile(r"(?m)^\[tool\.flake8-stability\][ \t]*(#.*)?\n")

# Driver code: `site_first(folder)` puts `folder` (with its .pth files) ahead of the running
# interpreter's own site-packages; the working dir, the boot roots and the stdlib stay first.
SITE_FIRST = '''
def site_first(folder):
    import site, sys
    if not folder:
        return
    own = set(site.getsitepackages() + [site.getusersitepackages()])
    index = next((i for i, entry in enumerate(sys.path) if entry in own), len(sys.path))
    sys.path.insert(index, folder)
    site.addsitedir(folder)
'''


def marks(example: Example) -> List[pytest.MarkDecorator]:
    """`venv(pins)` for an example with `installed`: the session fixture builds that venv."""
    return [pytest.mark.venv(*example.installed)] if example.installed else []


def site_packages(example: Example) -> str:
    """The site-packages to put ahead of the test stack's: the example's venv's, or "" for the
    test stack alone or for a venv of another Python (which runs by itself)."""
    if not example.installed or stack_venvs.python_version(example.installed):
        return ""
    return str(stack_venvs.site_packages(example.installed))


def interpreter(example: Example) -> str:
    """The interpreter that runs the example's code: its venv's own for a `python==X.Y` pin,
    else the test stack's."""
    version = stack_venvs.python_version(example.installed) if example.installed else None
    if version is None:
        return sys.executable
    python = stack_venvs.python_of(example.installed)
    if not python.exists():
        pytest.skip(f"no Python {version} on this machine to build the example's venv")
    return str(python)


def write(example: Example, folder: Path) -> None:
    """The example's files under `folder`, its own project root (a pyproject.toml is added,
    naming the example's venv when it declares `installed`)."""
    files = dict(example.files)
    pyproject = pyproject_for(files.pop("pyproject.toml", None), example.installed)
    (folder / "pyproject.toml").write_text(pyproject)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)


def pyproject_for(supplied: Optional[str], installed: Tuple[str, ...]) -> str:
    """The example's pyproject.toml (or a minimal one); with `installed`, it names the pins'
    venv as the project's interpreter: the setting joins an existing `[tool.flake8-stability]`
    table, or the table is appended. An example never names an interpreter itself."""
    text = supplied if supplied is not None else DEFAULT_PYPROJECT
    table = _tool_table(text)
    if table is not None and "python" in table:
        raise ValueError("an example declares its interpreter with `installed=(...)`, not with "
                         "[tool.flake8-stability] python")
    if not installed:
        return text
    setting = f"python = {str(stack_venvs.python_of(installed))!r}\n"
    if table is None:
        return text.rstrip("\n") + "\n\n[tool.flake8-stability]\n" + setting
    header = _HEADER.search(text)
    if header is None:
        raise ValueError("write [tool.flake8-stability] as a table header to add `python`")
    return text[:header.end()] + setting + text[header.end():]


def _tool_table(text: str) -> Optional[Dict[str, Any]]:
    """`[tool.flake8-stability]` of a pyproject.toml text; None when absent."""
    tool = tomllib.loads(text).get("tool", {})
    table = tool.get("flake8-stability") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None
