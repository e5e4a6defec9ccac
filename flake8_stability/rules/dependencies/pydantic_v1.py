"""Pydantic 1 idioms in code that runs on an installed pydantic 2: SBA211."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Tuple

from packaging.version import Version

from ...analysis import models as M
from ...analysis.import_guards import import_guard
from ...analysis.pydantic_classes import PydanticClass, pydantic_classes, uses_class_method
from ...analysis.settings_classes import class_options, legacy_binding_misread
from ...context import ModuleContext, keyword
from ...findings import Category, Finding, Severity
from ..base import Invalid, Rule, Valid

_V2 = Version("2")
_VALIDATE_BY_NAME_SINCE = Version("2.11")  # allow_population_by_field_name's new name from here
_FIELD = frozenset({"pydantic.Field", "pydantic.fields.Field"})
_ROOT_VALIDATOR = frozenset({"pydantic.root_validator", "pydantic.class_validators.root_validator",
                             "pydantic.deprecated.class_validators.root_validator"})
_FROM_ATTRIBUTES_USERS = ("from_orm", "model_validate")

# Field() keywords pydantic 2 rejects (the call raises PydanticUserError), with the replacement.
_REMOVED_FIELD_KEYWORDS: Dict[str, Tuple[str, str]] = {
    "regex": ("`regex` is removed. use `pattern` instead", "pattern="),
    "const": ("`const` is removed, use `Literal` instead", "a Literal[...] annotation"),
    "unique_items": ("`unique_items` is removed, use `Set` instead", "a Set[...] annotation"),
}
# Field() keywords pydantic 2 still maps, with a deprecation warning.
_DEPRECATED_FIELD_KEYWORDS = {"min_items": "min_length=", "max_items": "max_length=",
                              "allow_mutation": "frozen="}
# con*() keywords that no longer exist: TypeError, or PydanticUserError for conlist(unique_items).
_CONSTRAINED: Dict[str, Dict[str, str]] = {
    "pydantic.constr": {"regex": "pattern="},
    "pydantic.conlist": {"min_items": "min_length=", "max_items": "max_length=",
                         "unique_items": "a Set[...] type"},
    "pydantic.conset": {"min_items": "min_length=", "max_items": "max_length="},
    "pydantic.confrozenset": {"min_items": "min_length=", "max_items": "max_length="},
}
# `class Config` keys pydantic 2 drops (it only warns): pydantic 2.14.4's V2_REMOVED_KEYS and
# V2_RENAMED_KEYS (json_encoders was removed in 2.0 and is accepted again later: not judged).
_REMOVED_CONFIG_KEYS = frozenset({
    "allow_mutation", "error_msg_templates", "fields", "getter_dict", "smart_union",
    "underscore_attrs_are_private", "json_loads", "json_dumps", "copy_on_model_validation",
    "post_init_call"})
_RENAMED_CONFIG_KEYS = {
    "allow_population_by_field_name": "validate_by_name", "anystr_lower": "str_to_lower",
    "anystr_strip_whitespace": "str_strip_whitespace", "anystr_upper": "str_to_upper",
    "keep_untouched": "ignored_types", "max_anystr_length": "str_max_length",
    "min_anystr_length": "str_min_length", "orm_mode": "from_attributes",
    "schema_extra": "json_schema_extra", "validate_all": "validate_default"}


@dataclass(frozen=True)
class _Idiom:
    node: ast.AST
    message: str
    root_cause: str
    fix: str
    severity: Severity
    at_import: bool = False  # blocking only where it runs while the module is imported
    runs_as: Optional[ast.AST] = None  # the statement that runs it, when not `node` itself


def _literal(node: Optional[ast.expr], depth: int = 0) -> bool:
    """A value pydantic would take as a field default: a literal, or a display of literals."""
    if node is None or depth > 8:
        return False
    if isinstance(node, (ast.Constant, ast.JoinedStr)):
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_literal(element, depth + 1) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(_literal(part, depth + 1) for part in (*node.keys, *node.values)
                   if part is not None)
    if isinstance(node, ast.UnaryOp):
        return _literal(node.operand, depth + 1)
    if isinstance(node, ast.BinOp):
        return _literal(node.left, depth + 1) and _literal(node.right, depth + 1)
    return False


def _shown(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


class PydanticV1IdiomOnV2(Rule):
    code = "SBA211"
    name = "pydantic-v1-idiom-on-v2"
    severity = Severity.BLOCKING
    category = Category.DEPENDENCIES
    versions = "pydantic >= 2.0 (and pydantic-settings 2 for `Field(env=...)`)."
    summary = "a pydantic 1 idiom that fails or is ignored on the installed pydantic 2"
    references = ("D15", "D16", "D17", "D18")
    codemod = "pydantic-v2-idioms"
    what = ("Pydantic 1 spellings in code that runs on pydantic >= 2: `Field(regex=)`, "
            "`Field(const=)`, `Field(unique_items=)`, `constr(regex=)`, `conlist(min_items=)`; a "
            "bare `@root_validator` (no `skip_on_failure=True`); non-annotated attributes and "
            "`__root__` in models; `class Config` next to `model_config`; `class Config` keys "
            "pydantic 2 renamed or removed (`orm_mode`, `allow_mutation`, `fields`, ...); "
            "`Field(env=)` in settings; the deprecated `Field(min_items=, max_items=, "
            "allow_mutation=)`. Classes of `pydantic.v1` are pydantic 1 models on purpose and "
            "are not judged; nor is sqlmodel's own `Field(regex=...)` (a sqlmodel parameter). "
            "Deprecated imports (`validator`, `root_validator`, `parse_obj_as`) are SBA103's.")
    why = ("Each idiom gets the severity its failure has on the installed pydantic (verified with "
           "2.14.4). At class creation or at the call, so at import: `pydantic.errors."
           "PydanticUserError: `regex` is removed. use `pattern` instead` (also `const`, "
           "`unique_items`), `TypeError: constr() got an unexpected keyword argument 'regex'`, "
           "`PydanticUserError: If you use `@root_validator` with pre=False (the default) you "
           "MUST specify `skip_on_failure=True`.`, `PydanticUserError: A non-annotated attribute "
           "was detected: `PROJECT_NAME = 'api'`.`, `PydanticUserError: \"Config\" and "
           "\"model_config\" cannot be used together`. Only a warning, then wrong behaviour: "
           "`UserWarning: Valid config keys have changed in V2: * 'orm_mode' has been renamed to "
           "'from_attributes'` (the key is dropped, so `Model.from_orm(obj)` later raises "
           "`PydanticUserError: You must set the config attribute `from_attributes=True` to use "
           "from_orm`), `Field(env=...)` is ignored by pydantic-settings 2 (the variable named "
           "after the field is read instead; on a field without a default whose `env=` names "
           "another variable, SBA505 reports that consequence and this rule stays silent). Deprecated but working: `min_items`, `max_items`, "
           "`allow_mutation` in `Field()`.")
    how_to_fix = ("Use the pydantic 2 spelling: `Field(pattern=...)`, `Literal[...]`, "
                  "`@model_validator(mode=\"after\")`, type annotations (or `ClassVar`) on every "
                  "attribute, `model_config = ConfigDict(from_attributes=True)` / "
                  "`SettingsConfigDict(...)` instead of `class Config`, `Field(validation_alias="
                  "\"ENV_NAME\")` in settings, `min_length`/`max_length`/`frozen` in `Field()`.")
    fix_safety = ("Safe: the `pydantic-v2-idioms` codemod makes only the rewrites that mean the "
                  "same: `regex=` -> `pattern=` for a literal pattern anchored with `^` without "
                  "look-around or back-references (pydantic 2 searches instead of matching and "
                  "uses another regex engine), `min_items`/`max_items` -> `min_length`/"
                  "`max_length`, a bare `@root_validator` -> `@root_validator(skip_on_failure="
                  "True)` (it then no longer runs after a field failed), and a `class Config` "
                  "holding only translatable keys -> `model_config = ConfigDict(...)` "
                  "(`SettingsConfigDict` for settings). Left to the user: `const`, "
                  "`unique_items`, `allow_mutation`, `env=` (a `validation_alias` is no longer "
                  "filled from the field's own name), removed Config keys, non-annotated "
                  "attributes, `__root__`, and `model_validator(mode=\"after\")`, which receives "
                  "the model instead of a values dict.")
    valid = (
        Valid('''
            from typing import Annotated, ClassVar

            from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

            class UserOut(BaseModel):
                model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)

                kind: ClassVar[str] = "user"
                _cache = None
                id: int
                code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
                name: str = Field(min_length=1, pattern=r"^\\w+$")

                @field_validator("name")
                @classmethod
                def strip(cls, value: str) -> str:
                    return value.strip()
        '''),
        Valid('''
            from pydantic import Field, model_validator
            from pydantic_settings import BaseSettings, SettingsConfigDict

            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env", extra="ignore")

                database_url: str = Field("sqlite+aiosqlite:///./app.db",
                                          validation_alias="DB_URL")
                postgres_host: str = "localhost"

                @model_validator(mode="after")
                def check(self) -> "Settings":
                    return self
        '''),
        Valid('''
            from typing import Optional

            from sqlmodel import Field, SQLModel

            class Hero(SQLModel, table=True):
                __tablename__ = "heroes"

                id: Optional[int] = Field(default=None, primary_key=True)
                code: str = Field(regex=r"^[A-Z]+$", index=True)
        ''', note="sqlmodel's own Field takes regex= (sqlmodel 0.0.50 has no pattern=)"),
        Valid('''
            from pydantic.v1 import BaseModel, root_validator

            class Legacy(BaseModel):
                name = "legacy"

                class Config:
                    orm_mode = True

                @root_validator
                def check(cls, values):
                    return values
        ''', note="a pydantic.v1 model is a pydantic 1 model on purpose"),
    )
    invalid = (
        Invalid('''
            from pydantic import BaseModel, Field

            class Country(BaseModel):
                code: str = Field(..., regex=r"^[A-Z]{2}$")  # expect: SBA211
        ''', raises="pydantic.errors.PydanticUserError: `regex` is removed. use `pattern` instead"),
        Invalid('''
            from pydantic import root_validator
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                postgres_host: str = "localhost"
                database_url: str = ""

                @root_validator  # expect: SBA211
                def assemble_dsn(cls, values):
                    values["database_url"] = f"postgresql+asyncpg://{values['postgres_host']}/app"
                    return values
        ''', raises="pydantic.errors.PydanticUserError: If you use `@root_validator` with pre=False (the default) you MUST specify `skip_on_failure=True`."),
        Invalid('''
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                PROJECT_NAME = "api"  # expect: SBA211
                API_PREFIX: str = "/api"
        ''', raises="pydantic.errors.PydanticUserError: A non-annotated attribute was detected: `PROJECT_NAME = 'api'`."),
        Invalid('''
            from pydantic import BaseModel

            class UserOut(BaseModel):
                id: int
                email: str

                class Config:
                    orm_mode = True  # expect: SBA211

            class UserRow:
                id = 1
                email = "ada@example.com"

            def to_schema(row):
                return UserOut.from_orm(row)
        ''', raises="pydantic.errors.PydanticUserError: You must set the config attribute `from_attributes=True` to use from_orm",
            run="to_schema(UserRow())"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        version = module.project.pydantic_version
        if version is None or version < _V2:
            return
        described = module.project.environment.describe("pydantic")
        for idiom in self._idioms(module, version):
            if import_guard(module.scopes, idiom.node) is not None:
                continue  # code for both majors (`if PYDANTIC_V2:`), a shim, or TYPE_CHECKING
            severity = idiom.severity
            if idiom.at_import:
                severity = self.severity_at(module, idiom.runs_as or idiom.node)
            yield self.report(module, idiom.node, idiom.message,
                              f"{idiom.root_cause} (installed: {described}).", idiom.fix,
                              severity=severity)

    def _idioms(self, module: ModuleContext, version: Version) -> Iterator[_Idiom]:
        for call in module.calls:
            yield from _call_idioms(module, call)
        for found in pydantic_classes(module):
            yield from _class_idioms(module, found, version)


# -- calls --------------------------------------------------------------------------------------
def _call_idioms(module: ModuleContext, call: ast.Call) -> Iterator[_Idiom]:
    name = module.call_name(call)
    if name in _FIELD:
        yield from _field_keywords(call)
    elif name in _CONSTRAINED:
        yield from _constrained(call, name)


def _field_keywords(call: ast.Call) -> Iterator[_Idiom]:
    for kw in call.keywords:
        if kw.arg is None or (isinstance(kw.value, ast.Constant) and kw.value.value is None):
            continue
        if kw.arg in _REMOVED_FIELD_KEYWORDS:
            error, instead = _REMOVED_FIELD_KEYWORDS[kw.arg]
            yield _Idiom(kw.value, f"Field({kw.arg}=...) was removed in pydantic 2",
                         f"pydantic 2's Field() raises PydanticUserError: {error}",
                         f"Use {instead} instead of {kw.arg}=.", Severity.BLOCKING,
                         at_import=True)
        elif kw.arg in _DEPRECATED_FIELD_KEYWORDS:
            yield _Idiom(kw.value, f"Field({kw.arg}=...) is deprecated in pydantic 2",
                         f"pydantic 2 maps {kw.arg}= to {_DEPRECATED_FIELD_KEYWORDS[kw.arg]} with "
                         "a PydanticDeprecatedSince20 warning; pydantic 3 removes it",
                         f"Use {_DEPRECATED_FIELD_KEYWORDS[kw.arg]} instead of {kw.arg}=.",
                         Severity.WARNING)


def _constrained(call: ast.Call, name: str) -> Iterator[_Idiom]:
    short = name.rsplit(".", 1)[1]
    for kw in call.keywords:
        if kw.arg in _CONSTRAINED[name]:
            error = ("PydanticUserError: `unique_items` is removed, use `Set` instead"
                     if kw.arg == "unique_items" else
                     f"TypeError: {short}() got an unexpected keyword argument '{kw.arg}'")
            yield _Idiom(kw.value, f"{short}({kw.arg}=...) does not exist in pydantic 2",
                         f"pydantic 2's {short}() raises {error}",
                         f"Use {_CONSTRAINED[name][kw.arg]} instead of {kw.arg}=.",
                         Severity.BLOCKING, at_import=True)


# -- classes ------------------------------------------------------------------------------------
def _class_idioms(module: ModuleContext, found: PydanticClass,
                  version: Version) -> Iterator[_Idiom]:
    cls = found.node
    yield from _root_validators(module, cls)
    yield from _attributes(module, found)
    config = next((stmt for stmt in cls.body
                   if isinstance(stmt, ast.ClassDef) and stmt.name == "Config"), None)
    if config is not None:
        yield from _config(module, found, config, version)
    if found.settings:
        yield from _settings_env(module, cls)


def _root_validators(module: ModuleContext, cls: ast.ClassDef) -> Iterator[_Idiom]:
    """Bare `@root_validator` fails; the deprecated import itself is SBA103's."""
    for stmt in cls.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in stmt.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            if module.qualname(call.func if call else decorator) in _ROOT_VALIDATOR \
                    and _fails_on_v2(call):
                yield _Idiom(
                    decorator, f"@root_validator on {cls.name}.{stmt.name} without "
                    "skip_on_failure=True",
                    "pydantic 2 raises PydanticUserError: If you use `@root_validator` with "
                    "pre=False (the default) you MUST specify `skip_on_failure=True`. when the "
                    "decorator runs, in the class body",
                    "Use @model_validator(mode=\"after\") (it receives the model; return it), "
                    "or @root_validator(skip_on_failure=True) as a stopgap.",
                    Severity.BLOCKING, at_import=True, runs_as=stmt)


