"""Model definitions that fail when the class is created: SBA318-SBA322."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator, List, Optional

from packaging.version import Version

from ...analysis.models import (
    DECLARATIVE, SQLMODEL, ModelClass, ModelField, ModelIndex, has_double_star, keywords,
    parse_string_annotation, string_union,
)
from ...context import ModuleContext
from ...findings import Category, Finding, Severity
from ...knowledge import models as K
from ...knowledge import names as N
from ..base import Invalid, Valid
from . import DatabaseRule

_LIBRARY_PREFIXES = ("typing", "typing_extensions", "builtins", "datetime", "decimal", "uuid",
                     "enum", "ipaddress", "pathlib", "collections", "pydantic", "sqlmodel",
                     "sqlalchemy")


def _source(module: ModuleContext, node: ast.AST) -> str:
    """The code of `node` as the user wrote it (quotes included), else as unparsed."""
    text = module.segment(node)
    return " ".join(text.split()) if text else ast.unparse(node)


def _table_name(index: ModelIndex, model: ModelClass) -> str:
    """SQLModel's table name: `__tablename__` when it is a literal, else the lowered class name."""
    value = index.class_value(model, "__tablename__")
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return model.name.lower()


def _optional_int(module: ModuleContext) -> str:
    python = module.project.environment.python
    if python and Version(python) < Version("3.10"):
        return "Optional[int]"
    return "int | None"


def _column_fields(index: ModelIndex, model: ModelClass) -> Iterator[ModelField]:
    """Fields SQLModel turns into columns: annotated, public, no ClassVar, no Relationship,
    defined in the table class or in a non-table SQLModel base of this file."""
    for field in index.fields(model).values():
        owner = index.model(field.owner)
        if owner is None or owner.kind != SQLMODEL or (owner is not model and owner.table):
            continue
        if (field.annotation is None or field.name.startswith("_")
                or field.name == "model_config" or index.is_relationship(field.value)
                or index.is_classvar(field.annotation, field.stmt)):
            continue
        yield field


def _inherited(field: ModelField, model: ModelClass) -> str:
    return "" if field.owner is model.node else f" (inherited from {field.owner.name})"


# -- SBA318 --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Unmapped:
    shown: str  # the annotation as written
    error: str  # the ValueError text, or its known part
    fix: str
    severity: Optional[Severity] = None  # None: the rule's, at the class
    assumption: str = ""


_EMPTY_CONSTRUCTORS = frozenset(
    f"builtins.{name}" for name in ("dict", "list", "set", "frozenset", "tuple"))
_MAPPED_COLUMN = "sqlalchemy.orm.mapped_column"


def _container_subject(name: str) -> str:
    short = name.rsplit(".", 1)[1]
    if short == "Any":
        return "typing.Any"
    if short == "OrderedDict":
        return "<class 'collections.OrderedDict'>"
    if short in ("Sequence", "Mapping", "MutableMapping", "MutableSequence", "Iterable"):
        return f"<class 'collections.abc.{short}'>"
    return f"<class '{short.lower()}'>"


