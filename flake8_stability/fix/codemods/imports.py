"""`moved-import` (SBA103): import a moved name from where the installed version has it, as the
shipped symbol table (`knowledge/symbols.py`) says: `from pydantic import BaseSettings` becomes
`from pydantic_settings import BaseSettings`; a multi-name import is split when only some of its
names moved; `pydantic.BaseSettings` after `import pydantic` becomes
`pydantic_settings.BaseSettings` with `import pydantic_settings` added. The extra dependency the
new import needs is a note for the CLI's output, never written into the code. The finding's fix
data names the old import: `module`, `name` (absent when the whole module is the problem) and
`form` (`import` for `from module import name`, `attribute` for `module.name`)."""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper

from ...knowledge.symbols import name_row
from ..codemod import Codemod, Outcome, Target, node_at
from .common import Replacements, dotted, dotted_node, no_fix_data, statement_of

_NEW_IMPORT = re.compile(r"^from (?P<module>[\w.]+) import (?P<names>\w+(?:, \w+)*)$")


def moved_to(module: str, name: str) -> Tuple[Optional[str], str]:
    """(new module, why not) for `from module import name`."""
    row = name_row(module, name)
    if row is None:
        return None, f"the symbol table has no row for {module}.{name}"
    new = row.new.split(" (")[0].strip()
    match = _NEW_IMPORT.match(new)
    if match is None or name not in match.group("names").split(", "):
        return None, f"the replacement is not an import of {name}: {row.new}"
    return match.group("module"), ""


class MovedImport(Codemod):
    """Safe: the new import binds the same name (or the attribute names the same class from its
    new home); nothing else in the file changes."""

    name = "moved-import"
    codes = ("SBA103",)
    safe = True
    summary = ("imports a moved name from its new module (symbol table), splitting a multi-name "
               "import; the new module's distribution is named in a note")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        plan = _Plan(wrapper)
        for target in targets:
            why = plan.add(target)
            if why:
                outcome.skipped.append((target, why))
            else:
                outcome.fixed.append(target)
        outcome.module = plan.build()
        outcome.notes.extend(plan.notes)
        return outcome


class _Plan:
    """The edits of every target of one file, gathered before the tree is rebuilt."""

    def __init__(self, wrapper: MetadataWrapper) -> None:
        self.wrapper = wrapper
        self.moves: Dict[cst.ImportFrom, Dict[str, str]] = {}  # import -> {name: new module}
        self.attributes: Dict[cst.Attribute, str] = {}  # `pydantic.X` -> new module
        self.notes: List[str] = []

    def add(self, target: Target) -> str:
        """Plan the target's edit; the reason it cannot be fixed, or ''."""
        wanted = target.finding.fix.data
        if "module" not in wanted:
            return no_fix_data("module", "name", "form")
        if "name" not in wanted:
            return "the finding is about a whole module, which has no mechanical replacement"
        module, name, form = wanted["module"], wanted["name"], wanted.get("form")
        if form == "attribute":
            return self._add_attribute(target, f"{module}.{name}")
        if form != "import":
            return no_fix_data("form")
        node = node_at(self.wrapper, target, cst.ImportFrom)
        if (not isinstance(node, cst.ImportFrom) or node.relative
                or isinstance(node.names, cst.ImportStar)):
            return f"no `from {module} import ...` statement at line {target.line}"
        if dotted(node.module) != module or name not in _imported(node):
            return f"the import at line {target.line} no longer imports {name} from {module}"
        new_module, why = moved_to(module, name)
        if new_module is None:
            return why
        found = statement_of(self.wrapper.module, node)
        if found is None or len(found[0].body) != 1:
            return f"the import at line {target.line} shares its line with other statements"
        self.moves.setdefault(node, {})[name] = new_module
        self._note(new_module, target.finding.fix.data.get("needs"))
        return ""

    def _add_attribute(self, target: Target, use: str) -> str:
        module, _, name = use.rpartition(".")
        node = node_at(self.wrapper, target, cst.Attribute)
        if not isinstance(node, cst.Attribute) or dotted(node) != use:
            return f"no `{use}` at line {target.line}"
        new_module, why = moved_to(module, name)
        if new_module is None:
            return why
        if not _imports_module(self.wrapper.module, module):
            return f"`{module}` is not imported with a top-level `import {module}`"
        top = new_module.split(".")[0]
        if top in _bound_names(self.wrapper.module) and not _imports_module(self.wrapper.module,
                                                                            new_module):
            return f"the name {top} is already bound to something else in this file"
        self.attributes[node] = new_module
        self._note(new_module, target.finding.fix.data.get("needs"))
        return ""

    def _note(self, new_module: str, needs: Optional[str]) -> None:
        """`needs`: the distribution of the new import when the project does not declare it."""
        note = (f"`{new_module}` comes from the {needs} distribution: add it to the project's "
                f"dependencies" if needs else "")
        if note and note not in self.notes:
            self.notes.append(note)

    def build(self) -> cst.Module:
        replacements = Replacements()
        module = self.wrapper.module
        for node, moved in self.moves.items():
            found = statement_of(module, node)
            assert found is not None  # checked by add()
            replacements.add(found[0], _split(module, found[0], node, moved, found[1]))
        for node, new_module in self.attributes.items():
            replacements.add(node, node.with_changes(value=dotted_node(new_module)))
        new = replacements.apply(module)
        for new_module in dict.fromkeys(self.attributes.values()):
            new = _add_import(new, new_module)
        return new


