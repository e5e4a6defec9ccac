"""pydantic-settings classes as the settings sources see them: each field's environment
names (`env_prefix`, `alias`/`validation_alias`, `AliasChoices`), whether it is required and
complex (decoded from JSON), the class configuration (`model_config` or a v1 `class Config`,
through the file's own bases), and where the project creates an instance while it boots.
Anything not written literally is unknown, and callers stay silent on it."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Tuple

from ..findings import Severity
from ..project.reach import loaded_at_boot
from . import models as M
from .lifecycle import Reach
from .paths import file_path
from .pydantic_classes import pydantic_classes

if TYPE_CHECKING:
    from ..context import ModuleContext
    from ..project.model import ProjectModel

_FIELD = frozenset({"pydantic.Field", "pydantic.fields.Field"})
_ALIAS_CHOICES = frozenset({"pydantic.AliasChoices", "pydantic.aliases.AliasChoices"})
_CONFIG_CALLS = frozenset({"pydantic_settings.SettingsConfigDict", "pydantic.ConfigDict",
                           "builtins.dict"})
_COMPLEX = frozenset({"builtins.list", "builtins.dict", "builtins.set", "builtins.frozenset",
                      "builtins.tuple", "typing.List", "typing.Dict", "typing.Set",
                      "typing.FrozenSet", "typing.Tuple", "typing.Sequence", "typing.Mapping"})
# Options that make the sources other than the plain environment and `.env` files.
_OPAQUE_OPTIONS = frozenset({"secrets_dir", "json_file", "yaml_file", "toml_file",
                             "pyproject_toml_table_header", "cli_parse_args"})
# Options the checks read: when one is not written literally, the class is not judged.
_READ_OPTIONS = ("model_config", "env_prefix", "case_sensitive", "env_nested_delimiter", "extra",
                 "env_file_depth", "dotenv_filtering", "enable_decoding", "env_ignore_empty")


class Unknown:
    """A configuration value that is not written literally."""


UNKNOWN = Unknown()


@dataclass(frozen=True)
class SettingsField:
    """`env_names`: the variables the field is read from (None when not known); `legacy_env`:
    a pydantic-1 binding (`Field(env=...)`, `class Config: fields`), node and name."""

    name: str
    stmt: ast.stmt
    required: bool
    env_names: Optional[Tuple[str, ...]]
    complex: bool
    legacy_env: Optional[Tuple[ast.AST, str]] = None
    alias: Optional[str] = None  # the name pydantic's errors give the field, when aliased


@dataclass(frozen=True)
class SettingsClass:
    module: "ModuleContext"
    node: ast.ClassDef
    fields: Tuple[SettingsField, ...]
    options: Dict[str, object]  # literal option values, UNKNOWN for others
    config_stmt: Optional[ast.stmt]  # the statement that configures the class, if any
    opaque: bool  # custom or extra sources, or a configuration that cannot be read

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def case_sensitive(self) -> bool:
        return self.options.get("case_sensitive") is True

    @property
    def prefix(self) -> object:
        return self.options.get("env_prefix", "")

    def normal(self, key: str) -> str:
        return key if self.case_sensitive else key.lower()

    def shown(self, names: Optional[Tuple[str, ...]]) -> str:
        """Variable names as a user sets them (upper case unless case-sensitive)."""
        return " or ".join(name if self.case_sensitive else name.upper() for name in names or ())

    def env_file_expr(self) -> Optional[ast.expr]:
        found = self.options.get("env_file")
        return found if isinstance(found, ast.expr) else None

    def env_files(self, working_dir: Path) -> Optional[Tuple[Path, ...]]:
        """The `.env` files the class reads, in order (later ones win); None when unknown."""
        if "env_file" not in self.options:
            return ()
        expr = self.env_file_expr()
        if expr is None or self.options.get("env_file_depth", 0) not in (0, None):
            return None
        if isinstance(expr, ast.Constant) and expr.value is None:
            return ()
        items = expr.elts if isinstance(expr, (ast.Tuple, ast.List)) else [expr]
        paths = [file_path(self.module, item) for item in items]
        if any(path is None for path in paths):
            return None
        return tuple(found.path if found.anchored else working_dir / found.path
                     for found in paths if found is not None)


@dataclass(frozen=True)
class Instance:
    """A call creating the settings object, and how it is reached at boot."""

    settings: SettingsClass
    module: "ModuleContext"
    call: ast.Call
    reach: Reach
    severity: Severity  # BLOCKING when the module is loaded at boot, else WARNING


@lru_cache(maxsize=256)
def settings_classes(module: "ModuleContext") -> Tuple[SettingsClass, ...]:
    """The module's settings classes whose bases are all understood."""
    found = []
    for described in pydantic_classes(module):
        if not described.settings or not described.complete:
            continue
        model = module.models.model(described.node)
        if model is not None:
            found.append(_describe(module, model))
    return tuple(found)


