"""libcst edits the codemods share: the call a finding names, keyword arguments added or
removed in the call's own formatting, nodes replaced by identity, imports added or dropped with
libcst's own import visitors, and what a name is bound to where it is used."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Union

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import (ImportAssignment, MetadataWrapper, ParentNodeProvider,
                             ScopeProvider)

from .codemod import Target, positions

Edit = Callable[[cst.CSTNode], Union[cst.CSTNode, cst.RemovalSentinel]]
_EMPTY = cst.Module(body=[])


def source(node: cst.CSTNode) -> str:
    """The node's code as written."""
    return _EMPTY.code_for_node(node)


def squashed(text: str) -> str:
    """`text` without whitespace, to compare code written on several lines."""
    return "".join(text.split())


def calls_at(wrapper: MetadataWrapper, target: Target, exact: bool = True) -> List[cst.Call]:
    """The calls starting where the target points, innermost first; when none starts at its
    column (findings count UTF-8 bytes, libcst characters) or `exact` is off, every call
    starting on its line."""
    spans = positions(wrapper)
    on_line = [(where, node) for node, where in spans.items()
               if isinstance(node, cst.Call) and where.start.line == target.line]
    found = [pair for pair in on_line if pair[0].start.column == target.col and exact]
    found = found or on_line
    found.sort(key=lambda pair: (pair[0].end.line, pair[0].end.column))
    return [node for _, node in found]


def call_named(wrapper: MetadataWrapper, target: Target, func: str) -> Optional[cst.Call]:
    """The call at the target whose callee is written `func` (as the finding's fix data names
    it), looked for on the whole line when none at the column is."""
    for exact in (True, False):
        named = [call for call in calls_at(wrapper, target, exact)
                 if squashed(source(call.func)) == squashed(func)]
        if named:
            return named[0]
    return None


