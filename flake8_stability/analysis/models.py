"""The model classes of a module: SQLModel models (table or not), pydantic models and SQLAlchemy
declarative classes, each with its fields, own and inherited from the module's own classes.

A class is only called a model when its chain of bases reaches a known root (`sqlmodel.SQLModel`,
`pydantic.BaseModel`, `DeclarativeBase`, a `declarative_base()` result) through classes of this
file or classes imported from the project's other modules (`from app.db.base import Base`);
`complete` tells whether every base on the way was understood and visible here, so that rules
judging what a class lacks (a primary key, `__allow_unmapped__`) can stay silent when a base is
unknown or defines attributes in another file."""
from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Set, Tuple

from ..knowledge import names as N

if TYPE_CHECKING:
    from ..context import ModuleContext

SQLMODEL = "sqlmodel"
PYDANTIC = "pydantic"
DECLARATIVE = "declarative"

_PYDANTIC_ROOTS = frozenset({"pydantic.BaseModel"}) | N.SETTINGS_BASES
_DECLARATIVE_ROOTS = frozenset({"sqlalchemy.orm.DeclarativeBase",
                                "sqlalchemy.orm.DeclarativeBaseNoMeta"})
_DECLARATIVE_FACTORY = "sqlalchemy.orm.declarative_base"
_REGISTRY = "sqlalchemy.orm.registry"
_NEUTRAL_BASES = frozenset({"builtins.object", "sqlalchemy.ext.asyncio.AsyncAttrs",
                            "sqlalchemy.orm.MappedAsDataclass"})
_MAPPED_DECORATORS = ("mapped", "mapped_as_dataclass")
_TYPING = ("typing.", "typing_extensions.")
_MAX_DEPTH = 20
_building: Set[int] = set()  # ids of the modules whose index is being built (import cycles)


@dataclass(frozen=True)
class ModelField:
    """One attribute defined in a class body: `name: annotation = value` or `name = value`."""

    name: str
    stmt: ast.stmt
    annotation: Optional[ast.expr]
    value: Optional[ast.expr]
    owner: ast.ClassDef


@dataclass(frozen=True)
class ModelClass:
    node: ast.ClassDef
    kind: str  # SQLMODEL, PYDANTIC or DECLARATIVE
    table: bool  # SQLModel `table=True`, or a declarative class that gets mapped
    complete: bool  # every base (direct or inherited) is understood
    ancestors: Tuple[ast.ClassDef, ...]  # the file's own base classes, nearest first
    declarative_base: Optional[ast.AST] = None  # where the declarative Base comes from

    @property
    def name(self) -> str:
        return self.node.name


@dataclass(frozen=True)
class _Chain:
    """What a class's bases make it, collected along its in-file bases."""

    kinds: FrozenSet[str]
    complete: bool = True
    ancestors: Tuple[ast.ClassDef, ...] = ()
    direct_declarative_root: bool = False  # a DeclarativeBase subclass itself: the Base
    declarative_base: Optional[ast.AST] = None