def _imported(node: cst.ImportFrom) -> List[str]:
    assert not isinstance(node.names, cst.ImportStar)
    return [dotted(alias.name) for alias in node.names]


def _split(module: cst.Module, statement: cst.SimpleStatementLine, node: cst.ImportFrom,
           moved: Dict[str, str], top_level: bool) -> cst.FlattenSentinel[cst.SimpleStatementLine]:
    """The import without the moved names (if any stay), then one import per new module;
    new imports the file already has at its top level are not repeated there."""
    assert not isinstance(node.names, cst.ImportStar)
    aliases = list(node.names)
    staying = [alias for alias in aliases if dotted(alias.name) not in moved]
    lines: List[cst.SimpleStatementLine] = []
    existing = _existing_imports(module) if top_level else set()
    for new_module in dict.fromkeys(moved.values()):
        going = [alias for alias in aliases if moved.get(dotted(alias.name)) == new_module
                 and (new_module, _bound(alias)) not in existing]
        if going:
            names = [alias.with_changes(comma=cst.MaybeSentinel.DEFAULT) for alias in going]
            lines.append(cst.SimpleStatementLine(
                [cst.ImportFrom(module=dotted_node(new_module), names=names)]))
    if not staying:
        if not lines:
            return cst.FlattenSentinel([])  # every moved name is already imported elsewhere
        first = lines[0].with_changes(leading_lines=statement.leading_lines,
                                      trailing_whitespace=statement.trailing_whitespace)
        return cst.FlattenSentinel([first, *lines[1:]])
    staying[-1] = staying[-1].with_changes(comma=aliases[-1].comma)
    kept = statement.with_changes(body=[node.with_changes(names=staying)])
    return cst.FlattenSentinel([kept, *lines])


def _bound(alias: cst.ImportAlias) -> Tuple[str, str]:
    """(imported name, the name it binds)."""
    name = dotted(alias.name)
    bound = alias.asname.name if alias.asname is not None else None
    return name, dotted(bound) if isinstance(bound, (cst.Name, cst.Attribute)) else name


def _existing_imports(module: cst.Module) -> Set[Tuple[str, Tuple[str, str]]]:
    """(module, (name, bound name)) of every top-level `from module import name`."""
    found: Set[Tuple[str, Tuple[str, str]]] = set()
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (isinstance(small, cst.ImportFrom) and not small.relative
                    and not isinstance(small.names, cst.ImportStar) and small.module is not None):
                found.update((dotted(small.module), _bound(alias)) for alias in small.names)
    return found


def _imports_module(module: cst.Module, name: str) -> bool:
    """Whether the file has a top-level `import name` (no alias)."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                        dotted(alias.name) == name and alias.asname is None
                        for alias in small.names):
                    return True
    return False


def _bound_names(module: cst.Module) -> Set[str]:
    """Every name the file binds anywhere (assignments, imports, defs, parameters)."""
    names: Set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    module.visit(Collect())
    return names


def _add_import(module: cst.Module, name: str) -> cst.Module:
    """`import name` after the file's last top-level import, unless it is already there."""
    if _imports_module(module, name):
        return module
    body = list(module.body)
    last = max((index for index, statement in enumerate(body)
                if isinstance(statement, cst.SimpleStatementLine)
                and any(isinstance(small, (cst.Import, cst.ImportFrom))
                        for small in statement.body)), default=-1)
    line = cst.SimpleStatementLine([cst.Import(names=[cst.ImportAlias(dotted_node(name))])])
    body.insert(last + 1, line)
    return module.with_changes(body=body)
