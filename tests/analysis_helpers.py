"""Build a ModuleContext from source text, for unit tests of the analyses."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Optional

from flake8_stability.context import ModuleContext, ProjectContext


def module_from(source: str, root: Optional[Path] = None) -> ModuleContext:
    code = textwrap.dedent(source)
    return ModuleContext("snippet.py", code.splitlines(True), ast.parse(code),
                         ProjectContext(root or Path.cwd()))


def last_call(module: ModuleContext, name: str) -> ast.Call:
    """The last call in the file whose callee ends with `name`."""
    calls = [c for c in module.calls
             if (isinstance(c.func, ast.Name) and c.func.id == name)
             or (isinstance(c.func, ast.Attribute) and c.func.attr == name)]
    return max(calls, key=lambda c: (c.lineno, c.col_offset))
