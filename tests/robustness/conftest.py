"""The combined hostile project, built once per session for the read-only door runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from .corpus import build_combined


@pytest.fixture(scope="session")
def combined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every hostile input in one project; tests that write use their own copy."""
    return build_combined(tmp_path_factory.mktemp("hostile") / "combined")
