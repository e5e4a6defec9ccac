"""Where each name of a module is bound, scope by scope, and what each node's parent is."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Union

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
ScopeNode = Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef]
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_SCOPE_TYPES = frozenset((ast.Module, ast.ClassDef) + _FUNCTIONS)
# The nodes `_bind_statement` binds names for; the walk skips the call for every other node.
_BINDING_STATEMENTS = frozenset((
    ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor,
    ast.comprehension, ast.withitem, ast.Import, ast.ImportFrom, ast.ExceptHandler))
# Operator and context nodes are shared singletons in CPython: a parent link for them would
# only record the last place one was seen, so the walk does not descend into them.
_SINGLETONS = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
# Nodes whose only child nodes are such singletons (or none): not descended into.
_LEAVES = frozenset((ast.Name, ast.Constant))


@dataclass(frozen=True)
class Binding:
    """One place a name gets a value.

    kind: `assign` (value is the right-hand side), `with` (value is the context expression),
    `param` (annotation and default), `for`, `import`, `def`, `class`, `unpack`, `other`.
    """

    kind: str
    node: ast.AST
    value: Optional[ast.expr] = None
    annotation: Optional[ast.expr] = None


class Scopes:
    """Parent links, the scope of every node and per-scope bindings of one module, computed in
    one walk that also lists the calls, import statements and classes other analyses need."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.parents: Dict[ast.AST, ast.AST] = {}
        self._scope_of: Dict[ast.AST, ast.AST] = {}
        self.bindings: Dict[ast.AST, Dict[str, List[Binding]]] = {tree: {}}
        self.calls: List[ast.Call] = []
        self.imports: List[Union[ast.Import, ast.ImportFrom]] = []
        self.classes: List[ast.ClassDef] = []
        self.functions: List[Union[ast.FunctionDef, ast.AsyncFunctionDef]] = []
        self.attribute_assignments: List[ast.Assign] = []  # `obj.attr = value`
        self._walk(tree, tree)
        for names in self.bindings.values():
            for found in names.values():
                found.sort(key=_position)
        for nodes in (self.calls, self.imports, self.classes, self.functions):
            nodes.sort(key=_node_position)

    # -- queries ---------------------------------------------------------------------------
    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        return self.parents.get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def scope_of(self, node: ast.AST) -> ScopeNode:
        """The innermost function, class or module whose body holds `node`."""
        return self._scope_of.get(node, self.tree)  # type: ignore[return-value]

    def enclosing_function(self, node: ast.AST) -> Optional[FunctionNode]:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, _FUNCTIONS):
                return ancestor  # type: ignore[return-value]
        return None

    def lookup(self, name: str, at: ast.AST) -> List[Binding]:
        """Bindings that `name` may refer to at node `at`, innermost scope first (LEGB, minus B)."""
        scope: Optional[ast.AST] = self.scope_of(at)
        first = True
        while scope is not None:
            # A class body's names are not visible from the functions defined inside it.
            if first or not isinstance(scope, ast.ClassDef):
                found = self.bindings.get(scope, {}).get(name)
                if found:
                    return found
            first = False
            scope = None if scope is self.tree else self.scope_of(scope)
        return []

    def runs_at_import(self, node: ast.AST) -> bool:
        """True when `node` executes while the module is imported (module or class body)."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, _FUNCTIONS):
                return False
            if isinstance(ancestor, ast.If) and _is_main_guard(ancestor.test):
                return False
        return True

    # -- construction ----------------------------------------------------------------------
    def _walk(self, root: ast.AST, root_scope: ast.AST) -> None:
        # Iterative: generated code nests deeper than Python's recursion limit. One type lookup
        # per node instead of a chain of isinstance calls: this walk visits every node.
        parents, scope_of, lists = self.parents, self._scope_of, self._lists()
        stack = [(root, root_scope)]
        while stack:
            node, scope = stack.pop()
            for child in _children(node):
                parents[child] = node
                scope_of[child] = scope
                kind = type(child)
                found = lists.get(kind)
                if found is not None:
                    found.append(child)
                elif kind is ast.Assign and any(
                        isinstance(t, ast.Attribute) for t in child.targets):  # type: ignore
                    self.attribute_assignments.append(child)  # type: ignore[arg-type]
                if kind in _SCOPE_TYPES:
                    self._bind_definition(child, scope)
                    self.bindings.setdefault(child, {})
                    if kind is not ast.ClassDef:
                        self._bind_parameters(child)  # type: ignore[arg-type]
                    stack.append((child, child))
                    continue
                if kind in _BINDING_STATEMENTS:
                    self._bind_statement(child, scope)
                if kind not in _LEAVES:
                    stack.append((child, scope))

    def _lists(self) -> Dict[type, list]:
        """The list each kind of node the walk collects goes to."""
        return {ast.Call: self.calls, ast.Import: self.imports, ast.ImportFrom: self.imports,
                ast.ClassDef: self.classes, ast.FunctionDef: self.functions,
                ast.AsyncFunctionDef: self.functions}

    def _add(self, scope: ast.AST, name: str, binding: Binding) -> None:
        self.bindings.setdefault(scope, {}).setdefault(name, []).append(binding)

    def _bind_definition(self, node: ast.AST, scope: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._add(scope, node.name, Binding("def", node))
        elif isinstance(node, ast.ClassDef):
            self._add(scope, node.name, Binding("class", node))

    def _bind_parameters(self, func: FunctionNode) -> None:
        args = func.args
        positional = args.posonlyargs + args.args
        defaults: List[Optional[ast.expr]] = [None] * (len(positional) - len(args.defaults))
        defaults += list(args.defaults)
        pairs = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
        for arg, default in pairs:
            self._add(func, arg.arg, Binding("param", arg, default, arg.annotation))
        for arg in (args.vararg, args.kwarg):
            if arg is not None:
                self._add(func, arg.arg, Binding("other", arg))

    def _bind_statement(self, node: ast.AST, scope: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind_target(target, node, node.value, scope)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            self._add(scope, node.target.id, Binding("assign", node, node.value, node.annotation))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            self._add(scope, node.target.id, Binding("other", node))
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            self._add(scope, node.target.id, Binding("assign", node, node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self._bind_target(node.target, node, None, scope, kind="for")
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self._bind_target(node.optional_vars, node, node.context_expr, scope, kind="with")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    bound = alias.asname or alias.name.split(".")[0]
                    self._add(scope, bound, Binding("import", node))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self._add(scope, node.name, Binding("other", node))

    def _bind_target(self, target: ast.expr, node: ast.AST, value: Optional[ast.expr],
                     scope: ast.AST, kind: str = "assign") -> None:
        if isinstance(target, ast.Name):
            self._add(scope, target.id, Binding(kind, node, value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                self._bind_target(inner, node, None, scope, kind="unpack")


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.iter_child_nodes` without its per-field generator, and without the singletons."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST) and not isinstance(item, _SINGLETONS):
                    yield item
        elif isinstance(value, ast.AST) and not isinstance(value, _SINGLETONS):
            yield value


def _position(binding: Binding) -> tuple:
    return _node_position(binding.node)


def _node_position(node: ast.AST) -> tuple:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )
