"""A real second interpreter with hand-written distributions (no pip, no network), for rules
that judge what is installed."""
from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Sequence, Tuple

# (distribution, version, Requires-Dist lines, top-level modules it installs)
Dist = Tuple[str, str, Sequence[str], Sequence[str]]


def venv_with(folder: Path, dists: Sequence[Dist]) -> Path:
    """A venv under `folder` holding `dists`; returns its python."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv),
                                                       "platbase": str(venv)}))
    for name, version, requires, modules in dists:
        info = purelib / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        metadata += [f"Requires-Dist: {line}" for line in requires]
        (info / "METADATA").write_text("\n".join(metadata) + "\n")
        (info / "top_level.txt").write_text("".join(f"{module}\n" for module in modules))
        (info / "RECORD").write_text("".join(f"{module}/__init__.py,,\n" for module in modules))
        for module in modules:
            (purelib / module).mkdir(exist_ok=True)
            (purelib / module / "__init__.py").write_text("")
    return venv / "bin" / "python"


def configured(python: Path, dependencies: Sequence[str]) -> str:
    """A pyproject.toml using `python` as the project's interpreter."""
    listed = ", ".join(f'"{d}"' for d in dependencies)
    return (f"[project]\nname = 'fixture'\ndependencies = [{listed}]\n\n"
            f"[tool.flake8-stability]\npython = '{python}'\n")