class ModelIndex:
    def __init__(self, module: "ModuleContext") -> None:
        self.module = module
        self._chains: Dict[ast.ClassDef, Optional[_Chain]] = {}
        self.models: List[ModelClass] = []
        self._by_node: Dict[ast.ClassDef, ModelClass] = {}
        _building.add(id(module))
        try:
            for node in module.scopes.classes:
                model = self._model(node)
                if model is not None:
                    self.models.append(model)
                    self._by_node[node] = model
        finally:
            _building.discard(id(module))
        self.future_annotations = _has_future_annotations(module.tree)

    # -- queries -------------------------------------------------------------------------------
    def model(self, node: ast.ClassDef) -> Optional[ModelClass]:
        return self._by_node.get(node)

    def tables(self, kind: str) -> List[ModelClass]:
        return [m for m in self.models if m.kind == kind and m.table]

    def own_fields(self, cls: ast.ClassDef) -> List[ModelField]:
        found = []
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                found.append(ModelField(stmt.target.id, stmt, stmt.annotation, stmt.value, cls))
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    found.append(ModelField(target.id, stmt, None, stmt.value, cls))
        return found

    def fields(self, model: ModelClass) -> Dict[str, ModelField]:
        """Every field by name, the nearest definition winning (own over inherited)."""
        merged: Dict[str, ModelField] = {}
        for cls in (*reversed(model.ancestors), model.node):
            for found in self.own_fields(cls):
                merged[found.name] = found
        return merged

    def class_value(self, model: ModelClass, name: str) -> Optional[ast.expr]:
        """The value `name` is given in the class body or the nearest in-file base."""
        for cls in (model.node, *model.ancestors):
            for found in self.own_fields(cls):
                if found.name == name:
                    return found.value
        return None

    def in_file_class(self, expr: ast.AST, at: ast.AST) -> Optional[ast.ClassDef]:
        """The class of this file that the name `expr` refers to at `at`."""
        if not isinstance(expr, ast.Name):
            return None
        bindings = self.module.scopes.lookup(expr.id, at)
        if len(bindings) == 1 and bindings[0].kind == "class":
            return bindings[0].node  # type: ignore[return-value]
        return None

    def type_name(self, expr: ast.AST, at: ast.AST) -> Optional[str]:
        """Canonical name of a type expression, builtins included (`dict` -> `builtins.dict`)."""
        if isinstance(expr, ast.Name) and expr.id in _BUILTIN_NAMES:
            return None if self.module.scopes.lookup(expr.id, at) else f"builtins.{expr.id}"
        name = self.module.qualname(expr)
        if name and name.startswith("typing_extensions."):
            return "typing." + name[len("typing_extensions."):]
        return name

    def is_typing(self, expr: ast.AST, at: ast.AST, name: str) -> bool:
        found = self.type_name(expr, at)
        return found is not None and found.startswith(_TYPING) and found.rsplit(".", 1)[1] == name

    def is_classvar(self, annotation: Optional[ast.expr], at: ast.AST) -> bool:
        if annotation is None:
            return False
        annotation = parse_string_annotation(annotation) or annotation
        head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
        return self.is_typing(head, at, "ClassVar")

    def unwrap(self, annotation: ast.expr,
               at: ast.AST) -> Tuple[Optional[ast.expr], List[ast.expr]]:
        """The type an annotation stands for, without quotes, `Optional[...]`, `X | None`,
        `Union[X, None]` and `Annotated[X, ...]`, with the Annotated metadata met on the way.
        The type is None for a union of several types."""
        metadata: List[ast.expr] = []
        current: ast.expr = annotation
        for _ in range(_MAX_DEPTH):
            parsed = parse_string_annotation(current)
            if parsed is not None:
                current = parsed
                continue
            if isinstance(current, ast.BinOp) and isinstance(current.op, ast.BitOr):
                rest = [side for side in (current.left, current.right) if not _is_none(side)]
            elif isinstance(current, ast.Subscript) and self._is_wrapper(current.value, at):
                args = subscript_elements(current)
                if self.is_typing(current.value, at, "Annotated"):
                    metadata.extend(args[1:])
                    rest = args[:1]
                else:
                    rest = [arg for arg in args if not _is_none(arg)]
            else:
                return current, metadata
            if len(rest) != 1:
                return None, metadata
            current = rest[0]
        return None, metadata

    def _is_wrapper(self, head: ast.expr, at: ast.AST) -> bool:
        return any(self.is_typing(head, at, name) for name in ("Optional", "Union", "Annotated"))

    def field_call(self, value: Optional[ast.expr]) -> Optional[ast.Call]:
        """`value` when it is a call of `sqlmodel.Field`."""
        if isinstance(value, ast.Call) and self.module.call_name(value) == N.SQLMODEL_FIELD:
            return value
        return None

    def is_relationship(self, value: Optional[ast.expr]) -> bool:
        return (isinstance(value, ast.Call)
                and self.module.call_name(value) == N.SQLMODEL_RELATIONSHIP)

    # -- classification ------------------------------------------------------------------------
    def _model(self, node: ast.ClassDef) -> Optional[ModelClass]:
        chain = self._chain(node, 0)
        decorated = self._registry_mapped(node)
        if chain is None and not decorated:
            return None
        if chain is None:
            return ModelClass(node, DECLARATIVE, True, True, (), None)
        kind = next(k for k in (SQLMODEL, PYDANTIC, DECLARATIVE) if k in chain.kinds)
        if kind == SQLMODEL:
            table = any(kw.arg == "table" and isinstance(kw.value, ast.Constant)
                        and kw.value.value is True for kw in node.keywords)
        elif kind == DECLARATIVE:
            table = decorated or not (chain.direct_declarative_root or _is_abstract(node))
        else:
            table = False
        return ModelClass(node, kind, table, chain.complete, chain.ancestors,
                          chain.declarative_base)

    def _chain(self, node: ast.ClassDef, depth: int) -> Optional[_Chain]:
        """What the bases of `node` make it; None when no base leads to a known root."""
        if node in self._chains:
            return self._chains[node]
        self._chains[node] = None  # a cycle guard while the bases are followed
        if depth > _MAX_DEPTH:
            return None
        parts = [self._base(base, node, depth) for base in node.bases]
        kinds = frozenset().union(*(part.kinds for part in parts))
        chain = None
        if kinds:
            ancestors: List[ast.ClassDef] = []
            for part in parts:
                ancestors.extend(a for a in part.ancestors if a not in ancestors)
            chain = _Chain(kinds, all(part.complete for part in parts), tuple(ancestors),
                           any(part.direct_declarative_root for part in parts),
                           next((p.declarative_base for p in parts if p.declarative_base), None))
        self._chains[node] = chain
        return chain

    def _base(self, base: ast.expr, node: ast.ClassDef, depth: int) -> _Chain:
        """What one base class contributes to `node`."""
        name = self.type_name(base, node)
        if name == N.SQLMODEL:
            return _Chain(frozenset({SQLMODEL}))
        if name in _PYDANTIC_ROOTS:
            return _Chain(frozenset({PYDANTIC}))
        if name in _DECLARATIVE_ROOTS:
            return _Chain(frozenset({DECLARATIVE}), direct_declarative_root=True,
                          declarative_base=node)
        if name in _NEUTRAL_BASES:
            return _Chain(frozenset())
        parent = self.in_file_class(base, node)
        if parent is not None:
            sub = self._chain(parent, depth + 1)
            if sub is None:
                return _Chain(frozenset(), self._plain_class(parent), (parent,))
            return _Chain(sub.kinds, sub.complete, (parent, *sub.ancestors),
                          declarative_base=sub.declarative_base)
        made = self._declarative_base_value(base, node)
        if made is not None:
            return _Chain(frozenset({DECLARATIVE}), declarative_base=made)
        imported = self._imported_chain(name, depth) if name else None
        return imported or _Chain(frozenset(), complete=False)

    def _imported_chain(self, dotted: str, depth: int) -> Optional[_Chain]:
        """What a class of another project module (`app.db.base.Base`) makes its subclasses.
        Its kinds and declarative Base carry over; it only counts as complete when nothing on
        its side defines attributes, as its fields are not visible from this file."""
        module_name, _, class_name = dotted.rpartition(".")
        project = self.module.project
        if not module_name or self.module.module_name is None or depth > _MAX_DEPTH:
            return None
        info = project.model.project_module(module_name)
        if info is None or info.tree is None:
            return None
        other = project.model.context(info)
        if other is self.module or id(other) in _building:
            return None
        return other.models.exported_chain(class_name, depth + 1)

    def exported_chain(self, name: str, depth: int) -> Optional[_Chain]:
        """The chain a subclass in another module gets from this module's top-level `name`."""
        bindings = self.module.scopes.bindings[self.module.tree].get(name, [])
        if len(bindings) != 1:
            return None
        binding = bindings[0]
        if binding.kind == "class":
            node: ast.ClassDef = binding.node  # type: ignore[assignment]
            chain = self._chain(node, depth)
            if chain is None:
                return None
            hidden = any(self.own_fields(cls) for cls in (node, *chain.ancestors))
            return _Chain(chain.kinds, chain.complete and not hidden, (),
                          declarative_base=chain.declarative_base)
        if binding.kind == "import":
            dotted = self.module.imports.bound(binding.node, name)
            return self._imported_chain(dotted, depth) if dotted else None
        if binding.kind == "assign" and isinstance(binding.value, ast.Call):
            made = self._declarative_base_value(ast.Name(id=name, ctx=ast.Load()),
                                                self.module.tree)
            return _Chain(frozenset({DECLARATIVE}), declarative_base=made) if made else None
        return None

    def _plain_class(self, node: ast.ClassDef) -> bool:
        """A mixin of this file whose own bases are all `object`: nothing hidden in it."""
        return not node.keywords and all(
            self.type_name(b, node) == "builtins.object" for b in node.bases)

    def _declarative_base_value(self, base: ast.expr, at: ast.AST) -> Optional[ast.Call]:
        """`Base` bound to `declarative_base()` or `registry().generate_base()` in this file."""
        if not isinstance(base, ast.Name):
            return None
        bindings = self.module.scopes.lookup(base.id, at)
        call = bindings[0].value if len(bindings) == 1 and bindings[0].kind == "assign" else None
        if not isinstance(call, ast.Call):
            return None
        if self.module.call_name(call) == _DECLARATIVE_FACTORY:
            return call
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "generate_base":
            return call if self._is_registry(func.value, at) else None
        return None

    def _registry_mapped(self, node: ast.ClassDef) -> bool:
        """`@reg.mapped` / `@reg.mapped_as_dataclass` with `reg = registry()` in this file."""
        for dec in node.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            if (isinstance(target, ast.Attribute) and target.attr in _MAPPED_DECORATORS
                    and self._is_registry(target.value, node)):
                return True
        return False

    def _is_registry(self, expr: ast.expr, at: ast.AST) -> bool:
        if isinstance(expr, ast.Call):
            return self.module.call_name(expr) == _REGISTRY
        if isinstance(expr, ast.Name):
            bindings = self.module.scopes.lookup(expr.id, at)
            return (len(bindings) == 1 and bindings[0].kind == "assign"
                    and isinstance(bindings[0].value, ast.Call)
                    and self.module.call_name(bindings[0].value) == _REGISTRY)
        return False


