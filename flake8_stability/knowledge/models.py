"""What SQLModel and SQLAlchemy accept in model classes, by version.

Every boundary below was reproduced by defining the model with the real libraries:
sqlmodel 0.0.8 (pydantic 1.8.2-1.10.0, SQLAlchemy 1.4.41), 0.0.10 / 0.0.11 (pydantic 1.10.27,
SQLAlchemy 1.4.54), 0.0.18 / 0.0.19 / 0.0.21 (pydantic 2.7.4, SQLAlchemy 2.0.44), 0.0.31 / 0.0.32
(pydantic 2.11.10 and 2.12.5, SQLAlchemy 2.0.44), 0.0.50 (pydantic 2.14.4, SQLAlchemy 2.0.44 and
2.1.9), and SQLAlchemy 2.0.0, 2.0.58, 2.1.0b1-b3 and 2.1.0 for the declarative checks.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Optional

from packaging.version import Version

from . import dialects
from . import names as N

SQLMODEL_0_0_11 = Version("0.0.11")
SQLMODEL_0_0_19 = Version("0.0.19")
SQLMODEL_0_0_21 = Version("0.0.21")
SQLMODEL_0_0_32 = Version("0.0.32")
PYDANTIC_1_9_1 = Version("1.9.1")
PYDANTIC_2 = Version("2.0.0")
PYDANTIC_2_12 = Version("2.12.0")
SA_2_0 = dialects.SA_2_0
# SQLAlchemy 2.1.0b3 turned the declarative "metadata is reserved" error into a warning
# (2.1.0b2 and 2.0.58 still raise).
SA_METADATA_WARNS = Version("2.1.0b3")

# -- SBA318: annotations SQLModel cannot map to a column --------------------------------------
# Containers and Any, bare or parametrised (also inside Optional[...]): "ValueError: <class
# 'dict'> has no matching SQLAlchemy type" (sqlmodel < 0.0.14: "The field tags has no matching
# SQLAlchemy type") on every version checked.
UNMAPPED_TYPES: FrozenSet[str] = frozenset(
    [f"builtins.{name}" for name in ("dict", "list", "set", "frozenset", "tuple")]
    + [f"typing.{name}" for name in (
        "Dict", "List", "Set", "FrozenSet", "Tuple", "Sequence", "Mapping", "MutableMapping",
        "MutableSequence", "Iterable", "OrderedDict", "Any")]
    + [f"collections.abc.{name}" for name in (
        "Sequence", "Mapping", "MutableMapping", "MutableSequence", "Iterable")]
)
# pydantic types that are no str/bytes subclass on pydantic 1 nor 2.
PYDANTIC_NEVER_MAPPED: FrozenSet[str] = frozenset(
    "pydantic." + name for name in ("SecretStr", "Json", "IPvAnyAddress")
)
# Unmapped on pydantic 2 (URL types subclass str on pydantic 1, so they map there; the others
# were checked on pydantic 2 only).
PYDANTIC_V2_UNMAPPED: FrozenSet[str] = N.PYDANTIC_URL_TYPES | frozenset(
    "pydantic." + name for name in ("SecretBytes", "IPvAnyInterface", "IPvAnyNetwork", "NameEmail")
)
# EmailStr is a plain class on pydantic 2; sqlmodel maps it to AutoString from 0.0.19.
EMAIL_STR = "pydantic.EmailStr"

# -- SBA320: Field() keywords that sqlmodel refuses next to sa_column --------------------------
# In the order Field() checks them (the first one present is the one named in the error).
# keyword -> first sqlmodel version that raises "Passing <kw> is not supported when also passing
# a sa_column" (None: every version checked, back to 0.0.8). Before the version the keyword is
# silently ignored (primary_key ... index) or does not exist yet (sa_type, ondelete).
SA_COLUMN_CONFLICTS: Dict[str, Optional[Version]] = {
    "sa_column_args": None,
    "sa_column_kwargs": None,
    "primary_key": SQLMODEL_0_0_11,
    "nullable": SQLMODEL_0_0_11,
    "foreign_key": SQLMODEL_0_0_11,
    "ondelete": SQLMODEL_0_0_21,
    "unique": SQLMODEL_0_0_11,
    "index": SQLMODEL_0_0_11,
    "sa_type": SQLMODEL_0_0_11,
}
# Keywords that did not exist before their version: Field() rejects them with a TypeError.
SA_COLUMN_KEYWORD_ADDED: Dict[str, Version] = {"sa_type": SQLMODEL_0_0_11,
                                               "ondelete": SQLMODEL_0_0_21}


def sa_column_conflict_raises(keyword: str, sqlmodel: Optional[Version]) -> Optional[bool]:
    """Whether Field(sa_column=..., keyword=...) raises (None: the sqlmodel version is unknown)."""
    since = SA_COLUMN_CONFLICTS[keyword]
    if since is None:
        return True
    if sqlmodel is None:
        return None
    return sqlmodel >= since


# -- SBA319: Field(primary_key=True) inside Annotated[...] ------------------------------------
def annotated_field_ignored(sqlmodel: Optional[Version],
                            pydantic: Optional[Version]) -> Optional[bool]:
    """sqlmodel <= 0.0.31 on pydantic >= 2.12 drops Field() given inside Annotated[...]
    (fixed by sqlmodel 0.0.32). None when either version is unknown."""
    if sqlmodel is not None and sqlmodel >= SQLMODEL_0_0_32:
        return False
    if pydantic is not None and pydantic < PYDANTIC_2_12:
        return False
    if sqlmodel is None or pydantic is None:
        return None
    return True


# -- SBA321: reserved declarative attribute names -------------------------------------------
RESERVED_ATTRIBUTES = ("metadata", "registry")

# -- SBA322: relationship annotations ---------------------------------------------------------
# Declarative classes read annotations (and refuse non-Mapped[] ones) from SQLAlchemy 2.0.
MAPPED_ANNOTATIONS: FrozenSet[str] = frozenset(
    "sqlalchemy.orm." + name for name in ("Mapped", "WriteOnlyMapped", "DynamicMapped")
)
