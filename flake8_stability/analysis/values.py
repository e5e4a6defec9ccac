"""Follow a string expression to the text it holds: literals, module constants, f-string
prefixes, `os.getenv` defaults and settings-class defaults, also when the name is imported from
another module of the project (`from app.core.config import settings`). Unknown stays
unknown."""
from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, List, Optional, Tuple, TypeVar

from ..context import argument
from ..knowledge import names as N
from ..project.env_sources import setting_file

if TYPE_CHECKING:
    from ..context import ModuleContext

_MAX_DEPTH = 12
_LINE = re.compile(r"\(line (\d+)\)")
_VALIDATOR_DECORATORS = frozenset({"field_validator", "validator"})
_CLASS_VALIDATORS = frozenset({"model_validator", "root_validator"})
T = TypeVar("T")


@dataclass(frozen=True)
class StrValue:
    """Known text of a string: all of it (`complete`) or a prefix of it."""

    text: str
    complete: bool
    origin: str = ""  # where the text comes from when it is not written at the use site

    def with_origin(self, origin: str) -> "StrValue":
        return self if self.origin else replace(self, origin=origin)


class ValueResolver:
    def __init__(self, module: "ModuleContext") -> None:
        self.module = module
        self.classes = {
            b.node.name: b.node  # type: ignore[attr-defined]
            for found in module.scopes.bindings[module.tree].values()
            for b in found[-1:]
            if b.kind == "class"
        }

    # -- strings ---------------------------------------------------------------------------
    def string(self, expr: Optional[ast.AST], depth: int = 0) -> Optional[StrValue]:
        if expr is None or depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Constant):
            return StrValue(expr.value, True) if isinstance(expr.value, str) else None
        if isinstance(expr, ast.JoinedStr):
            return self._fstring(expr, depth)
        if isinstance(expr, ast.BinOp):
            return self._binop(expr, depth)
        if isinstance(expr, ast.Call):
            return self._call(expr, depth)
        if isinstance(expr, ast.Name):
            return self._name(expr, depth)
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, depth)
        return None

    def _fstring(self, expr: ast.JoinedStr, depth: int) -> StrValue:
        text = ""
        for part in expr.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                text += part.value
                continue
            inner = None
            if (isinstance(part, ast.FormattedValue) and part.conversion == -1
                    and part.format_spec is None):
                inner = self.string(part.value, depth + 1)
            if inner is None or not inner.complete:
                return StrValue(text + (inner.text if inner else ""), False)
            text += inner.text
        return StrValue(text, True)

    def _binop(self, expr: ast.BinOp, depth: int) -> Optional[StrValue]:
        left = self.string(expr.left, depth + 1)
        if left is None:
            return None
        if isinstance(expr.op, ast.Mod):
            head = left.text.split("%", 1)[0]
            if "%" in left.text or not left.complete:
                return StrValue(head, False, left.origin)
            return left
        if not isinstance(expr.op, ast.Add):
            return None
        if not left.complete:
            return left
        right = self.string(expr.right, depth + 1)
        if right is None:
            return StrValue(left.text, False, left.origin)
        return StrValue(left.text + right.text, right.complete, left.origin or right.origin)

    def _call(self, call: ast.Call, depth: int) -> Optional[StrValue]:
        name = self.module.call_name(call)
        default_arg = argument(call, 1, "default") if name == N.GETENV else None
        if default_arg is not None:
            default = self.string(default_arg, depth + 1)
            env = _literal(argument(call, 0, "key")) or "?"
            if default is None or self._set_in_env_file(str(env)):
                return None
            return default.with_origin(
                f"the default of os.getenv({env!r}), used when {env} is not set")
        if name in ("builtins.str",) or (isinstance(call.func, ast.Name) and call.func.id == "str"):
            return self.string(call.args[0], depth + 1) if len(call.args) == 1 else None
        if name == N.MAKE_URL and call.args:
            return self.string(call.args[0], depth + 1)
        if name == N.URL_CREATE:
            driver = call.args[0] if call.args else None
            for kw in call.keywords:
                if kw.arg == "drivername":
                    driver = kw.value
            value = self.string(driver, depth + 1)
            if value is None or not value.complete:
                return None
            return StrValue(value.text + "://", False, value.origin)
        if isinstance(call.func, ast.Attribute):
            return self._method(call, call.func, depth)
        return None

    def _method(self, call: ast.Call, func: ast.Attribute, depth: int) -> Optional[StrValue]:
        if func.attr in ("get_secret_value", "unicode_string") and not call.args:
            return self.string(func.value, depth + 1)
        if func.attr == "format":
            base = self.string(func.value, depth + 1)
            if base is None:
                return None
            head = base.text.split("{", 1)[0]
            if "{" not in base.text and base.complete:
                return base
            return StrValue(head, False, base.origin)
        if func.attr == "replace" and len(call.args) in (2, 3) and not call.keywords:
            base = self.string(func.value, depth + 1)
            old, new = (self.string(a, depth + 1) for a in call.args[:2])
            if base is None or old is None or new is None or not (old.complete and new.complete):
                return None
            count = _literal(call.args[2]) if len(call.args) == 3 else -1
            if not isinstance(count, int) or abs(count) > sys.maxsize:  # str.replace: ssize_t
                return None
            if base.complete or old.text in base.text:
                return replace(base, text=base.text.replace(old.text, new.text, count))
            return None
        return None

    def _name(self, expr: ast.Name, depth: int) -> Optional[StrValue]:
        imported = self._imported(expr)
        if imported is not None:
            other, name = imported
            return self._across(other, ast.Name(id=name, ctx=ast.Load()), depth)
        bindings = self.module.scopes.lookup(expr.id, expr)
        if not bindings or any(b.kind != "assign" or b.value is None for b in bindings):
            return None
        return agreed(self.string(b.value, depth + 1) for b in bindings)

    def _attribute(self, expr: ast.Attribute, depth: int) -> Optional[StrValue]:
        cls = self.instance_class(expr.value, depth + 1)
        if cls is not None:
            return self.class_attribute(cls, expr.attr, depth + 1)
        holder = expr.value.func if isinstance(expr.value, ast.Call) else expr.value
        imported = self._imported(holder)
        if imported is None or (isinstance(expr.value, ast.Call)
                                and (expr.value.args or expr.value.keywords)):
            return None
        other, name = imported
        there: ast.expr = ast.Name(id=name, ctx=ast.Load())
        if isinstance(expr.value, ast.Call):
            there = ast.Call(func=there, args=[], keywords=[])  # `get_settings().URL`
        return self._across(other, ast.Attribute(value=there, attr=expr.attr, ctx=ast.Load()),
                            depth)

    # -- across modules ------------------------------------------------------------------------
    def _imported(self, expr: ast.expr) -> Optional[Tuple["ModuleContext", str]]:
        """The project module and its top-level name that an imported name (`settings`, or
        `config.settings` after `from app.core import config`) stands for."""
        if self.module.module_name is None or not isinstance(expr, (ast.Name, ast.Attribute)):
            return None
        dotted = self.module.qualname(expr)
        module, _, attr = (dotted or "").rpartition(".")
        model = self.module.project.model
        info = model.project_module(module) if module else None
        if info is None or info.tree is None:
            return None
        other = model.context(info)
        return (other, attr) if other is not self.module else None

    def _across(self, other: "ModuleContext", expr: ast.expr, depth: int) -> Optional[StrValue]:
        """`expr` evaluated at the top level of `other`; line numbers in the value's origin
        are given with that file's path."""
        found = other.values.string(expr, depth + 1)
        if found is None or not found.origin:
            return found
        where = self._relative(other.path)
        origin = _LINE.sub(lambda m: f"({where}:{m.group(1)})", found.origin)
        return replace(found, origin=origin if origin != found.origin else
                       f"{found.origin} in {where}")

    def _relative(self, path: str) -> str:
        root = self.module.project.root
        try:
            return Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path

    # -- classes and settings ----------------------------------------------------------------
    def instance_class(self, expr: ast.AST, depth: int = 0) -> Optional[ast.ClassDef]:
        """The module's own class that `expr` is an instance of (or is), if it can be told."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            bindings = self.module.scopes.lookup(expr.id, expr)
            if len(bindings) == 1 and bindings[0].kind == "class":
                return bindings[0].node  # type: ignore[return-value]
            if expr.id == "self":
                func = self.module.scopes.enclosing_function(expr)
                owner = self.module.scopes.parent(func) if func else None
                return owner if isinstance(owner, ast.ClassDef) else None
            if len(bindings) == 1 and bindings[0].kind == "assign":
                value = bindings[0].value
                return self.instance_class(value, depth + 1) if value else None
            return None
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            target = self.classes.get(expr.func.id)
            if target is not None:
                return target
            return self._factory_result(expr.func, depth + 1)
        return None

    def _factory_result(self, func_name: ast.Name, depth: int) -> Optional[ast.ClassDef]:
        """`get_settings()` where `get_settings` returns `Settings()` on every path."""
        bindings = self.module.scopes.lookup(func_name.id, func_name)
        if len(bindings) != 1 or bindings[0].kind != "def":
            return None
        return agreed(self.instance_class(r, depth + 1) for r in returned_values(bindings[0].node))

    def is_settings_class(self, cls: ast.ClassDef, depth: int = 0) -> bool:
        for base in cls.bases:
            if self.module.qualname(base) in N.SETTINGS_BASES:
                return True
            if isinstance(base, ast.Name) and base.id in self.classes and depth < _MAX_DEPTH:
                if self.is_settings_class(self.classes[base.id], depth + 1):
                    return True
        return False

    def class_attribute(self, cls: ast.ClassDef, attr: str, depth: int) -> Optional[StrValue]:
        for klass in self._mro(cls):
            for stmt in klass.body:
                found = self._class_statement(klass, stmt, attr, depth)
                if found is not None:
                    return found[0]
        return None

    def field_annotation(self, cls: ast.ClassDef, attr: str) -> Optional[ast.expr]:
        """The declared type of field `attr` of `cls` or of its bases in this module; None when
        `attr` is not an annotated field or a validator may replace its value."""
        if self._has_validator(cls, attr):
            return None
        for klass in self._mro(cls):
            defining = [stmt for stmt in klass.body if _defines(stmt, attr)]
            if defining:
                last = defining[-1]
                return last.annotation if isinstance(last, ast.AnnAssign) else None
        return None

    def _class_statement(self, cls: ast.ClassDef, stmt: ast.stmt, attr: str,
                         depth: int) -> Optional[List[Optional[StrValue]]]:
        """[value] when `stmt` defines `attr` (value None when unknown); None when it does not."""
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and stmt.target.id == attr):
            return [self._field_default(cls, attr, stmt.value, stmt.lineno, depth)]
        if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == attr for t in stmt.targets):
            return [self._field_default(cls, attr, stmt.value, stmt.lineno, depth)]
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == attr:
            decorators = {_decorator_name(d) for d in stmt.decorator_list}
            if not decorators & {"property", "computed_field", "cached_property"}:
                return [None]
            values = {self.string(r, depth + 1) for r in returned_values(stmt)}
            value = values.pop() if len(values) == 1 else None
            return [value.with_origin(f"{cls.name}.{attr} (line {stmt.lineno})") if value else None]
        return None

    def _field_default(self, cls: ast.ClassDef, attr: str, value: Optional[ast.expr], line: int,
                       depth: int) -> Optional[StrValue]:
        if value is None or self._has_validator(cls, attr):
            return None
        if isinstance(value, ast.Call) and _callee_name(value) == "Field":
            value = _field_default_expr(value)
        found = self.string(value, depth + 1)
        if found is None:
            return None
        if self.is_settings_class(cls):
            env = self._env_name(cls, attr)
            if self._set_in_env_file(env):
                return None
            return found.with_origin(
                f"the default of {cls.name}.{attr} (line {line}), used when {env} is not set")
        return found.with_origin(f"{cls.name}.{attr} (line {line})")

    def _set_in_env_file(self, variable: str) -> bool:
        """Whether a `.env` file of the project sets `variable`: then a default in the code is
        not the value the app sees."""
        return setting_file(self.module.project.env_files, variable) is not None

    def _env_name(self, cls: ast.ClassDef, attr: str) -> str:
        prefix = ""
        for stmt in cls.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                    for kw in stmt.value.keywords:
                        if kw.arg == "env_prefix" and isinstance(_literal(kw.value), str):
                            prefix = str(_literal(kw.value))
        return (prefix + attr).upper()

    def _has_validator(self, cls: ast.ClassDef, attr: str) -> bool:
        for klass in self._mro(cls):
            for stmt in klass.body:
                if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for dec in stmt.decorator_list:
                    name = _decorator_name(dec)
                    if name in _CLASS_VALIDATORS:
                        return True
                    if name in _VALIDATOR_DECORATORS and isinstance(dec, ast.Call):
                        fields = [_literal(a) for a in dec.args]
                        if attr in fields or "*" in fields:
                            return True
        return False

    def _mro(self, cls: ast.ClassDef) -> Iterator[ast.ClassDef]:
        seen = set()
        pending = [cls]
        while pending:
            klass = pending.pop(0)
            if klass.name in seen:
                continue
            seen.add(klass.name)
            yield klass
            pending.extend(self.classes[b.id] for b in klass.bases
                           if isinstance(b, ast.Name) and b.id in self.classes)


def agreed(values: Iterable[Optional[T]]) -> Optional[T]:
    """The one value all `values` share, else None. Lazy: it stops at the first unknown or
    disagreeing value, which keeps resolving recursive functions and rebound names linear."""
    found: Optional[T] = None
    for value in values:
        if value is None or (found is not None and value != found):
            return None
        found = value
    return found


_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def own_nodes(func: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function's body, not those of the functions and classes it defines."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, _NESTED):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def returned_values(func: ast.AST) -> List[ast.expr]:
    """Expressions a function returns (not those of nested functions); [] if any return is bare."""
    found: List[ast.expr] = []
    for node in own_nodes(func):
        if isinstance(node, ast.Return):
            if node.value is None:
                return []
            found.append(node.value)
    return found


def _defines(stmt: ast.stmt, attr: str) -> bool:
    if isinstance(stmt, ast.AnnAssign):
        return isinstance(stmt.target, ast.Name) and stmt.target.id == attr
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == attr for t in stmt.targets)
    return isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == attr


def _field_default_expr(call: ast.Call) -> Optional[ast.expr]:
    for kw in call.keywords:
        if kw.arg == "default":
            return kw.value
    first = call.args[0] if call.args else None
    if first is not None and not (isinstance(first, ast.Constant) and first.value is Ellipsis):
        return first
    return None


def _callee_name(call: ast.Call) -> Optional[str]:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _decorator_name(dec: ast.expr) -> Optional[str]:
    target = dec.func if isinstance(dec, ast.Call) else dec
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def _literal(expr: Optional[ast.AST]) -> object:
    if expr is None:
        return None
    try:
        return ast.literal_eval(expr)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None
