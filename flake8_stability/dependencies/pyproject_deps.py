"""Dependencies declared in `pyproject.toml` (PEP 621, PEP 735 groups, Poetry, PDM, uv) and in
`setup.cfg`. Requirement strings are parsed by `packaging`; Poetry's own constraint syntax (`^`,
`~`, `*`, bare versions) is converted to PEP 440 specifiers first."""
from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .records import (Collected, DeclaredRequirement, DependencyProblem, RequiresPython,
                      is_development, masked, read_text, read_toml)
from .toml_lines import TomlLines


class _Document:
    """One parsed pyproject.toml and where its entries are written."""

    def __init__(self, path: Path, data: Dict[str, Any], text: str, into: Collected) -> None:
        self.path = path
        self.data = data
        self.lines = TomlLines(text)
        self.into = into

    def table(self, *keys: str) -> Dict[str, Any]:
        value: Any = self.data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, dict) else {}

    def line(self, table: Sequence[str], key: str, item: Optional[str] = None) -> int:
        found = (self.lines.item(table, key, item) if item is not None
                 else self.lines.key(table, key))
        return found or self.lines.header(table) or 1

    def problem(self, line: int, message: str) -> None:
        self.into.problems.append(DependencyProblem(self.path, line, message))

    def add(self, text: str, table: Sequence[str], key: str, source: str,
            group: Optional[str] = None, *, constraint: bool = False,
            development: Optional[bool] = None) -> None:
        """One PEP 508 string from the array `table.key`."""
        line = self.line(table, key, text)
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            self.problem(line, f"invalid requirement {masked(text)!r}: {_first_line(exc)}")
            return
        self.append(requirement, line, source, group, constraint=constraint,
                    development=is_development(group) if development is None else development)

    def append(self, requirement: Requirement, line: int, source: str, group: Optional[str],
               *, constraint: bool = False, development: bool = False) -> None:
        self.into.requirements.append(DeclaredRequirement(
            canonicalize_name(requirement.name), requirement, self.path, line, source,
            group=group, constraint=constraint, development=development))

    def strings(self, value: Any, table: Sequence[str], key: str) -> List[str]:
        """The strings of an array (other items are reported)."""
        if not isinstance(value, list):
            self.problem(self.line(table, key), f"{'.'.join((*table, key))} is not an array")
            return []
        return [item for item in value if isinstance(item, str)]


