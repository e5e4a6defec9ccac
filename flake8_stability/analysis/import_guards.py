"""What shields a statement from an import failure: a `TYPE_CHECKING` block (never runs), a
`try` whose handlers catch ImportError and their fallbacks (a compatibility shim), or a version
check."""
from __future__ import annotations

import ast
import re
from typing import List, Optional

from .scopes import Scopes

TYPE_CHECKING_GUARD = "TYPE_CHECKING"
TRY_GUARD = "try"
VERSION_GUARD = "version"

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_VERSION_WORD = re.compile(r"(?i)version|(?:^|_)v\d+(?:$|_)")


def import_guard(scopes: Scopes, node: ast.AST) -> Optional[str]:
    """The innermost guard around `node`, or None when a failure there is not expected."""
    child = node
    for ancestor in scopes.ancestors(node):
        if isinstance(ancestor, ast.If) and child is not ancestor.test:
            if is_type_checking(ancestor.test) and _within(child, ancestor.body):
                return TYPE_CHECKING_GUARD
            if _mentions_version(ancestor.test):
                return VERSION_GUARD
        if isinstance(ancestor, ast.ExceptHandler) and _is_fallback(scopes, ancestor):
            return TRY_GUARD
        if isinstance(ancestor, ast.Try) and _within(child, ancestor.body):
            if catches_import_error(ancestor.handlers):
                return TRY_GUARD
        child = ancestor
    return None


def _is_fallback(scopes: Scopes, handler: ast.ExceptHandler) -> bool:
    """The handler of `try: <new import> except ImportError: <old import>`."""
    return catches_import_error([handler]) and isinstance(scopes.parent(handler), ast.Try)


def _within(node: ast.AST, body: List[ast.stmt]) -> bool:
    return any(node is stmt for stmt in body)


def is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _mentions_version(test: ast.expr) -> bool:
    """`if PYDANTIC_V2:`, `if sqlalchemy.__version__ >= ...`, `if sys.version_info ...`."""
    for node in ast.walk(test):
        word = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(word, str) and _VERSION_WORD.search(word):
            return True
    return False


def catches_import_error(handlers: List[ast.ExceptHandler]) -> bool:
    """Whether one of the handlers catches ImportError (bare, or a broader class)."""
    for handler in handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for kind in types:
            name = kind.id if isinstance(kind, ast.Name) else getattr(kind, "attr", None)
            if name in _IMPORT_ERRORS:
                return True
    return False
