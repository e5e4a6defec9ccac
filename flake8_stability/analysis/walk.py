"""`ast.walk` without its generators: the same nodes in the same (breadth-first) order, as a
list, about twice as fast. For the walks over function bodies that rules repeat per function."""
from __future__ import annotations

import ast
from typing import Dict, List, Tuple

_FIELDS: Dict[type, Tuple[str, ...]] = {}


def walk(node: ast.AST) -> List[ast.AST]:
    """`node` and every node below it, in `ast.walk`'s order."""
    found = [node]
    for current in found:  # grows while it is read: breadth first, as ast.walk
        kind = type(current)
        fields = _FIELDS.get(kind)
        if fields is None:
            fields = _FIELDS[kind] = kind._fields
        for name in fields:
            value = getattr(current, name, None)
            if isinstance(value, list):
                found.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                found.append(value)
    return found