class NoMatchingSqlalchemyType(DatabaseRule):
    code = "SBA318"
    name = "no-matching-sqlalchemy-type"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = "Any sqlmodel version (before 0.0.14 the error is worded differently)."
    summary = "a table model field whose type SQLModel cannot turn into a column"
    references = ("A24",)
    what = ("A field of a SQLModel `table=True` class (own, or inherited from a non-table SQLModel "
            "base of the same file) annotated with a type SQLModel has no column type for: `dict`, "
            "`list[str]`, `Dict[str, Any]`, `Any`, a pydantic model or another SQLModel class of "
            "the file, pydantic's `SecretStr`/`Json`/`IPvAnyAddress`, the URL types on pydantic 2, "
            "and `EmailStr` on sqlmodel < 0.0.19 with pydantic 2. Fields with `sa_column=`, "
            "`sa_type=` or `Relationship()` are not judged.")
    why = ("SQLModel builds a column for every field while it creates the table class, and raises "
           "for a type it cannot map: `ValueError: <class 'dict'> has no matching SQLAlchemy "
           "type` (sqlmodel < 0.0.14: `The field payload has no matching SQLAlchemy type`). The "
           "class statement fails, so importing the models module, and the app, fails.")
    how_to_fix = ("Store structured data in a JSON column: `tags: list[str] = Field("
                  "default_factory=list, sa_type=JSON)` (or `sa_column=Column(JSON)`, `from "
                  "sqlalchemy import JSON`). Link another table with a foreign key and "
                  "`Relationship()`. Keep pydantic types such as `HttpUrl` in the API schemas and "
                  "use `str` in the table model.")
    fix_safety = ("Unsafe: the column type changes the database schema and needs a migration; "
                  "values must be converted where they are read and written.")
    valid = (
        Valid('''
            from typing import Optional

            from sqlalchemy import JSON, Column
            from sqlmodel import Field, SQLModel

            class Product(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str = Field(index=True)
                tags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
                attributes: dict = Field(default_factory=dict, sa_type=JSON)
        '''),
        Valid('''
            from typing import Optional

            from pydantic import BaseModel
            from sqlmodel import Field, Relationship, SQLModel

            class Address(BaseModel):
                street: str
                city: str

            class TeamBase(SQLModel):
                name: str

            class Team(TeamBase, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                heroes: list["Hero"] = Relationship(back_populates="team")

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                team: Optional[Team] = Relationship(back_populates="heroes")

            class TeamRead(TeamBase):
                id: int
                address: Optional[Address] = None
                heroes: list[dict] = []
        ''', note="containers and nested models in non-table schemas, related tables through Relationship"),
        Valid('''
            import uuid
            from datetime import datetime
            from decimal import Decimal

            from pydantic import EmailStr
            from sqlmodel import Field, SQLModel

            class User(SQLModel, table=True):
                id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
                email: EmailStr = Field(unique=True, index=True)
                balance: Decimal = Field(default=0, max_digits=12, decimal_places=2)
                created_at: datetime = Field(default_factory=datetime.utcnow)
        ''', note="sqlmodel >= 0.0.19 maps EmailStr to a string column",
              needs=("email-validator",)),
    )
    invalid = (
        Invalid('''
            from typing import Any, Dict, Optional

            from sqlmodel import Field, SQLModel

            class Event(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                kind: str
                payload: Dict[str, Any] = Field(default_factory=dict)  # expect: SBA318
        ''', raises="ValueError: <class 'dict'> has no matching SQLAlchemy type"),
        Invalid('''
            from typing import Optional

            from pydantic import BaseModel
            from sqlmodel import Field, SQLModel

            class Address(BaseModel):
                street: str
                city: str

            class CustomerBase(SQLModel):
                name: str
                tags: list[str] = []

            class Customer(CustomerBase, table=True):  # expect: SBA318
                id: Optional[int] = Field(default=None, primary_key=True)
                address: Optional[Address] = None  # expect: SBA318
        ''', raises="ValueError: <class 'list'> has no matching SQLAlchemy type",
                note="an inherited field is reported at the table class"),
        Invalid('''
            from typing import Optional

            from pydantic import HttpUrl
            from sqlmodel import Field, SQLModel

            class Company(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                website: HttpUrl  # expect: SBA318
        ''', raises="ValueError: <class 'pydantic.networks.HttpUrl'> has no matching SQLAlchemy type",
                note="pydantic 2 URL types are not str"),
        Invalid('''
            from typing import Optional

            from sqlmodel import Field, SQLModel

            class Team(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                team: Optional[Team] = None  # expect: SBA318
        ''', raises="ValueError: <class 'snippet.Team'> has no matching SQLAlchemy type",
                note="another table as a plain field instead of a relationship"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        index = module.models
        for model in index.tables(SQLMODEL):
            for field in _column_fields(index, model):
                found = self._unmapped(module, index, model, field)
                if found is not None:
                    yield self._finding(module, model, field, found)

    def _finding(self, module: ModuleContext, model: ModelClass, field: ModelField,
                 found: _Unmapped) -> Finding:
        inherited = field.owner is not model.node
        node = model.node if inherited else field.stmt
        sqlmodel = module.project.environment.describe("sqlmodel")
        return self.report(
            module, node,
            f"{model.name}.{field.name}: {found.shown} has no matching SQLAlchemy type in table "
            f"model {model.name}{_inherited(field, model)}",
            f"SQLModel turns every field of a table=True class into a column and has no column "
            f"type for {found.shown}; {sqlmodel} raises ValueError \"{found.error} has no matching "
            f"SQLAlchemy type\" when class {model.name} is created.{found.assumption}",
            found.fix,
            severity=found.severity or self.severity_at(module, model.node),
            safe=False,
        )

    def _unmapped(self, module: ModuleContext, index: ModelIndex, model: ModelClass,
                  field: ModelField) -> Optional[_Unmapped]:
        assert field.annotation is not None
        if string_union(field.annotation) is not None:
            return None
        inner, metadata = index.unwrap(field.annotation, field.stmt)
        values = [field.value, *(m for m in metadata if index.field_call(m))]
        if inner is None or not all(self._judged_value(index, v) for v in values):
            return None
        head = inner.value if isinstance(inner, ast.Subscript) else inner
        name = index.type_name(head, field.stmt)
        shown = _source(module, field.annotation)
        if name in K.UNMAPPED_TYPES:
            return _Unmapped(shown, _container_subject(name), self._json_fix(field, shown, name))
        if name is not None and name.startswith("pydantic."):
            return self._pydantic(module, field, shown, name)
        target = index.in_file_class(head, field.stmt) if head is inner else None
        other = index.model(target) if target is not None else None
        if other is None or other.kind == DECLARATIVE:
            return None
        if other.table:
            return _Unmapped(shown, f"<class '…{other.name}'>", self._relationship_fix(
                module, index, field, other, shown))
        return _Unmapped(shown, f"<class '…{other.name}'>", (
            f"Store {other.name} as JSON (`{field.name}: {shown} = Field(default=None, "
            f"sa_type=JSON)`, converting with model_dump() / model_validate()), or make it a "
            f"table=True model linked with a foreign key and Relationship()."))

    @staticmethod
    def _judged_value(index: ModelIndex, value: Optional[ast.expr]) -> bool:
        """Only plain defaults (`None`, `[]`, `set()`) and Field() calls without a column of
        their own are judged."""
        if not isinstance(value, ast.Call):
            return True
        if index.type_name(value.func, value) in _EMPTY_CONSTRUCTORS and not value.args:
            return True
        call = index.field_call(value)
        return call is not None and not has_double_star(call) and not (
            {"sa_column", "sa_type"} & set(keywords(call)))

    def _pydantic(self, module: ModuleContext, field: ModelField, shown: str,
                  name: str) -> Optional[_Unmapped]:
        short = name.rsplit(".", 1)[1]
        fix = (f"Declare `{field.name}: str` in the table model and keep {short} for validation "
               f"in the request/response schemas (a non-table SQLModel or BaseModel).")
        if name in K.PYDANTIC_NEVER_MAPPED:
            return _Unmapped(shown, f"<class '…{short}'>", fix)
        pydantic = module.project.pydantic_version
        if name in K.PYDANTIC_V2_UNMAPPED:
            if pydantic is None:
                return _Unmapped(shown, f"<class '…{short}'>", fix, Severity.WARNING,
                                 " pydantic is not installed in the project's interpreter; this "
                                 "assumes pydantic 2, where the URL types are not str.")
            if pydantic < K.PYDANTIC_2:
                return None
            return _Unmapped(shown, f"<class '…{short}'>", fix)
        sqlmodel = module.project.version("sqlmodel")
        if (name == K.EMAIL_STR and pydantic is not None and pydantic >= K.PYDANTIC_2
                and sqlmodel is not None and sqlmodel < K.SQLMODEL_0_0_19):
            return _Unmapped(shown, "<class 'pydantic.networks.EmailStr'>", (
                f"Upgrade sqlmodel to >= 0.0.19, which maps EmailStr to a string column, or give "
                f"the column its type: `{field.name}: {shown} = Field(sa_type=AutoString)` "
                f"(`from sqlmodel import AutoString`)."))
        return None

    @staticmethod
    def _json_fix(field: ModelField, shown: str, name: str) -> str:
        short = name.rsplit(".", 1)[1].lower()
        if "None" in shown or "Optional" in shown or short == "any":
            default = "default=None"
        else:
            mapping = "dict" in short or "mapping" in short
            default = f"default_factory={'dict' if mapping else 'list'}"
        sets = " (JSON holds lists, so declare the set as a list)" if "set" in short else ""
        return (f"Store it in a JSON column: `{field.name}: {shown} = Field({default}, "
                f"sa_type=JSON)` with `from sqlalchemy import JSON` (or `sa_column=Column(JSON)`)"
                f"{sets}, or move the items into their own table linked with a foreign key and "
                f"Relationship().")

    @staticmethod
    def _relationship_fix(module: ModuleContext, index: ModelIndex, field: ModelField,
                          other: ModelClass, shown: str) -> str:
        key = f"{_table_name(index, other)}.id"
        return (f"Link the tables with a foreign key and a relationship: `{field.name}_id: "
                f"{_optional_int(module)} = Field(default=None, foreign_key=\"{key}\")` and "
                f"`{field.name}: {shown} = Relationship()` (`from sqlmodel import Relationship`).")


# -- SBA319 --------------------------------------------------------------------------------------
_YES, _NO, _UNKNOWN, _ANNOTATED = "yes", "no", "unknown", "annotated"


class TableWithoutPrimaryKey(DatabaseRule):
    code = "SBA319"
    name = "table-without-primary-key"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = "Any SQLAlchemy and sqlmodel version."
    summary = "a SQLModel table model without a primary-key column"
    references = ("A25",)
    what = ("A SQLModel `table=True` class whose fields, own and inherited from base classes of "
            "the same file, include no `Field(primary_key=True)` and no `sa_column=Column(..., "
            "primary_key=True)`, and that sets no `__table_args__`/`__mapper_args__`. Also a "
            "primary key given only as `Annotated[..., Field(primary_key=True)]` on sqlmodel <= "
            "0.0.31 with pydantic >= 2.12, which drops that Field. Classes with a base imported "
            "from elsewhere are not judged.")
    why = ("SQLAlchemy maps the class when it is created and needs a primary key: `sqlalchemy."
           "exc.ArgumentError: Mapper Mapper[Hero(hero)] could not assemble any primary key "
           "columns for mapped table 'hero'`. The models module, and the app importing it, fail "
           "to import.")
    how_to_fix = ("Add a primary key: `id: int | None = Field(default=None, primary_key=True)`, "
                  "or mark the natural key, e.g. `code: str = Field(primary_key=True)`. On "
                  "sqlmodel <= 0.0.31 with pydantic >= 2.12, move `Field(primary_key=True)` out of "
                  "`Annotated[...]` or upgrade sqlmodel to >= 0.0.32.")
    fix_safety = ("Unsafe: the table's key changes the schema; existing tables need a migration "
                  "that adds the column.")
    valid = (
        Valid('''
            from typing import Optional

            from sqlmodel import Field, SQLModel

            class HeroBase(SQLModel):
                name: str = Field(index=True)
                age: Optional[int] = None

            class Hero(HeroBase, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)

            class HeroCreate(HeroBase):
                pass
        '''),
        Valid('''
            from typing import Optional

            from sqlalchemy import Column, String
            from sqlmodel import Field, SQLModel

            class HeroTeamLink(SQLModel, table=True):
                hero_id: Optional[int] = Field(default=None, foreign_key="hero.id", primary_key=True)
                team_id: Optional[int] = Field(default=None, foreign_key="team.id", primary_key=True)

            class ApiKey(SQLModel, table=True):
                key: str = Field(sa_column=Column(String(64), primary_key=True))
                owner: str
        ''', note="a composite key, and a key declared on the Column"),
        Valid({
            "app/__init__.py": "",
            "app/db/__init__.py": "",
            "app/db/base.py": '''
                import uuid
                from datetime import datetime

                from sqlmodel import Field, SQLModel

                class TimestampedModel(SQLModel):
                    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
                    created_at: datetime = Field(default_factory=datetime.now)
            ''',
            "app/models.py": '''
                from app.db.base import TimestampedModel

                class Invoice(TimestampedModel, table=True):
                    number: str
            ''',
        }, note="a base class from another module may declare the key"),
    )
    invalid = (
        Invalid('''
            from typing import Optional

            from sqlmodel import Field, SQLModel

            class Hero(SQLModel, table=True):  # expect: SBA319
                name: str
                secret_name: str
                age: Optional[int] = Field(default=None, index=True)
        ''', raises="sqlalchemy.exc.ArgumentError: Mapper Mapper[Hero(hero)] could not assemble any primary key columns for mapped table 'hero'"),
        Invalid('''
            from datetime import datetime
            from typing import Optional

            from sqlmodel import Field, SQLModel

            class AuditedModel(SQLModel):
                id: Optional[int] = Field(default=None)
                created_at: datetime = Field(default_factory=datetime.utcnow)

            class Invoice(AuditedModel, table=True):  # expect: SBA319
                __tablename__ = "invoices"
                number: str = Field(unique=True)
        ''', raises="sqlalchemy.exc.ArgumentError: Mapper Mapper[Invoice(invoices)] could not assemble any primary key columns for mapped table 'invoices'",
                note="an `id` field is not a key without primary_key=True"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        index = module.models
        for model in index.tables(SQLMODEL):
            if not model.complete or self._sets_table_options(index, model):
                continue
            fields = index.fields(model).values()
            verdicts = {self._verdict(module, index, field) for field in fields}
            if _YES in verdicts or _UNKNOWN in verdicts:
                continue
            if _ANNOTATED in verdicts:
                yield from self._annotated(module, index, model)
            else:
                yield self._finding(module, index, model, self.severity_at(module, model.node),
                                    "declares no primary-key column")

    def _finding(self, module: ModuleContext, index: ModelIndex, model: ModelClass,
                 severity: Severity, problem: str, extra: str = "", fix: str = "") -> Finding:
        table = _table_name(index, model)
        bases = ", ".join(a.name for a in model.ancestors)
        fields = f", with the fields it inherits from {bases}," if bases else ""
        key = f"`id: {_optional_int(module)} = Field(default=None, primary_key=True)`"
        return self.report(
            module, model.node,
            f"table model {model.name} has no primary key",
            f"{model.name} (table '{table}'){fields} {problem}; SQLAlchemy cannot map a table "
            f"without one and raises ArgumentError \"Mapper Mapper[{model.name}({table})] could "
            f"not assemble any primary key columns for mapped table '{table}'\" when the class "
            f"is created.{extra}",
            fix or f"Add {key} to {model.name}, or mark its natural key with "
                   f"`Field(primary_key=True)`.",
            severity=severity, safe=False,
        )

    def _annotated(self, module: ModuleContext, index: ModelIndex,
                   model: ModelClass) -> Iterator[Finding]:
        project = module.project
        ignored = K.annotated_field_ignored(project.version("sqlmodel"), project.pydantic_version)
        if ignored is False:
            return
        versions = (f"{project.environment.describe('sqlmodel')} with "
                    f"{project.environment.describe('pydantic')}")
        fix = ("Upgrade sqlmodel to >= 0.0.32, or declare the key without Annotated: "
               f"`id: {_optional_int(module)} = Field(default=None, primary_key=True)`.")
        if ignored:
            yield self._finding(module, index, model, self.severity_at(module, model.node), (
                f"declares its key only as Field(primary_key=True) inside Annotated[...], which "
                f"{versions} ignores"), fix=fix)
            return
        yield self._finding(module, index, model, Severity.WARNING, (
            "declares its key only as Field(primary_key=True) inside Annotated[...], which "
            "sqlmodel <= 0.0.31 ignores on pydantic >= 2.12"), (
            f" The installed versions are not known ({versions}); sqlmodel >= 0.0.32 and "
            f"pydantic < 2.12 read that Field."), fix)

    @staticmethod
    def _sets_table_options(index: ModelIndex, model: ModelClass) -> bool:
        names = {"__table_args__", "__mapper_args__", "__table__"}
        return any(field.name in names for field in index.fields(model).values())

    def _verdict(self, module: ModuleContext, index: ModelIndex, field: ModelField) -> str:
        if field.name.startswith("_") or index.is_classvar(field.annotation, field.stmt):
            return _NO
        value = field.value
        annotated = self._annotated_key(module, index, field)
        if isinstance(value, ast.Call):
            if annotated != _NO and index.field_call(value):
                return _UNKNOWN  # a Field in Annotated[...] and another as the value
            return self._call_key(module, index, value)
        return annotated

    def _call_key(self, module: ModuleContext, index: ModelIndex, call: ast.Call) -> str:
        if index.is_relationship(call):
            return _NO
        if module.call_name(call) == N.SA_COLUMN:
            return _column_key(module, call)
        if index.field_call(call) is None:
            return _UNKNOWN
        return _field_key(module, call)

    def _annotated_key(self, module: ModuleContext, index: ModelIndex, field: ModelField) -> str:
        annotation = field.annotation
        if annotation is None:
            return _NO
        inner, _ = index.unwrap(annotation, field.stmt)
        if inner is not None and _imported_from_project(module, inner, field.stmt):
            return _UNKNOWN
        annotation = _alias_value(module, annotation, field.stmt) or annotation
        _, metadata = index.unwrap(annotation, field.stmt)
        calls = [call for call in map(index.field_call, metadata) if call is not None]
        verdicts = {_field_key(module, call) for call in calls}
        if _UNKNOWN in verdicts:
            return _UNKNOWN
        return _ANNOTATED if _YES in verdicts else _NO


def _field_key(module: ModuleContext, call: ast.Call) -> str:
    """Whether a Field() call declares a primary key."""
    if has_double_star(call):
        return _UNKNOWN
    given = keywords(call)
    key = given.get("primary_key")
    if key is not None:
        return _NO if isinstance(key, ast.Constant) and not key.value else _YES
    if "sa_column" in given:
        column = given["sa_column"]
        if isinstance(column, ast.Call) and module.call_name(column) == N.SA_COLUMN:
            return _column_key(module, column)
        return _UNKNOWN
    extra = given.get("sa_column_kwargs")
    if extra is None:
        return _NO
    if not isinstance(extra, ast.Dict) or any(k is None for k in extra.keys):
        return _UNKNOWN
    for k, v in zip(extra.keys, extra.values):
        if isinstance(k, ast.Constant) and k.value == "primary_key":
            return _NO if isinstance(v, ast.Constant) and not v.value else _YES
    return _NO


def _column_key(module: ModuleContext, call: ast.Call) -> str:
    if has_double_star(call):
        return _UNKNOWN
    key = keywords(call).get("primary_key")
    if key is None:
        return _NO
    return _NO if isinstance(key, ast.Constant) and not key.value else _YES


def _imported_from_project(module: ModuleContext, expr: ast.expr, at: ast.AST) -> bool:
    """A name imported from outside the known libraries: a type alias of the project may hide
    a Field(primary_key=True) in it."""
    if not isinstance(expr, ast.Name):
        return False
    imports = [b for b in module.scopes.lookup(expr.id, at) if b.kind == "import"]
    return any((module.imports.bound(b.node, expr.id) or "").split(".")[0] not in _LIBRARY_PREFIXES
               for b in imports)


def _alias_value(module: ModuleContext, annotation: ast.expr, at: ast.AST) -> Optional[ast.expr]:
    """`IntPK` bound in this file by `IntPK = Annotated[int, Field(primary_key=True)]`."""
    if not isinstance(annotation, ast.Name):
        return None
    bindings = module.scopes.lookup(annotation.id, at)
    if len(bindings) == 1 and bindings[0].kind == "assign":
        return bindings[0].value
    return None


# -- SBA320 --------------------------------------------------------------------------------------
def _column_with(module: ModuleContext, column: ast.expr, given: dict) -> Optional[str]:
    """The Column(...) that carries the conflicting Field() options, as source text."""
    if not (isinstance(column, ast.Call) and module.call_name(column) == N.SA_COLUMN):
        return None
    args: List[ast.expr] = list(column.args)
    kws = list(column.keywords)
    if "sa_type" in given and not args:
        args.insert(0, given["sa_type"])
    if "foreign_key" in given:
        fk_kws = [ast.keyword("ondelete", given["ondelete"])] if "ondelete" in given else []
        args.append(ast.Call(ast.Name("ForeignKey", ast.Load()), [given["foreign_key"]], fk_kws))
    extra_args = given.get("sa_column_args")
    if isinstance(extra_args, (ast.List, ast.Tuple)):
        args.extend(extra_args.elts)
    extra_kws = given.get("sa_column_kwargs")
    if isinstance(extra_kws, ast.Dict):
        kws += [ast.keyword(k.value, v) for k, v in zip(extra_kws.keys, extra_kws.values)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    kws += [ast.keyword(name, given[name])
            for name in ("primary_key", "nullable", "unique", "index") if name in given]
    return ast.unparse(ast.Call(column.func, args, kws))


class SaColumnArgumentConflict(DatabaseRule):
    code = "SBA320"
    name = "sa-column-argument-conflict"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = "sqlmodel >= 0.0.11 (older releases ignored these options silently)."
    summary = "Field(sa_column=...) combined with column options sqlmodel refuses"
    references = ("A26",)
    what = ("A `sqlmodel.Field()` given `sa_column=` together with `primary_key`, `nullable`, "
            "`foreign_key`, `unique`, `index`, `sa_type` (sqlmodel >= 0.0.11), `ondelete` "
            "(>= 0.0.21), `sa_column_args` or `sa_column_kwargs` (every version).")
    why = ("`Field()` itself checks its arguments while the class body runs: `RuntimeError: "
           "Passing primary_key is not supported when also passing a sa_column` (likewise for "
           "each keyword). The class, and the module defining it, fail to import. Before sqlmodel "
           "0.0.11 these options were silently ignored instead.")
    how_to_fix = ("Move the options into the Column given to `sa_column`: `Field(sa_column=Column("
                  "DateTime(timezone=True), nullable=False, index=True))`; a foreign key becomes "
                  "`Column(ForeignKey(\"team.id\", ondelete=\"CASCADE\"))`.")
    fix_safety = "Safe: the same column options, given where sqlmodel reads them."
    valid = (
        Valid('''
            from datetime import datetime
            from typing import Optional

            from sqlalchemy import Column, DateTime, func
            from sqlmodel import Field, SQLModel

            class Order(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                customer_id: int = Field(foreign_key="customer.id", index=True)
                created_at: datetime = Field(
                    sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False)
                )
        '''),
        Valid('''
            from typing import Optional

            import sqlalchemy as sa
            from sqlmodel import Field, SQLModel

            class Document(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                body: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
                slug: str = Field(max_length=80, sa_column_kwargs={"unique": True})
        ''', note="sa_column_kwargs without sa_column"),
    )
    invalid = (
        Invalid('''
            from datetime import datetime
            from typing import Optional

            from sqlalchemy import Column, DateTime
            from sqlmodel import Field, SQLModel

            class Order(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                created_at: datetime = Field(sa_column=Column(DateTime(timezone=True)), nullable=False)  # expect: SBA320
        ''', raises="RuntimeError: Passing nullable is not supported when also passing a sa_column"),
        Invalid('''
            from typing import Optional

            from sqlalchemy import BigInteger, Column
            from sqlmodel import Field, SQLModel

            class Account(SQLModel, table=True):
                id: Optional[int] = Field(  # expect: SBA320
                    default=None,
                    primary_key=True,
                    sa_column=Column(BigInteger, autoincrement=True),
                )
        ''', raises="RuntimeError: Passing primary_key is not supported when also passing a sa_column"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        version = module.project.version("sqlmodel")
        for call in module.calls:
            if module.call_name(call) != N.SQLMODEL_FIELD:
                continue
            given = keywords(call)
            if "sa_column" not in given:
                continue
            conflicts = [kw for kw in K.SA_COLUMN_CONFLICTS if kw in given]
            if conflicts:
                finding = self._finding(module, call, given, conflicts, version)
                if finding is not None:
                    yield finding

    def _finding(self, module: ModuleContext, call: ast.Call, given: dict, conflicts: List[str],
                 version: Optional[Version]) -> Optional[Finding]:
        verdicts = [(kw, K.sa_column_conflict_raises(kw, version)) for kw in conflicts]
        raising = [kw for kw, raises in verdicts if raises]
        sqlmodel = module.project.environment.describe("sqlmodel")
        if raising:
            severity, first = self.severity_at(module, call), raising[0]
            effect = (f"{sqlmodel} raises RuntimeError \"Passing {first} is not supported when "
                      f"also passing a sa_column\" when Field() runs")
        elif any(raises is None for _, raises in verdicts):
            severity, first = Severity.WARNING, conflicts[0]
            effect = (f"sqlmodel >= 0.0.11 raises RuntimeError \"Passing {first} is not supported "
                      f"when also passing a sa_column\" when Field() runs; {sqlmodel} is not "
                      f"known here, so this assumes a current sqlmodel")
        else:
            ignored = [kw for kw in conflicts if kw not in K.SA_COLUMN_KEYWORD_ADDED
                       or version is None or version >= K.SA_COLUMN_KEYWORD_ADDED[kw]]
            if not ignored:
                return None
            severity, first = Severity.WARNING, ignored[0]
            effect = (f"{sqlmodel} silently ignores {', '.join(ignored)} next to sa_column (the "
                      f"Column is used as is), and sqlmodel >= 0.0.11 raises RuntimeError "
                      f"\"Passing {first} is not supported when also passing a sa_column\"")
        column = _column_with(module, given["sa_column"], given)
        moved = ", ".join(conflicts)
        them = "it" if len(conflicts) == 1 else "them"
        fix = (f"Drop {moved} from Field() and set {them} on the Column: `sa_column={column}`"
               if column else f"Drop {moved} from Field() and pass {them} to the Column given as "
                              f"sa_column")
        needs_fk = ""
        if column and "foreign_key" in given:
            needs_fk = " (`from sqlalchemy import ForeignKey`)"
        return self.report(
            module, call,
            f"Field() given sa_column= and {moved}",
            f"sa_column supplies the whole column, so Field() refuses column options next to it: "
            f"{effect}.",
            fix + needs_fk + ".",
            severity=severity,
        )


# -- SBA321 --------------------------------------------------------------------------------------
_MAPPED_CONSTRUCTS = frozenset({N.SA_COLUMN, N.SA_RELATIONSHIP, _MAPPED_COLUMN,
                                "sqlalchemy.orm.column_property", "sqlalchemy.orm.deferred",
                                "sqlalchemy.orm.synonym", "sqlalchemy.orm.composite"})


def _is_mapped_annotation(index: ModelIndex, annotation: Optional[ast.expr], at: ast.AST) -> bool:
    if annotation is None:
        return False
    parsed = parse_string_annotation(annotation) or annotation
    head = parsed.value if isinstance(parsed, ast.Subscript) else parsed
    return index.type_name(head, at) in K.MAPPED_ANNOTATIONS


@dataclass(frozen=True)
class _Reserved:
    severity: Severity
    effect: str  # what the libraries do, with versions


class ReservedModelAttribute(DatabaseRule):
    code = "SBA321"
    name = "reserved-model-attribute"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = ("SQLAlchemy < 2.1 refuses the class; SQLAlchemy 2.1 warns and sqlmodel then fails "
                "on every instance; on pydantic 1 sqlmodel raises NameError.")
    summary = "a model attribute named `metadata` or `registry`, names declarative classes reserve"
    references = ("A27",)
    codemod = "rename-reserved-attribute"
    what = ("A field named `metadata` on a SQLModel table model (own, or inherited from a "
            "non-table SQLModel base of the file), or a mapped attribute named `metadata` on a "
            "SQLAlchemy "
            "declarative class; on pydantic 1 any SQLModel field named `metadata`. `registry` is "
            "reported as a warning on SQLAlchemy >= 2.1, which warns about it.")
    why = ("Declarative classes keep their `MetaData` in `metadata`. SQLAlchemy < 2.1 refuses the "
           "class when it is created: `sqlalchemy.exc.InvalidRequestError: Attribute name "
           "'metadata' is reserved when using the Declarative API.` (1.4: `... reserved for the "
           "MetaData instance when using a declarative base class.`). SQLAlchemy 2.1 only warns, "
           "but SQLModel then treats the field as the class variable and every instance fails: "
           "``AttributeError: 'metadata' is a ClassVar of `Document` and cannot be set on an "
           "instance.`` On pydantic 1, `NameError: Field name \"metadata\" shadows a BaseModel "
           "attribute`.")
    how_to_fix = ("Rename the attribute and keep the column name: `meta: dict = Field(default_"
                  "factory=dict, sa_column=Column(\"metadata\", JSON))`, or in SQLAlchemy "
                  "`meta: Mapped[dict] = mapped_column(\"metadata\", JSON)`.")
    fix_safety = ("Unsafe: the database column keeps its name, but every use of the attribute in "
                  "the code, and API payloads built from the model, must follow the rename. The "
                  "`rename-reserved-attribute` codemod renames the declaration (`meta`, else "
                  "`metadata_`; `registry_name` for `registry`) and keeps the column name with "
                  "`Column(\"metadata\", ...)`, `mapped_column(\"metadata\", ...)` or SQLModel's "
                  "`Field(sa_column_kwargs={\"name\": \"metadata\"})`; a field inherited from a "
                  "base class other models share is left to rename by hand.")
    valid = (
        Valid('''
            from typing import Optional

            from sqlalchemy import JSON, Column
            from sqlmodel import Field, SQLModel

            class Document(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                title: str
                meta: dict = Field(default_factory=dict, sa_column=Column("metadata", JSON))

            class DocumentRead(SQLModel):
                id: int
                title: str
                metadata: dict = {}
        ''', note="a non-table schema may have a `metadata` field on pydantic 2"),
        Valid('''
            from sqlalchemy import JSON, MetaData
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})

            class Document(Base):
                __tablename__ = "document"
                id: Mapped[int] = mapped_column(primary_key=True)
                extra: Mapped[dict] = mapped_column("metadata", JSON)
        ''', note="the declarative base sets its own MetaData"),
    )
    invalid = (
        Invalid('''
            from typing import Optional

            from sqlalchemy import JSON, Column
            from sqlmodel import Field, SQLModel

            class Document(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                title: str
                metadata: dict = Field(default_factory=dict, sa_column=Column(JSON))  # expect: SBA321
        ''', raises="AttributeError: 'metadata' is a ClassVar of `Document` and cannot be set on an instance.",
                run="Document(title='report')",
                note="SQLAlchemy < 2.1 already fails at import"),
        Invalid('''
            from typing import Optional

            from sqlmodel import Field, SQLModel

            class EventBase(SQLModel):
                name: str
                metadata: Optional[str] = None

            class Event(EventBase, table=True):  # expect: SBA321
                id: Optional[int] = Field(default=None, primary_key=True)

            class EventRead(EventBase):
                id: int
        ''', raises="AttributeError: 'metadata' is a ClassVar of `Event` and cannot be set on an instance.",
                run="Event(name='launch')", note="inherited from a schema shared with the API"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        index = module.models
        pydantic = module.project.pydantic_version
        for model in index.models:
            if model.kind == SQLMODEL and pydantic is not None and pydantic < K.PYDANTIC_2:
                fields = [f for f in index.own_fields(model.node) if f.name == "metadata"]
            elif model.kind == SQLMODEL and model.table:
                fields = list(self._table_fields(index, model))
            elif model.kind == DECLARATIVE and model.table:
                fields = [f for f in index.own_fields(model.node) if self._mapped(module, index, f)]
            else:
                continue
            for field in fields:
                if (field.name not in K.RESERVED_ATTRIBUTES
                        or index.is_classvar(field.annotation, field.stmt)):
                    continue
                verdict = self._verdict(module, model, field, index.is_relationship(field.value))
                if verdict is not None:
                    yield self._finding(module, model, field, verdict)

    @staticmethod
    def _table_fields(index: ModelIndex, model: ModelClass) -> Iterator[ModelField]:
        for field in index.fields(model).values():
            owner = index.model(field.owner)
            if field.annotation is not None and owner is not None and owner.kind == SQLMODEL and (
                    owner is model or not owner.table):
                yield field

    @staticmethod
    def _mapped(module: ModuleContext, index: ModelIndex, field: ModelField) -> bool:
        value = field.value
        if isinstance(value, ast.Call) and module.call_name(value) in _MAPPED_CONSTRUCTS:
            return True
        return _is_mapped_annotation(index, field.annotation, field.stmt)

    def _verdict(self, module: ModuleContext, model: ModelClass, field: ModelField,
                 relationship: bool) -> Optional[_Reserved]:
        """How a reserved name fails. A SQLModel field that is no Relationship is a pydantic
        field too: pydantic 1 refuses it, and on SQLAlchemy 2.1 SQLModel confuses it with the
        MetaData class variable."""
        project = module.project
        sa = project.sqlalchemy_version
        if field.name == "registry":
            if sa is None or sa < K.SA_METADATA_WARNS:
                return None
            return _Reserved(Severity.WARNING, (
                f"{project.environment.describe('SQLAlchemy')} warns \"Attribute name 'registry' "
                f"should be left reserved for the Declarative class registry when using a "
                f"Declarative class.\" and {model.name}.registry hides the class's registry"))
        pydantic_field = model.kind == SQLMODEL and not relationship
        pydantic = project.pydantic_version
        if pydantic_field and pydantic is not None and pydantic < K.PYDANTIC_2:
            return _Reserved(self.severity_at(module, model.node), (
                f"{project.environment.describe('pydantic')} raises NameError \"Field name "
                f"\\\"metadata\\\" shadows a BaseModel attribute\" when the class is created"))
        return self._metadata(module, model, pydantic_field)

    def _metadata(self, module: ModuleContext, model: ModelClass,
                  pydantic_field: bool) -> _Reserved:
        sa = module.project.sqlalchemy_version
        sa_text = module.project.environment.describe("SQLAlchemy")
        refused = ("\"Attribute name 'metadata' is reserved when using the Declarative API.\""
                   if sa is None or sa >= K.SA_2_0 else
                   "\"Attribute name 'metadata' is reserved for the MetaData instance when using "
                   "a declarative base class.\"")
        if sa is not None and sa < K.SA_METADATA_WARNS:
            return _Reserved(self.severity_at(module, model.node), (
                f"{sa_text} raises InvalidRequestError {refused} when class {model.name} is "
                f"created"))
        instance = (f"AttributeError \"'metadata' is a ClassVar of `{model.name}` and cannot be "
                    f"set on an instance.\" at the first {model.name}(...)")
        if sa is None:
            later = (f"with 2.1 SQLModel fails with {instance}" if pydantic_field
                     else "2.1 only warns")
            return _Reserved(Severity.RUNTIME if pydantic_field else Severity.WARNING, (
                f"SQLAlchemy < 2.1 raises InvalidRequestError {refused} when the class is created "
                f"and {later}; the version here is unknown: "
                f"{module.project.why_unknown('SQLAlchemy')}"))
        if pydantic_field:
            return _Reserved(Severity.RUNTIME, (
                f"{sa_text} only warns when the class is created, but SQLModel then treats the "
                f"field as the MetaData class variable: {instance}"))
        return _Reserved(Severity.WARNING, (
            f"{sa_text} only warns \"Attribute name 'metadata' should be left reserved for the "
            f"MetaData instance when using a Declarative class.\", but {model.name}.metadata no "
            f"longer is the MetaData, and SQLAlchemy < 2.1 raises InvalidRequestError {refused} "
            f"at import"))

    def _finding(self, module: ModuleContext, model: ModelClass, field: ModelField,
                 verdict: _Reserved) -> Finding:
        node = model.node if field.owner is not model.node else field.stmt
        holds = "MetaData" if field.name == "metadata" else "registry"
        return self.report(
            module, node,
            f"{model.name}.{field.name}: the name '{field.name}' is reserved for the declarative "
            f"{holds}{_inherited(field, model)}",
            f"Declarative classes keep their {holds} in the class attribute '{field.name}'; "
            f"{verdict.effect}.",
            self._fix(module, model, field),
            severity=verdict.severity, safe=False,
            data={"model": "sqlmodel" if model.kind == SQLMODEL else "declarative"},
        )

    @staticmethod
    def _fix(module: ModuleContext, model: ModelClass, field: ModelField) -> str:
        new = "meta" if field.name == "metadata" else "registry_name"
        update = f", then update the code that uses {model.name}.{field.name}."
        field_call = module.models.field_call(field.value)
        column = keywords(field_call).get("sa_column") if field_call is not None else field.value
        constructs = (N.SA_COLUMN, _MAPPED_COLUMN)
        if isinstance(column, ast.Call) and module.call_name(column) in constructs:
            args = [ast.Constant(field.name), *column.args]
            renamed: ast.expr = ast.Call(column.func, args, column.keywords)
            if field_call is not None:
                renamed = ast.Call(field_call.func, field_call.args, [
                    ast.keyword(kw.arg, renamed if kw.arg == "sa_column" else kw.value)
                    for kw in field_call.keywords])
            annotation = f": {_source(module, field.annotation)}" if field.annotation else ""
            return (f"Rename the attribute (e.g. `{new}`) and keep the column name: "
                    f"`{new}{annotation} = {ast.unparse(renamed)}`{update}")
        if model.kind == SQLMODEL:
            return (f"Rename the field (e.g. `{new}`) and keep the column name with "
                    f"`sa_column=Column(\"{field.name}\", <its type>)`{update}")
        return (f"Rename the attribute (e.g. `{new}`) and keep the column name with "
                f"`mapped_column(\"{field.name}\", ...)`{update}")


# -- SBA322 --------------------------------------------------------------------------------------
_TYPE_NAMES = {str: "str", type(None): "NoneType"}


def _is_dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.strip().split("."))


def _operand_type(expr: ast.expr) -> Optional[str]:
    if isinstance(expr, ast.Constant):
        return _TYPE_NAMES.get(type(expr.value))
    return None


def _union_error(union: ast.BinOp) -> str:
    left, right = _operand_type(union.left), _operand_type(union.right)
    if left and right:
        return f"TypeError: unsupported operand type(s) for |: '{left}' and '{right}'"
    return "TypeError: unsupported operand type(s) for |"


def _quoted_suggestion(index: ModelIndex, expr: ast.expr, at: ast.AST) -> Optional[str]:
    """`list[Hero]` -> `list["Hero"]`, `Team | None` -> `Optional["Team"]`: the form SQLModel
    reads, with only the class name quoted."""
    text = ast.unparse(expr)
    optional = "None" in text or "Optional" in text
    inner, _ = index.unwrap(expr, at)
    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
        inner = parse_string_annotation(inner)
    if isinstance(inner, ast.Name):
        return f'Optional["{inner.id}"]' if optional else f'"{inner.id}"'
    if isinstance(inner, ast.Subscript):
        element = inner.slice
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            element = parse_string_annotation(element)
        if isinstance(element, ast.Name):
            return f'{ast.unparse(inner.value)}["{element.id}"]'
    return None


class RelationshipAnnotationUnsupported(DatabaseRule):
    code = "SBA322"
    name = "relationship-annotation-unsupported"
    severity = Severity.BLOCKING
    category = Category.DATABASE
    versions = ("`\"Team\" | None` and string relationship annotations beyond a class name on any "
                "version; `list[\"Hero\"]` on pydantic < 1.9.1; annotations without `Mapped[]` on "
                "declarative classes on SQLAlchemy >= 2.0.")
    summary = "a relationship or model annotation the installed SQLModel/SQLAlchemy cannot read"
    references = ("A28", "D06")
    what = ("Model annotations that fail: `\"Team\" | None` in a SQLModel or declarative class "
            "(TypeError when the class is created); a SQLModel `Relationship()` whose annotation "
            "is a string at run time (`from __future__ import annotations`, or the whole "
            "annotation quoted) and is more than a class name, such as `list[Hero]` or "
            "`Optional[Team]` (fails at the first mapper configuration, so `runtime`); "
            "`list[\"Hero\"]` on pydantic < 1.9.1; and on SQLAlchemy >= 2.0 a `relationship()` "
            "or `mapped_column()` attribute of a declarative class annotated without `Mapped[]`, "
            "unless the class or a base of the file sets `__allow_unmapped__ = True`.")
    why = ("`\"Team\" | None` is evaluated with the class body: `TypeError: unsupported operand "
           "type(s) for |: 'str' and 'NoneType'`. SQLModel gives a string annotation to "
           "`relationship()` as the target's name, and SQLAlchemy fails when it configures the "
           "mappers (first query or instance): `InvalidRequestError: When initializing mapper "
           "Mapper[Team(team)], expression \"relationship('list[Hero]')\" seems to be using a "
           "generic class as the argument to relationship()`. SQLAlchemy 2 declarative classes "
           "refuse legacy annotations: `ArgumentError: Type annotation for \"User.posts\" can't be "
           "correctly interpreted for Annotated Declarative Table form.` (raised as "
           "`sqlalchemy.orm.exc.MappedAnnotationError` by 2.0.44 and 2.1.9).")
    how_to_fix = ("Write `Optional[\"Team\"]` instead of `\"Team\" | None`. Keep `from __future__ "
                  "import annotations` out of SQLModel table modules and quote only class names: "
                  "`heroes: list[\"Hero\"] = Relationship(...)`. In SQLAlchemy 2 classes annotate "
                  "with `Mapped[...]`: `posts: Mapped[list[\"Post\"]] = relationship()`, or set "
                  "`__allow_unmapped__ = True` on the Base while migrating.")
    fix_safety = ("Safe: only annotations change; the mapped columns and relationships stay the "
                  "same.")
    valid = (
        Valid('''
            from typing import List, Optional

            from sqlmodel import Field, Relationship, SQLModel

            class Team(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str
                heroes: List["Hero"] = Relationship(back_populates="team")

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                team: Optional["Team"] = Relationship(back_populates="heroes")
        '''),
        Valid('''
            from __future__ import annotations

            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

            class Base(DeclarativeBase):
                pass

            class User(Base):
                __tablename__ = "user"
                id: Mapped[int] = mapped_column(primary_key=True)
                posts: Mapped[list[Post]] = relationship(back_populates="author")

            class Post(Base):
                __tablename__ = "post"
                id: Mapped[int] = mapped_column(primary_key=True)
                author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
                author: Mapped[User | None] = relationship(back_populates="posts")
        ''', note="SQLAlchemy resolves Mapped[...] strings itself"),
        Valid('''
            from typing import List

            from sqlalchemy import Column, ForeignKey, Integer
            from sqlalchemy.orm import declarative_base, relationship

            Base = declarative_base()

            class User(Base):
                __tablename__ = "user"
                __allow_unmapped__ = True
                id = Column(Integer, primary_key=True)
                posts: List["Post"] = relationship("Post")

            class Post(Base):
                __tablename__ = "post"
                id = Column(Integer, primary_key=True)
                user_id = Column(ForeignKey("user.id"))
        ''', note="1.x annotations allowed explicitly"),
    )
    invalid = (
        Invalid('''
            from typing import Optional

            from sqlmodel import Field, Relationship, SQLModel

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                team: "Team" | None = Relationship(back_populates="heroes")  # expect: SBA322

            class Team(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                heroes: list["Hero"] = Relationship(back_populates="team")
        ''', raises="TypeError: unsupported operand type(s) for |: 'str' and 'NoneType'"),
        Invalid('''
            from typing import List

            from sqlalchemy import Column, ForeignKey, Integer, String
            from sqlalchemy.orm import DeclarativeBase, relationship

            class Base(DeclarativeBase):
                pass

            class User(Base):
                __tablename__ = "user"
                id = Column(Integer, primary_key=True)
                name = Column(String(50))
                posts: List["Post"] = relationship("Post", back_populates="author")  # expect: SBA322

            class Post(Base):
                __tablename__ = "post"
                id = Column(Integer, primary_key=True)
                user_id = Column(ForeignKey("user.id"))
        ''', raises="sqlalchemy.orm.exc.MappedAnnotationError: Type annotation for \"User.posts\" can't be correctly interpreted for Annotated Declarative Table form.",
                note="1.x-style annotation on SQLAlchemy 2"),
        Invalid('''
            from __future__ import annotations

            from typing import Optional

            from sqlmodel import Field, Relationship, SQLModel

            class Team(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                name: str
                heroes: list[Hero] = Relationship(back_populates="team")  # expect: SBA322

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                team: Optional[Team] = Relationship(back_populates="heroes")  # expect: SBA322
        ''', raises="sqlalchemy.exc.InvalidRequestError: When initializing mapper Mapper[Team(team)], expression \"relationship('list[Hero]')\" seems to be using a generic class as the argument to relationship()",
                run="Team(name='Avengers')", note="fails at the first mapper configuration: runtime"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        index = module.models
        for model in index.models:
            if model.kind == SQLMODEL:
                yield from self._sqlmodel(module, index, model)
            elif model.kind == DECLARATIVE:
                yield from self._declarative(module, index, model)

    # -- SQLModel --------------------------------------------------------------------------------
    def _sqlmodel(self, module: ModuleContext, index: ModelIndex,
                  model: ModelClass) -> Iterator[Finding]:
        for field in index.own_fields(model.node):
            annotation = field.annotation
            if annotation is None or index.is_classvar(annotation, field.stmt):
                continue
            relationship = self._plain_relationship(index, field) if model.table else False
            text = self._runtime_string(index, annotation)
            if relationship and text is not None and not _is_dotted_name(text):
                yield self._string_target(module, index, model, field, text)
                continue
            union = string_union(annotation)
            if union is not None and not (index.future_annotations and relationship):
                yield self._string_union(module, model, field, union, index)
            elif relationship and text is None:
                yield from self._lowercase_list(module, index, model, field)

    @staticmethod
    def _plain_relationship(index: ModelIndex, field: ModelField) -> bool:
        """A Relationship() whose target SQLModel takes from the annotation."""
        if not index.is_relationship(field.value):
            return False
        assert isinstance(field.value, ast.Call)
        return not ({"sa_relationship", "sa_relationship_args"} & set(keywords(field.value))
                    or has_double_star(field.value))

    @staticmethod
    def _runtime_string(index: ModelIndex, annotation: ast.expr) -> Optional[str]:
        """The annotation as a string, when that is what the class sees at run time (under
        `from __future__ import annotations` a quoted one keeps its quotes: "'Team'")."""
        if index.future_annotations:
            return ast.unparse(annotation)
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            return annotation.value
        return None

    def _string_target(self, module: ModuleContext, index: ModelIndex, model: ModelClass,
                       field: ModelField, text: str) -> Finding:
        sa = module.project.sqlalchemy_version
        table = _table_name(index, model)
        if "[" in text and (sa is None or sa >= K.SA_2_0):
            error = (f"InvalidRequestError: When initializing mapper Mapper[{model.name}("
                     f"{table})], expression \"relationship({text!r})\" seems to be using a "
                     f"generic class as the argument to relationship()")
        else:
            error = (f"InvalidRequestError: When initializing mapper ..., expression {text!r} "
                     f"failed to locate a name ({text!r})")
        future = index.future_annotations
        why = ("the module has `from __future__ import annotations`" if future
               else "the annotation is quoted whole")
        parsed = parse_string_annotation(ast.Constant(text))
        suggestion = _quoted_suggestion(index, parsed, field.stmt) if parsed is not None else None
        written = f"`{field.name}: {suggestion} = Relationship(...)`" if suggestion else (
            "an annotation that quotes only the class name")
        fix = (f"Remove `from __future__ import annotations` from this models module and write "
               f"{written}." if future else f"Write {written}.")
        return self.report(
            module, field.stmt,
            f"{model.name}.{field.name}: relationship annotation is the string {text!r} at run "
            f"time",
            f"SQLModel passes a string annotation to relationship() as the target's name because "
            f"{why}; SQLAlchemy evaluates it when the mappers are configured (the first query or "
            f"{model.name}(...)) and fails ({module.project.environment.describe('SQLAlchemy')}"
            f"): {error}. Importing succeeds.",
            fix,
            severity=Severity.RUNTIME,
        )

    def _string_union(self, module: ModuleContext, model: ModelClass, field: ModelField,
                      union: ast.BinOp, index: ModelIndex) -> Finding:
        suggestion = _quoted_suggestion(index, union, field.stmt)
        fix = (f"Replace `{_source(module, union)}` with `{suggestion}`" if suggestion
               else "Put the quoted class name inside Optional[...] instead of applying | to it")
        when = ("pydantic evaluates the annotation string when the class is created"
                if index.future_annotations
                else "Python evaluates annotations when the class body runs")
        return self.report(
            module, field.stmt,
            f"{model.name}.{field.name}: annotation {_source(module, union)} applies | to a string",
            f"{when}, and a quoted name is a str, not a type: {_union_error(union)}.",
            f"{fix} (`from typing import Optional`).",
            severity=self.severity_at(module, field.stmt),
        )

    def _lowercase_list(self, module: ModuleContext, index: ModelIndex, model: ModelClass,
                        field: ModelField) -> Iterator[Finding]:
        pydantic = module.project.pydantic_version
        if pydantic is None or pydantic >= K.PYDANTIC_1_9_1:
            return
        assert field.annotation is not None
        inner, _ = index.unwrap(field.annotation, field.stmt)
        if not (isinstance(inner, ast.Subscript)
                and index.type_name(inner.value, field.stmt) == "builtins.list"):
            return
        element = inner.slice
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return
        yield self.report(
            module, field.stmt,
            f"{model.name}.{field.name}: list[\"{element.value}\"] is not understood by "
            f"pydantic {pydantic}",
            f"pydantic < 1.9.1 cannot resolve a string inside the builtin list[...] and raises "
            f"RuntimeError \"error checking inheritance of '{element.value}' (type: str)\" when "
            f"class {model.name} is created ({module.project.environment.describe('pydantic')}).",
            f"Write `{field.name}: List[\"{element.value}\"]` (`from typing import List`), or "
            f"upgrade pydantic to >= 1.9.1.",
            severity=self.severity_at(module, field.stmt),
        )

    # -- declarative -----------------------------------------------------------------------------
    def _declarative(self, module: ModuleContext, index: ModelIndex,
                     model: ModelClass) -> Iterator[Finding]:
        for field in index.own_fields(model.node):
            union = string_union(field.annotation) if field.annotation is not None else None
            if union is not None and not index.future_annotations:
                yield self._string_union(module, model, field, union, index)
        if not self._judges_annotations(index, model):
            return
        for field in index.own_fields(model.node):
            value = field.value
            construct = module.call_name(value) if isinstance(value, ast.Call) else None
            if (field.annotation is None or construct not in (N.SA_RELATIONSHIP, _MAPPED_COLUMN)
                    or index.is_classvar(field.annotation, field.stmt)
                    or _is_mapped_annotation(index, field.annotation, field.stmt)
                    or string_union(field.annotation) is not None):
                continue
            finding = self._legacy_annotation(module, model, field, construct.rsplit(".", 1)[1])
            if finding is not None:
                yield finding

    @staticmethod
    def _judges_annotations(index: ModelIndex, model: ModelClass) -> bool:
        if not (model.table and model.complete):
            return False
        base = model.declarative_base
        if isinstance(base, ast.Call) and "cls" in keywords(base):
            return False
        allow = index.class_value(model, "__allow_unmapped__")
        return allow is None or (isinstance(allow, ast.Constant) and not allow.value)

    def _legacy_annotation(self, module: ModuleContext, model: ModelClass, field: ModelField,
                           construct: str) -> Optional[Finding]:
        sa = module.project.sqlalchemy_version
        if sa is not None and sa < K.SA_2_0:
            return None
        assert field.annotation is not None and field.value is not None
        annotation = _source(module, field.annotation)
        mapped = annotation[1:-1] if isinstance(field.annotation, ast.Constant) else annotation
        error = (f"ArgumentError \"Type annotation for \\\"{model.name}.{field.name}\\\" can't be "
                 f"correctly interpreted for Annotated Declarative Table form.\"")
        if sa is None:
            severity = Severity.WARNING
            effect = (f"SQLAlchemy >= 2.0 raises {error} when the class is created; SQLAlchemy is "
                      f"not installed in the project's interpreter (1.4 ignores annotations)")
        else:
            severity = self.severity_at(module, field.stmt)
            effect = (f"{module.project.environment.describe('SQLAlchemy')} raises {error} when "
                      f"the class is created")
        return self.report(
            module, field.stmt,
            f"{model.name}.{field.name}: {construct}() annotated as {annotation}, not Mapped[...]",
            f"SQLAlchemy 2 reads the annotations of declarative classes and requires Mapped[] "
            f"around the type of a mapped attribute: {effect}.",
            f"Write `{field.name}: Mapped[{mapped}] = {_source(module, field.value)}` (`from "
            f"sqlalchemy.orm import Mapped`), or set `__allow_unmapped__ = True` on the Base while "
            f"migrating 1.x models.",
            severity=severity,
        )
