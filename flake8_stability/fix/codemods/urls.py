"""Database URL codemods: `async-driver-url` (SBA302) and `postgres-scheme` (SBA303) rewrite the
scheme of the URL literal an engine gets, to the scheme the finding's fix data names; `str-dsn`
(SBA313) wraps a pydantic URL object in `str(...)` where SQLAlchemy receives it.

A URL is rewritten only where this file writes it: a literal in the engine call, or a module
constant of this file assigned a literal or an `os.getenv`/`os.environ.get` default literal (and
read nowhere else in the file: another engine may need the old scheme). A URL from settings, the
environment or another module is left alone, with the reason."""
from __future__ import annotations

import re
from typing import Callable, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper

from ..codemod import Codemod, Outcome, Target, node_at
from .common import Replacements, argument, dotted, fix_data, no_fix_data, string_literal

_SCHEME = re.compile(r"^(?P<dialect>[A-Za-z][A-Za-z0-9_]*)(?:\+(?P<driver>[A-Za-z0-9_]+))?://")
_GETENV = frozenset({"os.getenv", "getenv", "os.environ.get", "environ.get"})
_ENGINES = frozenset({"create_engine", "create_async_engine", "make_url"})

Accept = Callable[[str, str], str]  # (current scheme, new scheme) -> why not, '' when fine


def _scheme_of(text: str) -> Optional[str]:
    match = _SCHEME.match(text)
    return match.group(0)[:-3] if match else None


def _body_start(value: str) -> int:
    """Where a string token's text starts, after its prefix and opening quote(s)."""
    start = len(value) - len(value.lstrip("rRbBuUfF"))
    return start + (3 if value[start:start + 3] in ('"""', "'''") else 1)


def _rescheme(node: cst.BaseExpression, scheme: str) -> Tuple[Optional[cst.BaseExpression], str]:
    """The literal with its URL scheme replaced by `scheme`, and the scheme it had."""
    if isinstance(node, cst.ConcatenatedString):
        left, old = _rescheme(node.left, scheme)
        fixed = isinstance(left, (cst.SimpleString, cst.FormattedString))
        return (node.with_changes(left=left) if fixed else None), old
    if isinstance(node, cst.SimpleString):
        start = _body_start(node.value)
        old = _scheme_of(node.value[start:]) or ""
        new = node.value[:start] + scheme + node.value[start + len(old):]
        return (node.with_changes(value=new) if old else None), old
    if isinstance(node, cst.FormattedString) and node.parts and isinstance(
            node.parts[0], cst.FormattedStringText):
        first = node.parts[0]
        old = _scheme_of(first.value) or ""
        if not old:
            return None, ""
        text = first.with_changes(value=scheme + first.value[len(old):])
        return node.with_changes(parts=[text, *node.parts[1:]]), old
    return None, ""


def _url_argument(call: cst.Call) -> Optional[cst.BaseExpression]:
    """The URL an engine call gets; through `AsyncEngine(create_engine(url))`."""
    arg = argument(call, 0, "url", "name_or_url")
    if arg is None:
        return None
    inner = arg.value
    if isinstance(inner, cst.Call) and dotted(inner.func).rpartition(".")[2] in _ENGINES:
        return _url_argument(inner)
    return inner


class _Module:
    """The file's top-level assignments and name uses, to follow a URL constant."""

    def __init__(self, module: cst.Module) -> None:
        self.assigned: dict = {}  # name -> [value of each top-level `name = value`]
        self.uses: dict = {}  # name -> number of Name nodes spelled so, anywhere
        for statement in module.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self._record(small)
        uses = self.uses

        class Count(cst.CSTVisitor):
            def visit_Name(self, node: cst.Name) -> None:
                uses[node.value] = uses.get(node.value, 0) + 1

        module.visit(Count())

    def _record(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, cst.Assign):
            for target in small.targets:
                if isinstance(target.target, cst.Name):
                    self.assigned.setdefault(target.target.value, []).append(small.value)
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            self.assigned.setdefault(small.target.value, []).append(small.value)

    def constant(self, name: str) -> Tuple[Optional[cst.BaseExpression], str]:
        """The literal behind a module constant `name` (its assigned value or getenv default)."""
        values = self.assigned.get(name, [])
        if len(values) != 1 or values[0] is None:
            return None, f"{name} is not assigned exactly once at the top level of this file"
        if self.uses.get(name, 0) != 2:
            return None, (f"{name} is also read elsewhere in this file; changing it would change "
                          f"those uses too")
        value = values[0]
        if string_literal(value):
            return value, ""
        if isinstance(value, cst.Call) and dotted(value.func) in _GETENV:
            default = argument(value, 1, "default")
            if default is not None and string_literal(default.value):
                return default.value, ""
        return None, f"{name} is not a string literal or an os.getenv default in this file"