def keyword_arg(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def has_double_star(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def positional(call: cst.Call, index: int, name: str) -> Optional[cst.Arg]:
    """The argument at position `index`, or given by keyword `name`."""
    plain = [arg for arg in call.args if arg.keyword is None]
    if any(arg.star for arg in plain[:index + 1]):
        return None
    return plain[index] if index < len(plain) else keyword_arg(call, name)


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `name=value` appended, separated the way its other arguments are."""
    new = cst.Arg(value=value, keyword=cst.Name(name),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                        whitespace_after=cst.SimpleWhitespace("")))
    if not call.args:
        return call.with_changes(args=[new])
    *rest, last = call.args
    separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if rest and isinstance(rest[-1].comma, cst.Comma):
        separator = rest[-1].comma
    elif isinstance(last.comma, cst.Comma) and isinstance(call.whitespace_before_args,
                                                          cst.ParenthesizedWhitespace):
        separator = cst.Comma(whitespace_after=call.whitespace_before_args)
    own = _line_end(last.comma)  # the old last argument keeps its comment, no other
    moved = last.with_changes(comma=_ending_line(separator, own),
                              whitespace_after_arg=cst.SimpleWhitespace(""))
    return call.with_changes(args=[*rest, moved, new.with_changes(
        comma=_ending_line(last.comma, cst.TrailingWhitespace()),
        whitespace_after_arg=last.whitespace_after_arg)])


def _line_end(comma: object) -> cst.TrailingWhitespace:
    """What follows a comma that ends its line (a comment), else nothing."""
    after = comma.whitespace_after if isinstance(comma, cst.Comma) else None
    return after.first_line if isinstance(after, cst.ParenthesizedWhitespace) \
        else cst.TrailingWhitespace()


def _ending_line(comma: object, end: cst.TrailingWhitespace) -> object:
    """`comma`, ending its line with `end` instead of what it had, when it ends a line."""
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after,
                                                   cst.ParenthesizedWhitespace):
        return comma.with_changes(whitespace_after=comma.whitespace_after.with_changes(
            first_line=end))
    return comma


def without_args(call: cst.Call, drop: Callable[[cst.Arg], bool]) -> cst.Call:
    """`call` without the arguments `drop` selects; the last one left takes the comma of the
    old last one, so a trailing comma and the closing line stay as written."""
    return call.with_changes(args=without_elements(call.args, drop))  # type: ignore[arg-type]


def without_elements(items: Sequence[cst.CSTNode],
                     drop: Callable[[cst.CSTNode], bool]) -> List[cst.CSTNode]:
    """Sequence items (arguments, dict elements, import aliases) without those `drop`
    selects; the last one left takes the comma of the old last one (keeping its own comment),
    so a trailing comma and the closing line stay as written."""
    kept = [item for item in items if not drop(item)]
    if kept and items and kept[-1] is not items[-1]:
        comma = _last_comma(kept[-1].comma, items[-1].comma)  # type: ignore[attr-defined]
        kept[-1] = kept[-1].with_changes(comma=comma)
    return kept


def _last_comma(own: object, last: object) -> object:
    """The comma for a new last item: the old last one's, with the item's own comment."""
    if not (isinstance(own, cst.Comma) and isinstance(last, cst.Comma)):
        return last
    mine, theirs = own.whitespace_after, last.whitespace_after
    if not (isinstance(mine, cst.ParenthesizedWhitespace)
            and isinstance(theirs, cst.ParenthesizedWhitespace)):
        return last
    return last.with_changes(whitespace_after=theirs.with_changes(
        first_line=mine.first_line, empty_lines=mine.empty_lines))


class _Replacer(cst.CSTTransformer):
    def __init__(self, edits: Dict[int, Edit]) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode
                 ) -> Union[cst.CSTNode, cst.RemovalSentinel]:
        edit = self.edits.get(id(original_node))
        return edit(updated_node) if edit is not None else updated_node


def replace(module: cst.Module, edits: Dict[cst.CSTNode, Edit]) -> cst.Module:
    """Apply each edit to its node (found by identity, nested edits see their children's new
    versions)."""
    if not edits:
        return module
    keyed = {id(node): edit for node, edit in edits.items()}
    return module.visit(_Replacer(keyed))  # type: ignore[return-value]


def add_import(module: cst.Module, from_module: str, name: str) -> cst.Module:
    """`from from_module import name`, unless the module imports it already."""
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, from_module, name)
    return AddImportsVisitor(context).transform_module(module)


def drop_unused_import(module: cst.Module, from_module: str, name: str) -> cst.Module:
    """Remove `from from_module import name` when nothing in the module uses it any more."""
    context = CodemodContext()
    RemoveImportsVisitor.remove_unused_import(context, from_module, name)
    return RemoveImportsVisitor(context).transform_module(module)


def parents(wrapper: MetadataWrapper) -> Dict[cst.CSTNode, cst.CSTNode]:
    return dict(wrapper.resolve(ParentNodeProvider))


def ancestors(parent_of: Dict[cst.CSTNode, cst.CSTNode], node: cst.CSTNode) -> List[cst.CSTNode]:
    chain = []
    while node in parent_of:
        node = parent_of[node]
        chain.append(node)
    return chain


def enclosing_function(parent_of: Dict[cst.CSTNode, cst.CSTNode],
                       node: cst.CSTNode) -> Optional[Union[cst.FunctionDef, cst.Lambda]]:
    """The innermost function or lambda around `node`."""
    for above in ancestors(parent_of, node):
        if isinstance(above, (cst.FunctionDef, cst.Lambda)):
            return above
    return None


def in_async_function(parent_of: Dict[cst.CSTNode, cst.CSTNode], node: cst.CSTNode) -> bool:
    function = enclosing_function(parent_of, node)
    return isinstance(function, cst.FunctionDef) and function.asynchronous is not None


def imported_from(wrapper: MetadataWrapper, node: cst.CSTNode, name: str,
                  modules: Sequence[str]) -> Optional[bool]:
    """What `name` is where `node` is: True when every binding in reach is `from m import name`
    for one of `modules`, None when nothing binds it, False when something else does."""
    scope = wrapper.resolve(ScopeProvider).get(node)
    if scope is None:
        return False
    assignments = list(scope[name])
    if not assignments:
        return None
    return all(_imports_name(assignment, name, modules) for assignment in assignments)


def _imports_name(assignment: object, name: str, modules: Sequence[str]) -> bool:
    if not isinstance(assignment, ImportAssignment):
        return False
    statement = assignment.node
    if not isinstance(statement, cst.ImportFrom) or statement.relative:
        return False
    if statement.module is None or source(statement.module) not in modules:
        return False
    if isinstance(statement.names, cst.ImportStar):
        return False
    return any(alias.asname is None and source(alias.name) == name for alias in statement.names)


def module_assignment(module: cst.Module, name: str) -> Optional[cst.Assign]:
    """The one module-level `name = ...` statement, if it is bound exactly once there."""
    found = [statement for line in module.body if isinstance(line, cst.SimpleStatementLine)
             for statement in line.body if isinstance(statement, cst.Assign)
             and any(isinstance(t.target, cst.Name) and t.target.value == name
                     for t in statement.targets)]
    return found[0] if len(found) == 1 and len(found[0].targets) == 1 else None


def name_uses(module: cst.Module, name: str) -> int:
    """How often the variable `name` occurs in the module, bound or read (attribute names and
    keyword argument names are not variables)."""
    count = [0]

    class _Count(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            count[0] += node.value == name

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

    module.visit(_Count())
    return count[0]
