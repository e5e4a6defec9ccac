"""The README's excerpt of the Audit Report is what the installed `stability-audit` prints on
the shipped example today (regenerate it with `python scripts/readme_excerpt.py`)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_readme_excerpt_matches_the_tool() -> None:
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "readme_excerpt.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
