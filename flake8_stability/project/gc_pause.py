"""Pausing Python's cyclic garbage collector around work that builds many objects that stay
alive: the collector would rescan them again and again without finding garbage."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc(freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside the block (reference counting still frees what it can);
    with `freeze`, what exists at the end is moved out of the collector's way for good (for
    what lives as long as the process: the project model)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        if freeze:
            gc.freeze()
