"""Read and parse one source file, whatever it holds: a tree, or the reason there is none."""
from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

MAX_BYTES = 5 * 1024 * 1024


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
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Source(path, "", None, f"cannot be read: {exc.strerror or exc}")
    if len(data) > MAX_BYTES:
        return Source(path, "", None, f"skipped: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        text = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return Source(path, "", None, f"cannot be decoded: {exc}")
    return parse_text(path, text)


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
