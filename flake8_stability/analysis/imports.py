"""Which dotted name each imported local name stands for, so aliases resolve to real APIs."""
from __future__ import annotations

import ast
from typing import Dict, Optional

from ..knowledge.names import canonical

_AMBIGUOUS = ""


class ImportMap:
    """Local name -> dotted name, from every import statement in a module (any scope).

    A name imported as two different things in one module is treated as unknown.
    """

    def __init__(self, tree: ast.Module, package: Optional[str] = None) -> None:
        self._names: Dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self._bind(alias.asname, alias.name)
                    else:
                        top = alias.name.split(".")[0]
                        self._bind(top, top)
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(node, package)
                if module is None:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        self._bind(alias.asname or alias.name, f"{module}.{alias.name}")

    def _bind(self, local: str, dotted: str) -> None:
        previous = self._names.get(local)
        self._names[local] = dotted if previous in (None, dotted) else _AMBIGUOUS

    def get(self, local: str) -> Optional[str]:
        return self._names.get(local) or None

    def qualname(self, expr: ast.AST) -> Optional[str]:
        """`sa.ext.asyncio.create_async_engine` -> `sqlalchemy.ext.asyncio.create_async_engine`."""
        parts = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        base = self.get(expr.id)
        if base is None:
            return None
        return canonical(".".join([base] + parts[::-1]))

    def imports_from(self, prefix: str) -> bool:
        """Whether anything is imported from the package `prefix`."""
        return any(d == prefix or d.startswith(prefix + ".") for d in self._names.values() if d)


def _absolute(node: ast.ImportFrom, package: Optional[str]) -> Optional[str]:
    if not node.level:
        return node.module
    if package is None:
        return None
    parts = package.split(".")
    if node.level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else [])) or None