def _first_line(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else "invalid syntax"


def read_pyproject(path: Path, into: Collected) -> None:
    read = read_toml(path, into)
    if read is None:
        return
    data, text = read
    document = _Document(path, data, text, into)
    _pep621(document)
    _pep735(document)
    _poetry(document)
    _pdm(document)
    _uv(document)


def _pep621(doc: _Document) -> None:
    project = doc.table("project")
    if isinstance(project.get("name"), str):
        doc.into.project_names += (canonicalize_name(project["name"]),)
    if "dependencies" in project:
        for text in doc.strings(project["dependencies"], ("project",), "dependencies"):
            doc.add(text, ("project",), "dependencies", "pep621")
    table = ("project", "optional-dependencies")
    for extra, items in doc.table(*table).items():
        for text in doc.strings(items, table, extra):
            doc.add(text, table, extra, "pep621", extra, development=is_development(extra))
    if isinstance(project.get("requires-python"), str):
        _requires_python(doc, project["requires-python"], doc.line(("project",),
                                                                   "requires-python"), "pep621")


def _requires_python(doc: _Document, text: str, line: int, source: str) -> None:
    try:
        specifier = SpecifierSet(text)
    except InvalidSpecifier as exc:
        doc.problem(line, f"invalid requires-python {text!r}: {_first_line(exc)}")
        return
    if doc.into.requires_python is None:
        doc.into.requires_python = RequiresPython(specifier, doc.path, line, source)


def _pep735(doc: _Document) -> None:
    groups = doc.table("dependency-groups")
    for group in groups:
        for text, key in _group_items(doc, groups, group, (group,)):
            doc.add(text, ("dependency-groups",), key, "pep735", group)


def _group_items(doc: _Document, groups: Mapping[str, Any], group: str,
                 seen: Tuple[str, ...]) -> Iterator[Tuple[str, str]]:
    """(requirement, the group whose array holds it) with `{include-group = ...}` expanded."""
    items = groups.get(group)
    if not isinstance(items, list):
        doc.problem(doc.line(("dependency-groups",), group), f"dependency group {group!r} "
                    "is not an array")
        return
    for item in items:
        if isinstance(item, str):
            yield item, group
            continue
        included = item.get("include-group") if isinstance(item, dict) else None
        line = doc.line(("dependency-groups",), group)
        if not isinstance(included, str) or included not in groups:
            doc.problem(line, f"dependency group {group!r}: cannot include {item!r}")
        elif included in seen:
            doc.problem(line, f"dependency group {group!r}: include cycle through {included!r}")
        else:
            yield from _group_items(doc, groups, included, (*seen, included))


def _pdm(doc: _Document) -> None:
    table = ("tool", "pdm", "dev-dependencies")
    for group, items in doc.table(*table).items():
        for text in doc.strings(items, table, group):
            doc.add(text, table, group, "pdm", group, development=True)


def _uv(doc: _Document) -> None:
    uv = doc.table("tool", "uv")
    for key, constraint in (("dev-dependencies", False), ("constraint-dependencies", True),
                            ("override-dependencies", True)):
        if key in uv:
            for text in doc.strings(uv[key], ("tool", "uv"), key):
                doc.add(text, ("tool", "uv"), key, "uv", "dev" if not constraint else None,
                        constraint=constraint, development=not constraint)


def _poetry(doc: _Document) -> None:
    poetry = doc.table("tool", "poetry")
    if isinstance(poetry.get("name"), str):
        doc.into.project_names += (canonicalize_name(poetry["name"]),)
    extras = _poetry_extras(poetry)
    sections: List[Tuple[Tuple[str, ...], Optional[str]]] = [
        (("tool", "poetry", "dependencies"), None),
        (("tool", "poetry", "dev-dependencies"), "dev")]
    sections += [(("tool", "poetry", "group", group, "dependencies"), group)
                 for group in doc.table("tool", "poetry", "group")]
    for table, group in sections:
        for name, value in doc.table(*table).items():
            line = doc.line(table, name)
            if name.lower() == "python":
                if group is None and isinstance(value, str):
                    _poetry_python(doc, value, line)
                continue
            for entry in value if isinstance(value, list) else [value]:
                _poetry_entry(doc, name, entry, line, group, extras)


def _poetry_extras(poetry: Mapping[str, Any]) -> Dict[str, str]:
    """Optional dependency (canonical) -> the extra listing it in `[tool.poetry.extras]`."""
    found: Dict[str, str] = {}
    extras = poetry.get("extras")
    for extra, names in extras.items() if isinstance(extras, dict) else ():
        for name in names if isinstance(names, list) else ():
            if isinstance(name, str):
                found.setdefault(canonicalize_name(name.split("[")[0]), extra)
    return found


def _poetry_python(doc: _Document, value: str, line: int) -> None:
    specifier = poetry_specifier(value)
    if specifier is None:
        doc.problem(line, f"invalid Poetry python constraint {value!r}")
    elif doc.into.requires_python is None:
        doc.into.requires_python = RequiresPython(specifier, doc.path, line, "poetry")


def _poetry_entry(doc: _Document, name: str, entry: Any, line: int, group: Optional[str],
                  extras: Mapping[str, str]) -> None:
    """One Poetry dependency: a constraint string, or a table with version, extras, markers,
    python, optional, or a git/path/url source (kept by name, without a version)."""
    table = entry if isinstance(entry, dict) else {"version": entry}
    version = table.get("version", "*")
    specifier = poetry_specifier(version) if isinstance(version, str) else None
    if specifier is None:
        doc.problem(line, f"invalid Poetry constraint for {name}: {version!r}")
        return
    chosen = table.get("extras")
    extra_text = (f"[{','.join(chosen)}]" if isinstance(chosen, list) and chosen
                  and all(isinstance(e, str) for e in chosen) else "")
    markers = [table["markers"]] if isinstance(table.get("markers"), str) else []
    python = table.get("python")
    if isinstance(python, str):
        markers += [_python_marker(python)] if _python_marker(python) else []
    marker_text = " and ".join(f"({m})" for m in markers)
    text = f"{name}{extra_text}{specifier}" + (f"; {marker_text}" if marker_text else "")
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        doc.problem(line, f"invalid Poetry dependency {name}: {_first_line(exc)}")
        return
    if table.get("optional") is True and group is None:
        group = extras.get(canonicalize_name(name), "optional")
    doc.append(requirement, line, "poetry", group, development=is_development(group))


def poetry_specifier(constraint: str) -> Optional[SpecifierSet]:
    """A Poetry version constraint as a PEP 440 specifier set (None when it cannot be
    converted); `||` alternatives cannot be expressed and give no constraint."""
    if "||" in constraint or "|" in constraint:
        return SpecifierSet()
    parts: List[str] = []
    for clause in constraint.split(","):
        converted = _poetry_clause(clause.strip())
        if converted is None:
            return None
        parts += converted
    try:
        return SpecifierSet(",".join(parts))
    except InvalidSpecifier:
        return None


def _poetry_clause(clause: str) -> Optional[List[str]]:
    """One comma-free clause, which may still hold space-separated constraints."""
    tokens = clause.split()
    merged: List[str] = []
    for token in tokens:
        if merged and merged[-1] in ("<", "<=", ">", ">=", "==", "!=", "~=", "^", "~", "="):
            merged[-1] += token
        else:
            merged.append(token)
    result: List[str] = []
    for token in merged:
        converted = _poetry_token(token)
        if converted is None:
            return None
        result += converted
    return result


def _poetry_token(token: str) -> Optional[List[str]]:
    if token in ("*", ""):
        return []
    if token.startswith("^"):
        return _bounded(token[1:], caret=True)
    if token.startswith("~") and not token.startswith("~="):
        return _bounded(token[1:], caret=False)
    if token.startswith("=") and not token.startswith("=="):
        token = "=" + token
    if token[0].isdigit():
        return [f"=={token}"]
    return [token]


def _bounded(text: str, caret: bool) -> Optional[List[str]]:
    """`^1.8.2` -> >=1.8.2,<2.0.0; `^0.0.8` -> >=0.0.8,<0.0.9; `~1.2` -> >=1.2,<1.3."""
    try:
        release = list(Version(text).release)
    except InvalidVersion:
        return None
    given = len(text.split(".")) if text.replace(".", "").isdigit() else len(release)
    if caret:
        bump = next((i for i, part in enumerate(release[:given]) if part), given - 1)
    else:
        bump = 0 if given == 1 else 1
    bump = min(bump, given - 1)
    upper = release[:bump] + [release[bump] + 1] + [0] * (given - bump - 1)
    return [f">={text}", "<" + ".".join(str(part) for part in upper)]


def _python_marker(constraint: str) -> Optional[str]:
    specifier = poetry_specifier(constraint)
    if not specifier:
        return None
    return " and ".join(f"python_version {s.operator} '{s.version}'" for s in specifier)


def read_setup_cfg(path: Path, into: Collected) -> None:
    text = read_text(path, into)
    if text is None:
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        into.problems.append(DependencyProblem(path, getattr(exc, "lineno", 1) or 1,
                                               f"invalid setup.cfg: {_first_line(exc)}"))
        return
    lines = text.splitlines()
    if parser.has_option("metadata", "name"):
        into.project_names += (canonicalize_name(parser.get("metadata", "name")),)
    sections = [("options", "install_requires", None)]
    if parser.has_section("options.extras_require"):
        sections += [("options.extras_require", extra, extra)
                     for extra in parser.options("options.extras_require")]
    for section, option, group in sections:
        if parser.has_option(section, option):
            _setup_cfg_list(path, lines, section, parser.get(section, option), group, into)
    if parser.has_option("options", "python_requires"):
        value = parser.get("options", "python_requires").strip()
        line = _cfg_line(lines, "options", "python_requires")
        try:
            if into.requires_python is None:
                into.requires_python = RequiresPython(SpecifierSet(value), path, line,
                                                      "setup.cfg")
        except InvalidSpecifier as exc:
            into.problems.append(DependencyProblem(path, line, f"invalid python_requires "
                                                   f"{value!r}: {_first_line(exc)}"))


def _setup_cfg_list(path: Path, lines: List[str], section: str, value: str,
                    group: Optional[str], into: Collected) -> None:
    used: Set[int] = set()
    for entry in value.splitlines():
        entry = entry.split(" #")[0].strip()
        if not entry or entry.startswith("#"):
            continue
        line = _cfg_line(lines, section, entry, used)
        used.add(line)
        try:
            requirement = Requirement(entry)
        except InvalidRequirement as exc:
            into.problems.append(DependencyProblem(
                path, line, f"invalid requirement {masked(entry)!r}: {_first_line(exc)}"))
            continue
        into.requirements.append(DeclaredRequirement(
            canonicalize_name(requirement.name), requirement, path, line, "setup.cfg",
            group=group, development=is_development(group)))


def _cfg_line(lines: List[str], section: str, text: str,
              used: Optional[Set[int]] = None) -> int:
    """The first line (not yet used) in `[section]` that starts with `text`."""
    used = used or set()
    inside, header = False, 1
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.strip("[]").strip() == section
            header = number if inside else header
        elif inside and number not in used and stripped.startswith(text):
            return number
    return header
