"""Small libcst helpers the app, structure and pydantic codemods share."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider


Replacement = Union[cst.CSTNode, Callable[[Any], cst.CSTNode]]


def replace_nodes(module: cst.Module, replacements: Mapping[cst.CSTNode, Replacement]
                  ) -> cst.Module:
    """`module` with each key node (by identity) replaced by its value; a callable value is
    given the node as rewritten inside (so replacements may nest)."""
    if not replacements:
        return module
    return module.visit(_Replacer(replacements))  # type: ignore[return-value]


class _Replacer(cst.CSTTransformer):
    def __init__(self, replacements: Mapping[cst.CSTNode, Replacement]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode
                 ) -> cst.CSTNode:  # type: ignore[override]
        new = self.replacements.get(original_node, updated_node)
        return new if isinstance(new, cst.CSTNode) else new(updated_node)


def parents(wrapper: MetadataWrapper) -> Dict[cst.CSTNode, cst.CSTNode]:
    return dict(wrapper.resolve(ParentNodeProvider))


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def keyword_arg(call: cst.Call, name: str) -> Optional[cst.Arg]:
    return next((arg for arg in call.args if arg.keyword and arg.keyword.value == name), None)


def string_literal(node: cst.BaseExpression) -> Optional[str]:
    """The value of a plain (not f-, not byte-, not concatenated) string literal."""
    if not isinstance(node, cst.SimpleString) or "b" in node.prefix.lower():
        return None
    value = node.evaluated_value
    return value if isinstance(value, str) else None


def requote(node: cst.SimpleString, text: str) -> Optional[cst.SimpleString]:
    """`node` holding `text` instead, in the same quotes and prefix; None when `text` would
    need escapes."""
    quote = node.quote
    if "\\" in text or quote[0] in text or "\n" in text:
        return None
    return node.with_changes(value=f"{node.prefix}{quote}{text}{quote}")


def names_in(statements: Sequence[cst.CSTNode]) -> set:
    """Every Name value used anywhere in `statements`."""
    found: set = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

    for statement in statements:
        statement.visit(_Names())
    return found
