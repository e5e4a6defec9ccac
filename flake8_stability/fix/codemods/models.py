"""`rename-reserved-attribute` (SBA321): rename a model attribute named `metadata` (or
`registry`) and keep its database column name."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import edits
from ..codemod import Codemod, Outcome, Target, positions
from .common import fix_data, no_fix_data

_NEW_NAMES = {"metadata": ("meta", "metadata_"), "registry": ("registry_name", "registry_")}
_COLUMNS = ("Column", "mapped_column")
_RELATIONSHIPS = ("Relationship", "relationship")
Field = Union[cst.AnnAssign, cst.Assign]


def _callee(expr: Optional[cst.BaseExpression]) -> str:
    if isinstance(expr, cst.Call):
        return edits.source(expr.func).rsplit(".", 1)[-1]
    return ""


def _string(text: str) -> cst.SimpleString:
    return cst.SimpleString(f'"{text}"')


def _named_column(column: cst.Call, name: str) -> cst.Call:
    """`Column(JSON)` -> `Column("metadata", JSON)`; unchanged when it names its column."""
    first = column.args[0] if column.args else None
    if first is not None and first.keyword is None and isinstance(first.value, cst.SimpleString):
        return column
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if column.args \
        else cst.MaybeSentinel.DEFAULT
    return column.with_changes(args=[cst.Arg(value=_string(name), comma=comma), *column.args])


class RenameReservedAttribute(Codemod):
    """`metadata: dict = Field(sa_column=Column(JSON))` -> `meta: dict =
    Field(sa_column=Column("metadata", JSON))`: the attribute gets a free name (`meta`, else
    `metadata_`; `registry_name` for `registry`) and the column keeps its name (`Column(name,
    ...)`, `mapped_column(name, ...)`, or SQLModel's `sa_column_kwargs={"name": ...}`).
    Unsafe: code and API payloads that use the attribute must follow the rename; fields
    inherited from a shared base class are skipped. The fix data says which kind of `model` it
    is (`sqlmodel` or `declarative`): only a SQLModel field can get a `Field(...)`."""

    name = "rename-reserved-attribute"
    codes = ("SBA321",)
    safe = False
    summary = ("rename the reserved model attribute (metadata -> meta), keeping the column "
               "name; code that reads the attribute must follow")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        parent_of = edits.parents(wrapper)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        needs_field = False
        for target in targets:
            plan, why = self._plan(wrapper, parent_of, target)
            if plan is None:
                outcome.skipped.append((target, why))
                continue
            statement, new, uses_field = plan
            needs_field = needs_field or uses_field
            planned[statement] = (lambda node, new=new: _renamed(node, new))  # type: ignore
            outcome.fixed.append(target)
        module = edits.replace(wrapper.module, planned)
        outcome.module = edits.add_import(module, "sqlmodel", "Field") if needs_field else module
        return outcome

    def _plan(self, wrapper: MetadataWrapper, parent_of: Dict[cst.CSTNode, cst.CSTNode],
              target: Target) -> Tuple[Optional[Tuple[Field, str, bool]], str]:
        wanted = fix_data(target, "model")
        if wanted is None:
            return None, no_fix_data("model")
        statement = _field_at(wrapper, target)
        if statement is None:
            inherited = any(isinstance(node, cst.ClassDef) for node in _nodes_at(wrapper, target))
            return None, ("the attribute is inherited from a base class other models share; "
                          "rename it there by hand" if inherited else
                          "no metadata/registry attribute at the finding's position")
        old = _target_name(statement)
        new = _free_name(parent_of, statement, old)
        if new is None:
            return None, f"every replacement name for {old} is taken in the class"
        value = statement.value
        sqlmodel = wanted["model"] == "sqlmodel"
        if _callee(value) in _COLUMNS + _RELATIONSHIPS:
            return (statement, new, False), ""
        if _callee(value) == "Field":
            return _field_plan(statement, new)
        if not sqlmodel or isinstance(statement, cst.Assign):
            return None, "no column construct to carry the column name; rename it by hand"
        if edits.imported_from(wrapper, statement, "Field", ("sqlmodel",)) is False:
            return None, "the name Field is bound to something other than sqlmodel.Field"
        return (statement, new, True), ""


def _field_plan(statement: Field, new: str) -> Tuple[Optional[Tuple[Field, str, bool]], str]:
    field = statement.value
    assert isinstance(field, cst.Call)
    column = edits.keyword_arg(field, "sa_column")
    if column is not None and _callee(column.value) not in _COLUMNS:
        return None, "sa_column is not a Column(...) written here"
    kwargs = edits.keyword_arg(field, "sa_column_kwargs")
    if kwargs is not None and not isinstance(kwargs.value, cst.Dict):
        return None, "sa_column_kwargs is not a dict written here"
    return (statement, new, False), ""


def _nodes_at(wrapper: MetadataWrapper, target: Target) -> List[cst.CSTNode]:
    return [node for node, where in positions(wrapper).items()
            if where.start.line == target.line and where.start.column == target.col]


def _field_at(wrapper: MetadataWrapper, target: Target) -> Optional[Field]:
    for node in _nodes_at(wrapper, target):
        if isinstance(node, (cst.AnnAssign, cst.Assign)) and _target_name(node) in _NEW_NAMES:
            return node
    return None


def _target_name(statement: Field) -> str:
    target = statement.target if isinstance(statement, cst.AnnAssign) \
        else statement.targets[0].target
    return target.value if isinstance(target, cst.Name) else ""


def _free_name(parent_of: Dict[cst.CSTNode, cst.CSTNode], statement: Field,
               old: str) -> Optional[str]:
    cls = next((node for node in edits.ancestors(parent_of, statement)
                if isinstance(node, cst.ClassDef)), None)
    used: Set[str] = set()
    if cls is not None:
        for line in cls.body.body:
            for small in getattr(line, "body", ()):
                if isinstance(small, (cst.AnnAssign, cst.Assign)):
                    used.add(_target_name(small))
            if isinstance(line, (cst.FunctionDef, cst.ClassDef)):
                used.add(line.name.value)
    return next((name for name in _NEW_NAMES[old] if name not in used), None)


def _renamed(node: cst.CSTNode, new: str) -> cst.CSTNode:
    """The field statement with its new attribute name and the column name kept."""
    assert isinstance(node, (cst.AnnAssign, cst.Assign))
    old = _target_name(node)
    value = _column_named(node.value, old)
    if isinstance(node, cst.AnnAssign):
        return node.with_changes(target=cst.Name(new), value=value,
                                 equal=node.equal if node.value is not None else cst.AssignEqual())
    first = node.targets[0].with_changes(target=cst.Name(new))
    return node.with_changes(targets=[first], value=value)


def _column_named(value: Optional[cst.BaseExpression], name: str) -> cst.BaseExpression:
    callee = _callee(value)
    if isinstance(value, cst.Call) and callee in _COLUMNS:
        return _named_column(value, name)
    if isinstance(value, cst.Call) and callee == "Field":
        return _field_named(value, name)
    if isinstance(value, cst.Call) and callee in _RELATIONSHIPS:
        return value
    field = cst.Call(func=cst.Name("Field"))
    if value is not None:
        field = edits.with_keyword(field, "default", value)
    return _field_named(field, name)


def _field_named(field: cst.Call, name: str) -> cst.Call:
    column = edits.keyword_arg(field, "sa_column")
    if column is not None:
        assert isinstance(column.value, cst.Call)
        named = column.with_changes(value=_named_column(column.value, name))
        return field.with_changes(args=[named if arg is column else arg for arg in field.args])
    kwargs = edits.keyword_arg(field, "sa_column_kwargs")
    entry = cst.DictElement(key=_string("name"), value=_string(name))
    if kwargs is None:
        return edits.with_keyword(field, "sa_column_kwargs", cst.Dict(elements=[entry]))
    given = kwargs.value
    assert isinstance(given, cst.Dict)
    if any(isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
           and e.key.evaluated_value == "name" for e in given.elements):
        return field
    elements = list(given.elements)
    if elements:
        elements[-1] = elements[-1].with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    updated = kwargs.with_changes(value=given.with_changes(elements=[*elements, entry]))
    return field.with_changes(args=[updated if arg is kwargs else arg for arg in field.args])