@lru_cache(maxsize=8)
def instances(model: "ProjectModel") -> Tuple[Instance, ...]:
    """Every argument-less `Settings()` call of the project that runs at import or startup
    (also inside `get_settings()` when that is called at import)."""
    boot = loaded_at_boot(model)
    names = _class_names(model)
    found = []
    for info in model:
        if info.tree is None or not any(name in (info.source.text or "") for name in names):
            continue
        module = model.context(info)
        for call in module.calls:
            settings = None if call.args or call.keywords else _called_class(module, call)
            reach = module.lifecycle.reach(call) if settings else None
            if settings is not None and reach is not None and reach.at_boot:
                loaded = boot is not None and info.name in boot
                found.append(Instance(settings, module, call, reach,
                                      Severity.BLOCKING if loaded else Severity.WARNING))
    return tuple(found)


def _class_names(model: "ProjectModel") -> FrozenSet[str]:
    """The names of the project's settings classes (each module defining one mentions
    `BaseSettings`: only classes whose bases are all understood are judged)."""
    return frozenset(cls.name for info in model
                     if info.tree is not None and "BaseSettings" in (info.source.text or "")
                     for cls in settings_classes(model.context(info)))


def by_class(model: "ProjectModel") -> Dict[Tuple[str, int], List[Instance]]:
    """The boot-time instances grouped by class (file, line), most severe first."""
    grouped: Dict[Tuple[str, int], List[Instance]] = {}
    for instance in instances(model):
        key = (instance.settings.module.path, instance.settings.node.lineno)
        grouped.setdefault(key, []).append(instance)
    for found in grouped.values():
        found.sort(key=lambda instance: instance.severity is not Severity.BLOCKING)
    return grouped


def _called_class(module: "ModuleContext", call: ast.Call) -> Optional[SettingsClass]:
    """The settings class `call` instantiates: one of this file, or one imported from another
    module of the project."""
    func = call.func
    if isinstance(func, ast.Name):
        bindings = module.scopes.lookup(func.id, call)
        if len(bindings) == 1 and bindings[0].kind == "class":
            return _class_named(module, func.id)
    dotted = module.qualname(func)
    owner, _, name = (dotted or "").rpartition(".")
    info = module.project.model.project_module(owner) if owner else None
    if info is None or info.tree is None or module.is_file(str(info.path)):
        return None
    return _class_named(module.project.model.context(info), name)


def _class_named(module: "ModuleContext", name: str) -> Optional[SettingsClass]:
    return next((found for found in settings_classes(module) if found.name == name), None)


# -- description -------------------------------------------------------------------------------


def _describe(module: "ModuleContext", model: M.ModelClass) -> SettingsClass:
    chain = (*reversed(model.ancestors), model.node)
    options: Dict[str, object] = {}
    config_stmt: Optional[ast.stmt] = None
    opaque = False
    legacy: Dict[str, Tuple[ast.AST, str]] = {}
    for klass in chain:
        for stmt in klass.body:
            read = _config_options(module, stmt)
            if read is not None:
                options.update(read)
                opaque = opaque or any(read.get(key, None) is UNKNOWN for key in _READ_OPTIONS)
                config_stmt = stmt if klass is model.node else config_stmt
                legacy.update(_config_fields(stmt))
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and _supplies_values(stmt):
                opaque = True
    opaque = opaque or any(option in options for option in _OPAQUE_OPTIONS)
    prefix = options.get("env_prefix", "")
    fields = tuple(_field(module, field, prefix, legacy.get(field.name))
                   for field in module.models.fields(model).values()
                   if _is_field(module, field))
    return SettingsClass(module, model.node, fields, options, config_stmt, opaque)