def _fails_on_v2(call: Optional[ast.Call]) -> bool:
    """Bare, given the function, or neither pre=True nor skip_on_failure=True (when either is
    not a literal, nothing is said)."""
    if call is None or call.args:
        return True
    pre, skip = keyword(call, "pre"), keyword(call, "skip_on_failure")
    return all(kw is None or _false(kw.value) for kw in (pre, skip))


def _value(stmt: ast.stmt) -> str:
    value = getattr(stmt, "value", None)
    return _shown(value) if value is not None else "..."


def _false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _attributes(module: ModuleContext, found: PydanticClass) -> Iterator[_Idiom]:
    """D18 non-annotated attributes, and `__root__`."""
    cls = found.node
    for field in module.models.own_fields(cls):
        if field.name == "__root__":
            yield _Idiom(field.stmt, f"{cls.name} defines __root__, which pydantic 2 refuses",
                         "pydantic 2 raises PydanticUserError: To define root models, use "
                         "`pydantic.RootModel` rather than a field called '__root__'",
                         f"Make {cls.name} a RootModel[<type>] and read .root instead of "
                         ".__root__.", Severity.BLOCKING, at_import=True)
        elif _unannotated(found, field):
            yield _Idiom(field.stmt, f"non-annotated attribute {cls.name}.{field.name} in a "
                         "pydantic 2 model",
                         f"pydantic 2 raises PydanticUserError: {_unannotated_error(found, field)} "
                         "when the class is created (pydantic 1 inferred the field's type)",
                         f"Annotate it: `{field.name}: <type> = ...`, or `{field.name}: "
                         "ClassVar[<type>] = ...` if it is not a field.",
                         Severity.BLOCKING, at_import=True)