# -- annotations ---------------------------------------------------------------------------------
def _has_future_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
        and any(alias.name == "annotations" for alias in stmt.names)
        for stmt in tree.body
    )


def subscript_elements(node: ast.Subscript) -> List[ast.expr]:
    inner = node.slice
    return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]


def string_union(annotation: ast.expr) -> Optional[ast.BinOp]:
    """The first `"X" | ...` in an annotation: a `|` with a string operand, a TypeError when
    Python evaluates it."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and any(
                isinstance(side, ast.Constant) and isinstance(side.value, str)
                for side in (node.left, node.right)):
            return node
    return None


def keywords(call: ast.Call) -> Dict[str, ast.expr]:
    return {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}


def has_double_star(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


def _is_none(expr: ast.expr) -> bool:
    return (isinstance(expr, ast.Constant) and expr.value is None) or (
        isinstance(expr, ast.Name) and expr.id == "None")


def _is_abstract(node: ast.ClassDef) -> bool:
    for stmt in node.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Constant):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "__abstract__" for t in targets):
                return bool(stmt.value.value)
    return False


def parse_string_annotation(expr: ast.expr) -> Optional[ast.expr]:
    """The expression inside a string annotation (`"Team"` -> Name Team); None if not parseable."""
    if not (isinstance(expr, ast.Constant) and isinstance(expr.value, str)):
        return None
    try:
        return ast.parse(expr.value.strip(), mode="eval").body
    except (SyntaxError, ValueError):  # ValueError: a NUL byte, on Python < 3.11
        return None


_BUILTIN_NAMES = frozenset(name for name in dir(builtins) if not name.startswith("_"))
