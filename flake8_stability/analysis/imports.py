"""Which dotted name each imported local name stands for, so aliases resolve to real APIs."""
from __future__ import annotations

import ast
from typing import Dict, Iterable, Optional, Set, Tuple, Union


class ImportMap:
    """The dotted name every import statement of a module binds to each local name."""

    def __init__(self, statements: Iterable[Union[ast.Import, ast.ImportFrom]],
                 package: Optional[str] = None) -> None:
        self._bound: Dict[Tuple[ast.AST, str], str] = {}
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self._bound[node, alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self._bound[node, top] = top
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(node, package)
                if module is None:
                    continue
                for alias in node.names:
                    if alias.name != "*":
                        self._bound[node, alias.asname or alias.name] = f"{module}.{alias.name}"
        self._dotted: Set[str] = set(self._bound.values())
        self.local_names: Set[str] = {local for _, local in self._bound}

    def bound(self, statement: ast.AST, local: str) -> Optional[str]:
        """The dotted name `statement` (an import) binds to `local`."""
        return self._bound.get((statement, local))

    def imports_from(self, prefix: str) -> bool:
        """Whether anything is imported from the package `prefix`."""
        return any(d == prefix or d.startswith(prefix + ".") for d in self._dotted)


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
