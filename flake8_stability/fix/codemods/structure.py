"""Project structure: `defer-cycle-import` (SBA602) and `create-init` (SBA601)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import CodeRange, MetadataWrapper, ScopeProvider

from ...config import find_root
from .. import edits
from ..codemod import Codemod, FileCreation, Outcome, Target, node_at, positions
from ._project import other_file_matching
from ._nodes import Replacement, dotted, parents, replace_nodes

_DEPENDS = ("Depends", "Security")
Parents = Dict[cst.CSTNode, cst.CSTNode]
Spans = Dict[cst.CSTNode, CodeRange]
Function = cst.FunctionDef


class CreateInit(Codemod):
    """Creates the empty `__init__.py` the finding names (a new file; the module is unchanged)."""

    name = "create-init"
    codes = ("SBA601",)
    safe = True
    summary = "create the empty __init__.py of a folder imported as a package"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        wanted: Set[Path] = set()
        for target in targets:
            shown = target.finding.fix.data.get("folder")
            folder = find_root(Path(target.finding.path)) / shown if shown else None
            if folder is None or not folder.is_dir():
                outcome.skipped.append((target, "the package folder is not known"))
                continue
            init = folder / "__init__.py"
            if not init.exists() and init not in wanted:
                wanted.add(init)
                outcome.created.append(FileCreation(str(init), ""))
            outcome.fixed.append(target)
        return outcome


@dataclass
class _Uses:
    """How a module uses one imported name: the functions whose bodies read it, the annotation
    names to quote, and the first use that runs at import (the name cannot be deferred)."""

    functions: List[Function] = field(default_factory=list)
    quote: List[cst.Name] = field(default_factory=list)
    typed: bool = False  # annotations need it: it goes under TYPE_CHECKING
    blocking: Optional[str] = None


class DeferCycleImport(Codemod):
    """Moves the names a cycle-closing `from X import name` fails on out of the module level:
    into each function whose body uses them (`from X import name` as the function's first
    statement), and under `if TYPE_CHECKING:` with the annotation quoted (`"Team"`) when
    annotations use them; a name nothing reads is dropped when no other file of the project
    names it with this module. Skipped when any use runs at import (a base class, a default, a
    decorator, a field annotation pydantic evaluates, a module-level statement).

    Unsafe: the import then runs at the first call instead of at import time (its module's side
    effects move with it), other modules importing the name from this one lose it, and an
    annotation quoted for `TYPE_CHECKING` can only be resolved by code that imports the name
    (FastAPI reading a dependency's signature from another module would not find it)."""

    name = "defer-cycle-import"
    codes = ("SBA602",)
    safe = False
    summary = ("move the cycle-closing import into the functions that use the name, or under "
               "TYPE_CHECKING for annotations (unsafe: the import runs later)")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        statements: Dict[cst.ImportFrom, List[Tuple[Target, str]]] = {}
        importer = ""
        for target in targets:
            found = target.finding.fix.data
            node = node_at(wrapper, target, cst.ImportFrom)
            if not {"importer", "name"} <= found.keys() or not isinstance(node, cst.ImportFrom):
                outcome.skipped.append((target, "no `from ... import` statement here"))
                continue
            statements.setdefault(node, []).append((target, found["name"]))
            importer = found["importer"]
        if len(statements) > 1:
            outcome.skipped.extend((t, "several cycle-closing imports in one module: fix one "
                                       "and audit again") for group in statements.values()
                                   for t, _ in group)
            return outcome
        for node, group in statements.items():
            readers = partial(_read_elsewhere, Path(group[0][0].finding.path), importer)
            problem, module = _defer(wrapper, node, {name for _, name in group}, readers)
            outcome.module = module
            if problem is None:
                outcome.fixed.extend(t for t, _ in group)
            else:
                outcome.skipped.extend((t, problem) for t, _ in group)
        return outcome


def _defer(wrapper: MetadataWrapper, node: cst.ImportFrom, names: Set[str],
           readers: Callable[[str], Optional[str]]) -> Tuple[Optional[str], cst.Module]:
    module = wrapper.module
    up = parents(wrapper)
    line = up.get(node)
    if not (isinstance(line, cst.SimpleStatementLine) and isinstance(up.get(line), cst.Module)
            and len(line.body) == 1 and not isinstance(node.names, cst.ImportStar)):
        return "the import is not a module-level statement of its own", module
    moved = [alias for alias in node.names if alias.evaluated_name in names]  # type: ignore
    if not moved:
        return None, module  # already deferred
    uses: Dict[str, _Uses] = {}
    scopes = wrapper.resolve(ScopeProvider)
    for alias in moved:
        bound = alias.evaluated_alias or alias.evaluated_name
        found = _uses_of(module, scopes[node], bound, node, (up, positions(wrapper)))
        if isinstance(found, str):
            return found, module
        reader = None if found.functions or found.typed else readers(bound)
        if reader is not None:
            return (f"nothing in the module reads {bound}, but {reader} may import it from "
                    f"here"), module
        uses[bound] = found
    return None, _rewrite(module, line, node, moved, uses)


def _uses_of(module: cst.Module, scope: object, bound: str, node: cst.ImportFrom,
             where: Tuple[Parents, Spans]) -> Union[str, _Uses]:
    assignments = list(scope.assignments[bound])  # type: ignore[attr-defined]
    if len(assignments) != 1 or assignments[0].node is not node:
        return f"{bound} is bound more than once in the module"
    if "__all__" in module.code and re.search(rf"['\"]{bound}['\"]", module.code):
        return f"{bound} may be re-exported (__all__ or a string names it)"
    uses = _Uses()
    for access in assignments[0].references:
        _classify(module, access.node, bound, where, uses)
        if uses.blocking:
            return uses.blocking
    return uses


def _read_elsewhere(path: Path, importer: str, bound: str) -> Optional[str]:
    """Another Python file of the project that may import `bound` from module `importer`
    (`from ...<last part> import ... bound`, or `<last part>.bound`): dropping the unused
    import would break it."""
    short, name = re.escape(importer.rsplit(".", 1)[-1]), re.escape(bound)
    pattern = re.compile(rf"from\s+[.\w]*\b{short}\s+import\s+(\([^)]*|[^\n]*)\b{name}\b"
                         rf"|\b{short}\.{name}\b")
    return other_file_matching(path, pattern)


def _classify(module: cst.Module, node: cst.CSTNode, bound: str, where: Tuple[Parents, Spans],
              uses: _Uses) -> None:
    """Record one use of `bound`: in a function body, an annotation to quote, or at import."""
    up, spans = where
    outer: Optional[Function] = None
    annotation: Optional[cst.Annotation] = None
    child, parent = node, up.get(node)
    while parent is not None:
        if isinstance(parent, cst.Annotation) and annotation is None:
            annotation = parent
        if isinstance(parent, cst.FunctionDef) and child is parent.body:
            outer, annotation = parent, None
        child, parent = parent, up.get(parent)
    if outer is not None:
        if outer not in uses.functions:
            uses.functions.append(outer)
        return
    line = spans[node].start.line
    if annotation is None:
        uses.blocking = f"{bound} is used when the module runs (line {line})"
    elif not _lazy_annotation(annotation, up, module):
        uses.blocking = (f"{bound} is used in an annotation evaluated at import or by a "
                         f"framework (line {line})")
    elif not isinstance(node, cst.Name):
        uses.typed = True  # already a string annotation
    elif isinstance(up.get(node), cst.Attribute):
        uses.blocking = f"{bound} is used as `{bound}.<attribute>` in an annotation"
    else:
        uses.quote.append(node)
        uses.typed = True


def _lazy_annotation(annotation: cst.Annotation, up: Parents, module: cst.Module) -> bool:
    """An annotation nothing evaluates at import: of a plain function's parameter or return
    value that no Depends() in the module names, or of a SQLModel `Relationship()` attribute
    (SQLAlchemy resolves the class by name later)."""
    owner = up.get(annotation)
    if isinstance(owner, cst.AnnAssign):
        value = owner.value
        return isinstance(value, cst.Call) and dotted(value.func) in (
            "Relationship", "sqlmodel.Relationship")
    function = owner if isinstance(owner, cst.FunctionDef) else None
    while function is None and owner is not None:
        owner = up.get(owner)
        function = owner if isinstance(owner, cst.FunctionDef) else None
        if isinstance(owner, (cst.ClassDef, cst.Module, cst.IndentedBlock)):
            return False
    if function is None or function.decorators:
        return False
    return function.name.value not in _depended(module)


def _depended(module: cst.Module) -> Set[str]:
    """Names given to Depends()/Security() anywhere in the module."""
    found: Set[str] = set()

    class _Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            name = dotted(node.func)
            if name and name.rsplit(".", 1)[-1] in _DEPENDS:
                found.update(dotted(arg.value) or "" for arg in node.args)

    module.visit(_Visitor())
    return found


def _rewrite(module: cst.Module, line: cst.SimpleStatementLine, node: cst.ImportFrom,
             moved: List[cst.ImportAlias], uses: Dict[str, _Uses]) -> cst.Module:
    replacements: Dict[cst.CSTNode, Replacement] = {}
    functions: Dict[Function, List[cst.ImportAlias]] = {}
    for alias in moved:
        use = uses[alias.evaluated_alias or alias.evaluated_name]
        for function in use.functions:
            functions.setdefault(function, []).append(alias)
        for name in use.quote:
            replacements[name] = cst.SimpleString(f'"{name.value}"')
    for function, aliases in functions.items():
        replacements[function] = partial(_with_import, statement=_narrowed(node, aliases))
    typed = [alias for alias in moved if uses[alias.evaluated_alias or alias.evaluated_name].typed]
    kept = [alias for alias in node.names if alias not in moved]  # type: ignore[union-attr]
    statements: List[cst.BaseStatement] = []
    if kept:  # the names left keep the statement as written, comments and parentheses
        names = edits.without_elements(node.names, lambda alias: alias in moved)  # type: ignore
        statements.append(line.with_changes(body=[node.with_changes(names=names)]))
    if typed:
        guard = cst.parse_statement("if TYPE_CHECKING:\n    pass\n")
        body = cst.IndentedBlock([cst.SimpleStatementLine(
            [_narrowed(node, typed)], trailing_whitespace=line.trailing_whitespace)])
        statements.append(guard.with_changes(  # type: ignore[call-arg]
            body=body, leading_lines=line.leading_lines if not kept else []))
    index = list(module.body).index(line)
    module = replace_nodes(module, replacements)
    body = list(module.body)
    body[index:index + 1] = statements
    module = module.with_changes(body=body)
    if typed:
        context = CodemodContext()
        AddImportsVisitor.add_needed_import(context, "typing", "TYPE_CHECKING")
        module = AddImportsVisitor(context).transform_module(module)
    return module


def _narrowed(node: cst.ImportFrom, aliases: List[cst.ImportAlias]) -> cst.ImportFrom:
    """`node` importing only `aliases`, on one line."""
    names = [alias.with_changes(comma=cst.MaybeSentinel.DEFAULT) for alias in aliases]
    return node.with_changes(names=names, lpar=None, rpar=None)


def _with_import(function: Function, statement: cst.ImportFrom) -> Function:
    """`function` starting with `statement` (after its docstring)."""
    body = function.body
    if not isinstance(body, cst.IndentedBlock):
        body = cst.IndentedBlock([cst.SimpleStatementLine(list(body.body))])
    statements = list(body.body)
    first = statements[0] if statements else None
    docstring = (isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr)
                 and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))
    statements.insert(1 if docstring else 0, cst.SimpleStatementLine([statement]))
    return function.with_changes(body=body.with_changes(body=statements))
