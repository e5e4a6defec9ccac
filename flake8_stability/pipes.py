"""A reader that stops early (`stability-audit | head`) is not an error: the command ends
quietly, as `cat` does, instead of printing a BrokenPipeError traceback."""
from __future__ import annotations

import os
import sys


def reader_went_away() -> int:
    """Point stdout at /dev/null so Python's final flush does not fail again; exit code 1."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1
