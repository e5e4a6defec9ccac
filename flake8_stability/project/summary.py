"""What a module does when it is imported, read from its tree once: its imports (with line,
scope and guard), the names it binds at top level in order, and `__all__`."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

from ..analysis.import_guards import (TRY_GUARD, TYPE_CHECKING_GUARD, catches_import_error,
                                      is_type_checking)

CONDITION_GUARD = "condition"  # inside another `if` (version or platform checks, flags)


@dataclass(frozen=True)
class ImportRecord:
    """One imported module (`import a.b` gives `a.b`; `from a.b import c` gives `a.b` with c)."""

    module: str  # as written, without the leading dots of a relative import
    level: int  # 0 absolute, 1 for `.`, 2 for `..`
    names: Tuple[Tuple[str, Optional[str]], ...]  # (name, asname) of a from-import; () otherwise
    line: int
    col: int
    deferred: bool  # inside a function: runs when called, not at import
    guard: Optional[str]  # TYPE_CHECKING_GUARD, TRY_GUARD, CONDITION_GUARD or None
    node: ast.stmt = field(compare=False, repr=False)

    @property
    def is_from(self) -> bool:
        return isinstance(self.node, ast.ImportFrom)

    @property
    def runs_at_import(self) -> bool:
        """Executed while the module is imported (top level, not under TYPE_CHECKING)."""
        return not self.deferred and self.guard != TYPE_CHECKING_GUARD

    def absolute(self, package: Optional[str]) -> Optional[str]:
        """The absolute module name, resolving a relative import against `package`."""
        if not self.level:
            return self.module
        if package is None:
            return None
        parts = package.split(".") if package else []
        if self.level > len(parts):
            return None  # beyond the top-level package, or a module with no package
        base = parts[: len(parts) - (self.level - 1)]
        return ".".join(base + ([self.module] if self.module else [])) or None


@dataclass
class ModuleSummary:
    imports: List[ImportRecord]
    bindings: Dict[str, int]  # name bound at module level -> first line it is bound on
    all_names: Optional[Tuple[str, ...]]  # __all__ when it is a literal list/tuple
    star_imports: bool  # `from x import *` at top level: any name may exist
    typing_only: FrozenSet[str] = frozenset()  # bound only under `if TYPE_CHECKING:`

    def binds(self, name: str) -> bool:
        return name in self.bindings


def summarize(tree: ast.Module) -> ModuleSummary:
    imports: List[ImportRecord] = []
    bindings: Dict[str, int] = {}
    all_names: Optional[Tuple[str, ...]] = None
    star = False
    typing_names: Set[str] = set()
    runtime_names: Set[str] = set()
    for stmt, guard in _top_level(tree.body, None):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            imports.extend(_records(stmt, False, guard))
            star = star or any(a.name == "*" for a in stmt.names)
        for name in _bound_names(stmt):
            bindings.setdefault(name, stmt.lineno)
            (typing_names if guard == TYPE_CHECKING_GUARD else runtime_names).add(name)
        found = _all_names(stmt)
        if found is not None:
            all_names = found
    seen = {id(record.node) for record in imports}
    imports += [record for node, in_function in _nested_imports(tree) if id(node) not in seen
                for record in _records(node, in_function, None)]
    imports.sort(key=lambda r: (r.line, r.col))
    return ModuleSummary(imports, bindings, all_names, star,
                         frozenset(typing_names - runtime_names))


def _top_level(body: List[ast.stmt],
               guard: Optional[str]) -> Iterator[Tuple[ast.stmt, Optional[str]]]:
    """Statements that run at import, in order, with the guard around them."""
    for stmt in body:
        yield stmt, guard
        if isinstance(stmt, ast.If):
            if is_type_checking(stmt.test):
                yield from _top_level(stmt.body, TYPE_CHECKING_GUARD)
                yield from _top_level(stmt.orelse, guard or CONDITION_GUARD)
            else:
                inner = guard or CONDITION_GUARD
                yield from _top_level(stmt.body, inner)
                yield from _top_level(stmt.orelse, inner)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            catches = catches_import_error(stmt.handlers)  # type: ignore[attr-defined]
            body = stmt.body  # type: ignore[attr-defined]
            yield from _top_level(body, guard or (TRY_GUARD if catches else None))
            for handler in stmt.handlers:  # type: ignore[attr-defined]
                yield from _top_level(handler.body, guard or CONDITION_GUARD)
            yield from _top_level(stmt.orelse + stmt.finalbody, guard)  # type: ignore[attr-defined]
        elif isinstance(stmt, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            yield from _top_level(stmt.body, guard)
            yield from _top_level(getattr(stmt, "orelse", []), guard)


def _nested_imports(tree: ast.Module) -> Iterator[Tuple[ast.stmt, bool]]:
    """Every import statement with whether it sits in a function (runs when called). Only
    statement bodies are visited: imports cannot hide inside expressions."""
    stack: List[Tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for name in _bodies(type(node)):
            for child in getattr(node, name):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    yield child, inside
                elif _bodies(type(child)):
                    stack.append((child, inside))


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


@lru_cache(maxsize=None)
def _bodies(node_type: type) -> Tuple[str, ...]:
    """The statement-list fields a node type has (none for most statements)."""
    return tuple(name for name in _BODIES if name in getattr(node_type, "_fields", ()))


def _records(node: ast.stmt, deferred: bool, guard: Optional[str]) -> List[ImportRecord]:
    """One record for `from x import a, b`; one per module for `import a, b`."""
    if isinstance(node, ast.ImportFrom):
        names = tuple((a.name, a.asname) for a in node.names)
        return [ImportRecord(node.module or "", node.level, names, node.lineno, node.col_offset,
                             deferred, guard, node)]
    assert isinstance(node, ast.Import)
    return [ImportRecord(alias.name, 0, (), node.lineno, node.col_offset, deferred, guard, node)
            for alias in node.names]


def _bound_names(stmt: ast.stmt) -> Iterator[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name
    elif isinstance(stmt, ast.Import):
        for alias in stmt.names:
            yield alias.asname or alias.name.split(".")[0]
    elif isinstance(stmt, ast.ImportFrom):
        for alias in stmt.names:
            if alias.name != "*":
                yield alias.asname or alias.name
    elif isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            yield from _target_names(target)
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        if stmt.value is not None or isinstance(stmt, ast.AugAssign):
            yield from _target_names(stmt.target)
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        yield from _target_names(stmt.target)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            if item.optional_vars is not None:
                yield from _target_names(item.optional_vars)
    elif type(stmt).__name__ == "TypeAlias":
        yield from _target_names(stmt.name)  # type: ignore[attr-defined]
    tested = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else getattr(stmt, "test", None)
    for node in ast.walk(tested) if tested is not None else ():
        if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            yield node.target.id


def _target_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element.value if isinstance(element, ast.Starred) else element)


def _all_names(stmt: ast.stmt) -> Optional[Tuple[str, ...]]:
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return None
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
        return None
    if isinstance(stmt.value, (ast.List, ast.Tuple)) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in stmt.value.elts):
        return tuple(e.value for e in stmt.value.elts)  # type: ignore[attr-defined]
    return None