class _SchemeCodemod(Codemod):
    """Replaces the scheme of the URL literal behind the target's engine call."""

    def accept(self, old: str, new: str) -> str:
        raise NotImplementedError

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        module = _Module(wrapper.module)
        replacements = Replacements()
        for target in targets:
            literal, scheme, why = self._literal(wrapper, module, target)
            new, old = _rescheme(literal, scheme) if literal is not None else (None, "")
            why = why or (self.accept(old, scheme) if new is not None else
                          "the URL literal does not start with a scheme")
            if why:
                outcome.skipped.append((target, why))
                continue
            replacements.add(literal, new)
            outcome.fixed.append(target)
        outcome.module = replacements.apply(wrapper.module)
        return outcome

    def _literal(self, wrapper: MetadataWrapper, module: _Module,
                 target: Target) -> Tuple[Optional[cst.BaseExpression], str, str]:
        """(the literal to change, the new scheme, why not)."""
        wanted = fix_data(target, "scheme")
        if wanted is None:
            return None, "", no_fix_data("scheme")
        scheme = wanted["scheme"]
        call = node_at(wrapper, target, cst.Call)
        url = _url_argument(call) if isinstance(call, cst.Call) else None
        if url is None:
            return None, "", f"no engine call with a URL at line {target.line}"
        if string_literal(url):
            return url, scheme, ""
        if isinstance(url, cst.Name):
            literal, why = module.constant(url.value)
            return literal, scheme, why
        code = wrapper.module.code_for_node(url)
        return None, "", (f"the URL comes from `{code}`, not from a literal in this file: "
                          f"change it where it is set")


class AsyncDriverURL(_SchemeCodemod):
    """Safe: only the scheme of the URL changes, to the async driver the finding names; the
    driver must be installed (SBA204 says when it is not)."""

    name = "async-driver-url"
    codes = ("SBA302",)
    safe = True
    summary = ("names the async driver in the engine's URL literal (`sqlite://` -> "
               "`sqlite+aiosqlite://`, `postgresql://` -> `postgresql+asyncpg://`)")

    def accept(self, old: str, new: str) -> str:
        if old == new:
            return f"the URL already uses {new}://"
        if old.split("+")[0].lower() != new.split("+")[0]:
            return f"the URL's scheme {old}:// is not the {new.split('+')[0]} dialect"
        return ""


class PostgresScheme(_SchemeCodemod):
    """Safe: `postgres://` becomes the scheme the finding names (`postgresql://`, or
    `postgresql+asyncpg://` for an async engine); the rest of the URL is kept."""

    name = "postgres-scheme"
    codes = ("SBA303",)
    safe = True
    summary = ("replaces the removed `postgres://` scheme of a URL literal by "
               "`postgresql[+driver]://`")

    def accept(self, old: str, new: str) -> str:
        if old.split("+")[0].lower() != "postgres":
            return f"the URL's scheme is {old}://, not postgres://"
        if not new.startswith("postgresql"):
            return f"the finding's fix names {new}://, not a postgresql scheme"
        return ""


class StrDsn(Codemod):
    """Safe: `str()` of a pydantic URL is the URL text the settings validated."""

    name = "str-dsn"
    codes = ("SBA313",)
    safe = True
    summary = "wraps the pydantic URL object an engine gets in `str(...)`"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        replacements = Replacements()
        shadowed = _binds_str(wrapper.module)
        for target in targets:
            call = node_at(wrapper, target, cst.Call)
            arg = argument(call, 0, "url", "name_or_url") if isinstance(call, cst.Call) else None
            why = _why_not_wrap(arg, shadowed, target)
            if why or arg is None:
                outcome.skipped.append((target, why))
                continue
            wrapped = cst.Call(cst.Name("str"), [cst.Arg(arg.value)])
            replacements.add(arg, arg.with_changes(value=wrapped))
            outcome.fixed.append(target)
        outcome.module = replacements.apply(wrapper.module)
        return outcome


def _why_not_wrap(arg: Optional[cst.Arg], shadowed: bool, target: Target) -> str:
    if arg is None:
        return f"no engine call with a URL argument at line {target.line}"
    value = arg.value
    if isinstance(value, cst.Call) and dotted(value.func) == "str":
        return "the URL is already converted with str()"
    if shadowed:
        return "this file binds the name `str` to something else"
    return ""


def _binds_str(module: cst.Module) -> bool:
    """Whether the file assigns, imports, defines or takes a parameter named `str`."""
    found: List[bool] = []

    class Find(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            found.extend(isinstance(n, cst.Name) and n.value == "str" for n in [node.target])

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            bound = node.asname.name if node.asname else node.name
            found.append(isinstance(bound, cst.Name) and bound.value == "str")

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            found.append(node.name.value == "str")

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            found.append(node.name.value == "str")

        def visit_Param(self, node: cst.Param) -> None:
            found.append(node.name.value == "str")

    module.visit(Find())
    return any(found)