def _unannotated(found: PydanticClass, field: M.ModelField) -> bool:
    """A public attribute with a literal value and no annotation, where nothing in an unknown
    base could make it legal (a ClassVar being overridden)."""
    return (found.complete and field.annotation is None and not field.name.startswith("_")
            and field.name != "model_config" and field.name not in found.class_vars
            and _literal(field.value))


def _unannotated_error(found: PydanticClass, field: M.ModelField) -> str:
    if field.name in found.inherited_fields:
        return (f"Field '{field.name}' defined on a base class was overridden by a non-annotated "
                "attribute.")
    shown = f"{field.name} = {_shown(field.value)}" if field.value is not None else field.name
    return f"A non-annotated attribute was detected: `{shown}`."


def _config(module: ModuleContext, found: PydanticClass, config: ast.ClassDef,
            version: Version) -> Iterator[_Idiom]:
    cls = found.node
    if found.model_config is not None:
        yield _Idiom(config, f"{cls.name} has both class Config and model_config",
                     "pydantic 2 raises PydanticUserError: \"Config\" and \"model_config\" "
                     "cannot be used together", "Move the Config keys into model_config and "
                     "delete class Config.", Severity.BLOCKING, at_import=True)
    for stmt in config.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else (
            [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
        for target in targets:
            if isinstance(target, ast.Name):
                idiom = _config_key(module, found, stmt, target.id, version)
                if idiom is not None:
                    yield idiom


def _config_key(module: ModuleContext, found: PydanticClass, stmt: ast.stmt, key: str,
                version: Version) -> Optional[_Idiom]:
    cls = found.node
    if key in _REMOVED_CONFIG_KEYS:
        return _Idiom(stmt, f"class Config of {cls.name} sets {key}, which pydantic 2 removed",
                      f"pydantic 2 ignores it with UserWarning: Valid config keys have changed "
                      f"in V2: * '{key}' has been removed; the behaviour it asked for is gone",
                      f"Delete {key} and use the pydantic 2 feature instead (model_config = "
                      f"ConfigDict(...), Field(...) options, validators).", Severity.WARNING)
    if key not in _RENAMED_CONFIG_KEYS:
        return None
    new = _RENAMED_CONFIG_KEYS[key]
    if key == "allow_population_by_field_name" and version < _VALIDATE_BY_NAME_SINCE:
        new = "populate_by_name"
    severity, consequence = Severity.WARNING, "the setting has no effect"
    if key == "orm_mode" and not found.sqlmodel:
        users = uses_class_method(module, cls.name, _FROM_ATTRIBUTES_USERS)
        if users:
            severity = Severity.RUNTIME
            consequence = (f"{users} then fails: from_orm raises PydanticUserError: You must set "
                           "the config attribute `from_attributes=True` to use from_orm, and "
                           "model_validate(obj) raises ValidationError")
    elif key == "orm_mode":
        consequence = "harmless, as SQLModel already sets from_attributes=True"
    return _Idiom(stmt, f"class Config of {cls.name} sets {key}, which pydantic 2 renamed to "
                  f"{new}", f"pydantic 2 drops the key with UserWarning: Valid config keys have "
                  f"changed in V2: * '{key}' has been renamed to '{new}'; {consequence}",
                  f"Replace class Config with model_config = ConfigDict({new}={_value(stmt)}).",
                  severity)


def _settings_env(module: ModuleContext, cls: ast.ClassDef) -> Iterator[_Idiom]:
    """`Field(env="X")` in a settings class: ignored by pydantic-settings 2. Where the field has
    no default and the app therefore reads the wrong variable, SBA505 reports it instead."""
    described = class_options(module, cls)
    misread = {field.name for field in described.fields
               if legacy_binding_misread(described, field)} if described else set()
    for field in module.models.own_fields(cls):
        if field.name in misread:
            continue
        calls = [field.value] if field.value is not None else []
        if field.annotation is not None:
            calls += [node for node in ast.walk(field.annotation) if isinstance(node, ast.Call)]
        for call in calls:
            if not (isinstance(call, ast.Call) and module.call_name(call) in _FIELD):
                continue
            env = keyword(call, "env")
            if env is None:
                continue
            shown = _shown(env.value)
            yield _Idiom(env.value, f"Field(env={shown}) on {cls.name}.{field.name} is ignored "
                         "by pydantic-settings 2",
                         f"pydantic 2 keeps env= only as JSON-schema extra (with a "
                         f"PydanticDeprecatedSince20 warning), so the value is read from the "
                         f"variable named after the field ({field.name.upper()}, plus any "
                         f"env_prefix), not from {shown}",
                         f"Use Field(validation_alias={shown}) (or AliasChoices for several "
                         "names).", Severity.WARNING)