def _supplies_values(func: ast.AST) -> bool:
    """Custom sources, an `__init__`, or a model validator: values may come from elsewhere."""
    name = getattr(func, "name", "")
    decorators = {_decorator(d) for d in getattr(func, "decorator_list", ())}
    return name in ("settings_customise_sources", "__init__") \
        or bool(decorators & {"model_validator", "root_validator"})


def _decorator(expr: ast.expr) -> str:
    target = expr.func if isinstance(expr, ast.Call) else expr
    return target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")


def _config_options(module: "ModuleContext", stmt: ast.stmt) -> Optional[Dict[str, object]]:
    """Options set by `model_config = SettingsConfigDict(...)` or a v1 `class Config`; None
    when `stmt` configures nothing. `env_file` keeps its expression."""
    if isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
        found: Dict[str, object] = {}
        for inner in stmt.body:
            if isinstance(inner, ast.Assign) and len(inner.targets) == 1 \
                    and isinstance(inner.targets[0], ast.Name):
                found[inner.targets[0].id] = _option(inner.targets[0].id, inner.value)
        return found
    targets = stmt.targets if isinstance(stmt, ast.Assign) else (
        [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
    if not any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
        return None
    value = stmt.value  # type: ignore[union-attr]
    if isinstance(value, ast.Call) and _config_call(module, value) and not value.args \
            and all(kw.arg for kw in value.keywords):
        return {kw.arg: _option(kw.arg, kw.value) for kw in value.keywords if kw.arg}
    if isinstance(value, ast.Dict) and all(isinstance(k, ast.Constant) for k in value.keys):
        return {k.value: _option(k.value, v)  # type: ignore[union-attr]
                for k, v in zip(value.keys, value.values)}
    return {"model_config": UNKNOWN}


def _config_call(module: "ModuleContext", call: ast.Call) -> bool:
    if isinstance(call.func, ast.Name) and call.func.id == "dict":
        return not module.scopes.lookup("dict", call)
    return module.call_name(call) in _CONFIG_CALLS


def _option(name: str, value: ast.expr) -> object:
    if name in ("env_file", "fields"):
        return value
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return UNKNOWN


def _config_fields(stmt: ast.stmt) -> Dict[str, Tuple[ast.AST, str]]:
    """v1 `class Config: fields = {"api_url": {"env": "API"}}` bindings."""
    found: Dict[str, Tuple[ast.AST, str]] = {}
    if not isinstance(stmt, ast.ClassDef):
        return found
    for inner in stmt.body:
        if isinstance(inner, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "fields" for t in inner.targets) \
                and isinstance(inner.value, ast.Dict):
            for key, value in zip(inner.value.keys, inner.value.values):
                env = _dict_env(value)
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and env:
                    found[key.value] = (value, env)
    return found


def _dict_env(value: ast.expr) -> Optional[str]:
    if isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values):
            if isinstance(key, ast.Constant) and key.value == "env" \
                    and isinstance(item, ast.Constant) and isinstance(item.value, str):
                return item.value
    return None


def _is_field(module: "ModuleContext", field: M.ModelField) -> bool:
    return (isinstance(field.stmt, ast.AnnAssign) and not field.name.startswith("_")
            and field.name != "model_config"
            and not module.models.is_classvar(field.annotation, field.owner))


def _field(module: "ModuleContext", field: M.ModelField, prefix: object,
           legacy: Optional[Tuple[ast.AST, str]]) -> SettingsField:
    call = field.value if isinstance(field.value, ast.Call) \
        and module.call_name(field.value) in _FIELD else None
    required = field.value is None or (call is not None and _field_required(call))
    names = _aliases(module, call) if call is not None else ()
    alias = names[0] if names else None
    if names == () and isinstance(prefix, str):
        names = (prefix + field.name,)
    elif names == ():
        names = None
    env = _keyword(call, "env") if call is not None else None
    if env is not None and isinstance(env, ast.Constant) and isinstance(env.value, str):
        legacy = (env, env.value)
    return SettingsField(field.name, field.stmt, required, names,
                         _is_complex(module, field), legacy, alias)


def _field_required(call: ast.Call) -> bool:
    if _keyword(call, "default") is not None or _keyword(call, "default_factory") is not None:
        return False
    first = call.args[0] if call.args else None
    return first is None or (isinstance(first, ast.Constant) and first.value is Ellipsis)


def _aliases(module: "ModuleContext", call: ast.Call) -> Optional[Tuple[str, ...]]:
    """The names `validation_alias` (else `alias`) gives; () without one; None when unknown."""
    alias = _keyword(call, "validation_alias") or _keyword(call, "alias")
    if alias is None:
        return ()
    if isinstance(alias, ast.Constant) and isinstance(alias.value, str):
        return (alias.value,)
    if isinstance(alias, ast.Call) and module.call_name(alias) in _ALIAS_CHOICES \
            and not alias.keywords and all(isinstance(a, ast.Constant)
                                           and isinstance(a.value, str) for a in alias.args):
        return tuple(a.value for a in alias.args)  # type: ignore[attr-defined]
    return None


def _is_complex(module: "ModuleContext", field: M.ModelField) -> bool:
    """A list, dict, set, tuple or model field, decoded from JSON (not with `NoDecode`)."""
    if field.annotation is None or _optional(module, field.annotation, field.owner):
        return False
    kind, metadata = module.models.unwrap(field.annotation, field.owner)
    if kind is None or any(_names(item) & {"NoDecode"} for item in metadata):
        return False
    head = kind.value if isinstance(kind, ast.Subscript) else kind
    if module.models.type_name(head, field.owner) in _COMPLEX:
        return True
    cls = module.models.in_file_class(head, field.owner)
    model = module.models.model(cls) if cls is not None else None
    return model is not None and model.kind == M.PYDANTIC \
        and not module.values.is_settings_class(cls)  # type: ignore[arg-type]


def _optional(module: "ModuleContext", annotation: ast.expr, at: ast.AST) -> bool:
    """A union (`Optional[...]`, `X | None`): pydantic-settings then keeps an undecodable value
    as text and the failure, if any, is a plain validation error."""
    current = M.parse_string_annotation(annotation) or annotation
    while isinstance(current, ast.Subscript) and module.models.is_typing(
            current.value, at, "Annotated"):
        current = M.subscript_elements(current)[0]
    if isinstance(current, ast.BinOp):
        return True
    return isinstance(current, ast.Subscript) and any(
        module.models.is_typing(current.value, at, name) for name in ("Optional", "Union"))


def _names(expr: ast.expr) -> FrozenSet[str]:
    return frozenset(node.id if isinstance(node, ast.Name) else node.attr
                     for node in ast.walk(expr) if isinstance(node, (ast.Name, ast.Attribute)))


def _keyword(call: Optional[ast.Call], name: str) -> Optional[ast.expr]:
    for kw in call.keywords if call is not None else ():
        if kw.arg == name:
            return kw.value
    return None


def legacy_binding_misread(cls: SettingsClass, field: SettingsField) -> bool:
    """A pydantic-1 env binding pydantic-settings 2 ignores, on a field without a default,
    whose ignored name differs from the one the field is really read from."""
    if field.legacy_env is None or not field.required or field.env_names is None:
        return False
    wanted = cls.normal(field.legacy_env[1])
    return all(cls.normal(name) != wanted for name in field.env_names)


def class_options(module: "ModuleContext", cls: ast.ClassDef) -> Optional[SettingsClass]:
    """The description of one settings class of `module`, if it is one whose bases are known."""
    return next((found for found in settings_classes(module) if found.node is cls), None)
