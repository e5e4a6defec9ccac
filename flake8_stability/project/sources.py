"""Read and parse one source file, whatever it holds: a tree, or the reason there is none."""
from __future__ import annotations

import ast
import codecs
import io
import os
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

MAX_BYTES = 5 * 1024 * 1024
NOT_REGULAR = "not a regular file (a FIFO, socket or device): skipped"
_BOM_CONFLICT = "a UTF-8 BOM and a coding cookie naming another encoding (Python refuses it)"


@dataclass(frozen=True)
class Source:
    """A file's text and tree; `problem` says why `tree` is None."""

    path: Path
    text: str
    tree: Optional[ast.Module]
    problem: Optional[str] = None

    @property
    def lines(self) -> List[str]:
        return self.text.splitlines(True)


def read_source(path: Path) -> Source:
    data, problem = read_file(path)
    if problem is not None:
        return Source(path, "", None, problem)
    try:
        text = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        conflict = isinstance(exc, SyntaxError) and data.startswith(codecs.BOM_UTF8)
        return Source(path, "", None, f"cannot be decoded: {_BOM_CONFLICT if conflict else exc}")
    return parse_text(path, text)


def read_file(path: Path, limit: int = MAX_BYTES) -> Tuple[bytes, Optional[str]]:
    """A regular file's bytes, or why there are none. Never blocks: a FIFO (even one named
    `x.py` and given on the command line) or a device is refused, not read."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        return b"", f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
    with os.fdopen(handle, "rb") as stream:
        status = os.fstat(handle)
        if stat.S_ISDIR(status.st_mode):
            return b"", "is a folder, not a file"
        if not stat.S_ISREG(status.st_mode):
            return b"", NOT_REGULAR
        if status.st_size > limit:
            return b"", f"skipped: larger than {limit // (1024 * 1024)} MiB"
        try:
            return stream.read(), None
        except OSError as exc:
            return b"", f"cannot be read: {exc.strerror or exc}"


def decode(data: bytes) -> str:
    """Decode as Python does: BOM, then coding cookie, else UTF-8."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


def parse_text(path: Path, text: str) -> Source:
    if "\x00" in text:
        return Source(path, text, None, "contains a NUL byte")
    try:
        tree = ast.parse(text, filename=str(path), type_comments=False)
    except SyntaxError as exc:
        return Source(path, text, None, f"syntax error at line {exc.lineno}: {exc.msg}")
    except (RecursionError, MemoryError, ValueError) as exc:
        return Source(path, text, None, f"cannot be parsed: {type(exc).__name__}")
    return Source(path, text, tree)
