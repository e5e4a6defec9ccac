"""SBA318-SBA322 beyond the documented examples: healthy and broken projects through real flake8
(several files per run, the installed sqlmodel 0.0.50 / SQLAlchemy 2.1.9 / pydantic 2.14), and
the version boundaries in process, with the installed distributions replaced."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from flake8_runner import run_flake8

from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.environment import Environment
from flake8_stability.findings import Finding
from flake8_stability.rules import rule_for

CODES = ("SBA318", "SBA319", "SBA320", "SBA321", "SBA322")
SA20 = {"sqlmodel": "0.0.50", "pydantic": "2.14.4", "sqlalchemy": "2.0.44"}
OLD_PYDANTIC1 = {"sqlmodel": "0.0.10", "pydantic": "1.10.27", "sqlalchemy": "1.4.54"}
NOTHING: Dict[str, str] = {}


def _code(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


def _ours(run, path: str) -> List[Tuple[str, int, str]]:
    """(code, line, severity) of this module's findings in one file."""
    return sorted((r.code, r.line, r.text.rsplit("[", 1)[1].rstrip("]"))
                  for r in run.results if r.code in CODES and r.path.endswith("/" + path))


def findings(source: str, code: str, versions: Dict[str, str]) -> List[Finding]:
    """One rule in process, with the given distributions installed."""
    text = _code(source)
    project = ProjectContext(Path.cwd())
    environment = Environment(python="3.11.7", distributions=dict(versions))
    project.environment = environment  # type: ignore[misc]
    module = ModuleContext("snippet.py", text.splitlines(True), ast.parse(text), project)
    return list(rule_for(code)().check_module(module))


def reported(source: str, code: str, versions: Dict[str, str]) -> List[Tuple[int, str]]:
    return [(f.line, f.severity.value) for f in findings(source, code, versions)]


# -- healthy projects: nothing reported ------------------------------------------------------------
ASYNC_APP = {
    "app/__init__.py": "",
    "app/db.py": _code('''
        from typing import Annotated, AsyncIterator

        from fastapi import Depends
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel import SQLModel
        from sqlmodel.ext.asyncio.session import AsyncSession

        engine = create_async_engine("sqlite+aiosqlite:///./app.db")
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

        async def init_db() -> None:
            from app import models  # noqa: F401  deferred: registers the tables

            async with engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)

        async def get_session() -> AsyncIterator[AsyncSession]:
            async with SessionLocal() as session:
                yield session

        SessionDep = Annotated[AsyncSession, Depends(get_session)]
    '''),
    "app/models/__init__.py": "from .hero import Hero, HeroCreate\nfrom .team import Team\n",
    "app/models/team.py": _code('''
        from typing import TYPE_CHECKING, List, Optional

        from sqlmodel import Field, Relationship, SQLModel

        if TYPE_CHECKING:
            from .hero import Hero

        class Team(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            name: str = Field(index=True, unique=True)
            heroes: List["Hero"] = Relationship(back_populates="team", cascade_delete=True)
    '''),
    "app/models/hero.py": _code('''
        import enum
        import uuid
        from datetime import datetime, timezone
        from typing import TYPE_CHECKING, Any, ClassVar, Dict, Optional

        import sqlalchemy as sa
        from pydantic import ConfigDict, EmailStr, HttpUrl
        from sqlmodel import Field, Relationship, SQLModel

        if TYPE_CHECKING:
            from .team import Team

        class Power(str, enum.Enum):
            strength = "strength"
            flight = "flight"

        class HeroBase(SQLModel):
            name: str = Field(index=True)
            email: EmailStr
            power: Power = Power.strength
            team_id: Optional[uuid.UUID] = Field(
                default=None, foreign_key="team.id", ondelete="SET NULL"
            )

        class Hero(HeroBase, table=True):
            id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
            created_at: datetime = Field(
                default_factory=lambda: datetime.now(timezone.utc),
                sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False),
            )
            extra: Dict[str, Any] = Field(
                default_factory=dict, sa_column=sa.Column("metadata", sa.JSON)
            )
            tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
            team: Optional["Team"] = Relationship(back_populates="heroes")
            table_comment: ClassVar[str] = "heroes of the app"
            _cache: Dict[str, Any] = {}

        class HeroCreate(HeroBase):
            homepage: Optional[HttpUrl] = None
            metadata: Dict[str, Any] = {}
            skills: list[str] = []

        class HeroPage(SQLModel):
            model_config = ConfigDict(from_attributes=True)
            items: list[HeroCreate]
            registry: Optional[str] = None
    '''),
    "app/settings.py": _code('''
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_file=".env")
            database_url: str = "sqlite+aiosqlite:///./app.db"
            cors_origins: list[str] = ["http://localhost:3000"]
            feature_flags: dict = {}

        settings = Settings()
    '''),
}

SYNC_AND_DECLARATIVE_APP = {
    "sync_app/__init__.py": "",
    "sync_app/db.py": _code('''
        from sqlmodel import Session, SQLModel, create_engine

        engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

        def create_db() -> None:
            SQLModel.metadata.create_all(engine)

        def get_session():
            with Session(engine) as session:
                yield session
    '''),
    "sync_app/models.py": _code('''
        from __future__ import annotations

        from typing import Optional

        import sqlmodel as sm
        from sqlalchemy import PrimaryKeyConstraint
        from sqlalchemy.orm import relationship

        from sync_app.base import TimestampedModel

        class Tenant(sm.SQLModel, table=True):
            id: int | None = sm.Field(default=None, primary_key=True)
            name: str | None = None
            owner: Owner = sm.Relationship()
            users: list[User] = sm.Relationship(sa_relationship=relationship("User"))

        class Owner(sm.SQLModel, table=True):
            id: Optional[int] = sm.Field(default=None, primary_key=True)

        class User(sm.SQLModel, table=True):
            __table_args__ = (PrimaryKeyConstraint("tenant_id", "login"),)
            tenant_id: int = sm.Field(foreign_key="tenant.id")
            login: str

        class ApiKey(sm.SQLModel, table=True):
            key: str = sm.Field(sa_column_kwargs={"primary_key": True})

        class Invoice(TimestampedModel, table=True):
            number: str

        KEY_OPTIONS = {"primary_key": True}

        class Coupon(sm.SQLModel, table=True):
            code: str = sm.Field(**KEY_OPTIONS)
    '''),
    "orm/__init__.py": "",
    "orm/models.py": _code('''
        from typing import ClassVar, List, Optional

        import sqlalchemy as sa
        from sqlalchemy import ForeignKey, MetaData
        from sqlalchemy.ext.asyncio import AsyncAttrs
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship

        class Base(AsyncAttrs, DeclarativeBase):
            metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})

        class Timestamped(Base):
            __abstract__ = True
            created: Mapped[int] = mapped_column(default=0)

        class User(Timestamped):
            __tablename__ = "user"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: str = "anonymous"
            legacy_id: int = sa.Column(sa.Integer)
            kind: ClassVar[str] = "user"
            extra: Mapped[dict] = mapped_column("metadata", sa.JSON)
            posts: Mapped[List["Post"]] = relationship(back_populates="author")

        class Post(Timestamped):
            __tablename__ = "post"
            id: Mapped[int] = mapped_column(primary_key=True)
            author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
            author: "Mapped[Optional[User]]" = relationship(back_populates="posts")

        class LegacyBase(DeclarativeBase):
            __allow_unmapped__ = True
            registry = registry()

        class Account(LegacyBase):
            __tablename__ = "account"
            id = sa.Column(sa.Integer, primary_key=True)
            orders: List["Order"] = relationship("Order")

        class Order(LegacyBase):
            __tablename__ = "order"
            id = sa.Column(sa.Integer, primary_key=True)
            account_id = sa.Column(ForeignKey("account.id"))

        mapper_registry = registry()

        @mapper_registry.mapped
        class Audit:
            __tablename__ = "audit"
            id: Mapped[int] = mapped_column(primary_key=True)
    '''),
    "orm/imported.py": _code('''
        from typing import List

        from sqlalchemy.orm import relationship

        from orm.base import Base

        class Shop(Base):
            __tablename__ = "shop"
            items: List["Item"] = relationship("Item")
    '''),
}


def test_healthy_async_sqlmodel_app_is_silent(lint) -> None:
    run = lint(ASYNC_APP)
    assert "internal error" not in run.stderr, run.stderr
    assert [r for r in run.results if r.code in CODES] == []


def test_healthy_sync_and_declarative_apps_are_silent(lint) -> None:
    run = lint(SYNC_AND_DECLARATIVE_APP)
    assert "internal error" not in run.stderr, run.stderr
    assert [r for r in run.results if r.code in CODES] == []


# -- broken models through flake8 ------------------------------------------------------------------
BROKEN = {
    "types.py": _code('''
        import typing as t
        from typing import Any, List, Optional, Sequence

        from pydantic import SecretStr
        from sqlmodel import Field, SQLModel

        class Sample(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            values: List[int] = Field(default_factory=list)
            labels: set[str] = set()
            raw: Any = None
            options: Optional[dict] = None
            history: t.Dict[str, int] = {}
            steps: Sequence[str] = ()
            password: SecretStr
            owner: "Owner"

        class Owner(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)

        def make_model():
            class Late(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                data: dict = {}
            return Late
    '''),
    "keys.py": _code('''
        from typing import Optional

        from sqlmodel import Field, SQLModel

        class Mixin:
            note: str = ""

        class Tag(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=False)
            label: str

        class Label(Mixin, SQLModel, table=True):
            text: str

        def factory():
            class Temp(SQLModel, table=True):
                name: str
            return Temp
    '''),
    "conflicts.py": _code('''
        from typing import Optional

        import sqlmodel
        from sqlalchemy import Column, Integer, String

        class Member(sqlmodel.SQLModel, table=True):
            id: Optional[int] = sqlmodel.Field(default=None, primary_key=True)
            email: str = sqlmodel.Field(sa_column=Column(String(255)), unique=True, index=True)
            fk: int = sqlmodel.Field(sa_column=Column(Integer), foreign_key="t.id", ondelete="SET")
            code: str = sqlmodel.Field(sa_column=Column(String), sa_type=String)
            slug: str = sqlmodel.Field(sa_column=Column(String), sa_column_kwargs={"unique": True})

        def late_field():
            return sqlmodel.Field(sa_column=Column(Integer), nullable=True)
    '''),
    "reserved.py": _code('''
        from typing import Optional

        from sqlalchemy import JSON, Column, Integer, String
        from sqlalchemy.orm import declarative_base
        from sqlmodel import Field, SQLModel

        Base = declarative_base()

        class Doc(Base):
            __tablename__ = "doc"
            id = Column(Integer, primary_key=True)
            metadata = Column(JSON)
            registry = Column(String)

        class Page(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            registry: str = ""
    '''),
    "relations.py": _code('''
        from typing import List, Optional

        from sqlalchemy import Column, ForeignKey, Integer
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
        from sqlmodel import Field, Relationship, SQLModel

        class Team(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            members: "list[Member]" = Relationship(back_populates="team")

        class Member(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            team_id: Optional[int] = Field(default=None, foreign_key="team.id")
            team: "Team | None" = Relationship(back_populates="members")
            mentor: "Team" = Relationship()

        class MemberRead(SQLModel):
            nickname: None | "str" = None

        class Base(DeclarativeBase):
            pass

        class Author(Base):
            __tablename__ = "author"
            id = Column(Integer, primary_key=True)
            name: str = mapped_column()
            books: list["Book"] = relationship(back_populates="author")
            editor: Mapped["Author" | None] = relationship()

        class Book(Base):
            __tablename__ = "book"
            id: Mapped[int] = mapped_column(primary_key=True)
            author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
            author: Mapped[Author] = relationship(back_populates="books")
    '''),
    "future_relations.py": _code('''
        from __future__ import annotations

        from typing import Optional

        from sqlmodel import Field, Relationship, SQLModel

        class Club(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            captain: Optional[Player] = Relationship()
            players: list[Player] = Relationship(back_populates="club")
            coach: "Player" | None = Relationship()
            motto: "str" | None = None

        class Player(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            club_id: Optional[int] = Field(default=None, foreign_key="club.id")
            club: Club = Relationship(back_populates="players")
            rival: "Club" = Relationship()
    '''),
}


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken_models")
    (root / "pyproject.toml").write_text("[project]\nname = 'broken'\n")
    for name, source in BROKEN.items():
        (root / name).write_text(source)
    run = run_flake8(["."], cwd=root)
    assert "internal error" not in run.stderr, run.stderr
    return run


def test_sba318_unmapped_types(broken_run) -> None:
    assert _ours(broken_run, "types.py") == [
        ("SBA318", 9, "blocking"), ("SBA318", 10, "blocking"), ("SBA318", 11, "blocking"),
        ("SBA318", 12, "blocking"), ("SBA318", 13, "blocking"), ("SBA318", 14, "blocking"),
        ("SBA318", 15, "blocking"), ("SBA318", 16, "blocking"),
        ("SBA318", 24, "runtime"),
    ]


def test_sba319_missing_keys(broken_run) -> None:
    assert _ours(broken_run, "keys.py") == [
        ("SBA319", 8, "blocking"), ("SBA319", 12, "blocking"), ("SBA319", 16, "runtime"),
    ]


def test_sba320_conflicts(broken_run) -> None:
    assert _ours(broken_run, "conflicts.py") == [
        ("SBA320", 8, "blocking"), ("SBA320", 9, "blocking"), ("SBA320", 10, "blocking"),
        ("SBA320", 11, "blocking"), ("SBA320", 14, "runtime"),
    ]


def test_sba321_on_sqlalchemy_2_1(broken_run) -> None:
    # SQLAlchemy 2.1.9 only warns for declarative classes; `registry` never fails.
    assert _ours(broken_run, "reserved.py") == [
        ("SBA321", 12, "warning"), ("SBA321", 13, "warning"), ("SBA321", 17, "warning"),
    ]


def test_sba322_relationship_annotations(broken_run) -> None:
    assert _ours(broken_run, "relations.py") == [
        ("SBA322", 9, "runtime"), ("SBA322", 14, "runtime"), ("SBA322", 18, "blocking"),
        ("SBA322", 26, "blocking"), ("SBA322", 27, "blocking"), ("SBA322", 28, "blocking"),
    ]


def test_sba322_future_annotations(broken_run) -> None:
    # String targets fail when the mappers are configured; pydantic evaluates the plain field.
    assert _ours(broken_run, "future_relations.py") == [
        ("SBA322", 9, "runtime"), ("SBA322", 10, "runtime"), ("SBA322", 11, "runtime"),
        ("SBA322", 12, "blocking"), ("SBA322", 18, "runtime"),
    ]


def test_messages_name_the_thing_and_the_fix(broken_run) -> None:
    texts = {(r.path.rsplit("/", 1)[1], r.line): r.text for r in broken_run.results}
    assert texts[("types.py", 15)].startswith("Sample.password: SecretStr has no matching")
    assert texts[("conflicts.py", 8)] == "Field() given sa_column= and unique, index [blocking]"
    assert texts[("relations.py", 14)].startswith(
        "Member.team: relationship annotation is the string 'Team | None' at run time")
    assert texts[("future_relations.py", 18)].startswith(
        "Player.rival: relationship annotation is the string \"'Club'\" at run time")
    assert texts[("future_relations.py", 11)].startswith(
        "Club.coach: relationship annotation is the string \"'Player' | None\" at run time")


# -- version boundaries, in process ----------------------------------------------------------------
def test_sba318_pydantic_types_by_version() -> None:
    source = '''
        from typing import Optional
        from pydantic import AnyHttpUrl, EmailStr
        from sqlmodel import Field, SQLModel

        class Site(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            url: AnyHttpUrl
            contact: EmailStr
    '''
    assert reported(source, "SBA318", SA20) == [(7, "blocking")]
    assert reported(source, "SBA318", OLD_PYDANTIC1) == []
    assert reported(source, "SBA318", {"sqlmodel": "0.0.18", "pydantic": "2.7.4"}) == [
        (7, "blocking"), (8, "blocking")]
    fixed_email = {"sqlmodel": "0.0.19", "pydantic": "2.7.4"}
    assert reported(source, "SBA318", fixed_email) == [(7, "blocking")]
    assert reported(source, "SBA318", NOTHING) == [(7, "warning")]


def test_sba318_fix_names_the_relationship() -> None:
    found = findings('''
        from typing import Optional
        from sqlmodel import Field, SQLModel

        class Team(SQLModel, table=True):
            __tablename__ = "teams"
            id: Optional[int] = Field(default=None, primary_key=True)

        class Hero(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            team: Team
    ''', "SBA318", SA20)
    assert len(found) == 1
    assert 'foreign_key="teams.id"' in found[0].fix.description
    assert "Relationship()" in found[0].fix.description


ANNOTATED_KEY = '''
    from typing import Annotated, Optional
    from sqlmodel import Field, SQLModel

    IntPK = Annotated[int, Field(primary_key=True)]

    class Hero(SQLModel, table=True):
        id: Annotated[Optional[int], Field(primary_key=True)] = None
        name: str

    class Villain(SQLModel, table=True):
        id: IntPK
'''


@pytest.mark.parametrize("versions,expected", [
    ({"sqlmodel": "0.0.31", "pydantic": "2.12.5"}, [(6, "blocking"), (10, "blocking")]),
    ({"sqlmodel": "0.0.31", "pydantic": "2.11.10"}, []),
    ({"sqlmodel": "0.0.32", "pydantic": "2.12.5"}, []),
    (SA20, []),
    (NOTHING, [(6, "warning"), (10, "warning")]),
])
def test_sba319_annotated_key_by_version(versions, expected) -> None:
    assert reported(ANNOTATED_KEY, "SBA319", versions) == expected


def test_sba319_annotated_key_message_names_the_versions() -> None:
    found = findings(ANNOTATED_KEY, "SBA319", {"sqlmodel": "0.0.31", "pydantic": "2.12.5"})[0]
    assert "sqlmodel 0.0.31 with pydantic 2.12.5 ignores" in found.root_cause
    assert "sqlmodel to >= 0.0.32" in found.fix.description


def test_sba319_silent_when_a_key_may_be_hidden() -> None:
    source = '''
        from typing import Optional
        from sqlmodel import Field, SQLModel
        from app.types import IntPK
        from app.mixins import AuditMixin

        class A(SQLModel, table=True):
            id: IntPK

        class B(SQLModel, AuditMixin, table=True):
            name: str

        class C(SQLModel, table=True):
            __mapper_args__ = {"primary_key": ["name"]}
            name: str

        class D(SQLModel, table=True):
            id: int = Field(sa_column=make_column())
    '''
    assert reported(source, "SBA319", SA20) == []


def test_sba320_by_sqlmodel_version() -> None:
    source = '''
        from sqlmodel import Field, Column, Integer

        a = Field(sa_column=Column(Integer), index=True)
        b = Field(sa_column=Column(Integer), sa_column_kwargs={"comment": "x"})
        c = Field(sa_column=Column(Integer), sa_type=Integer)
        d = Field(sa_column=Column(Integer), foreign_key="t.id", ondelete="CASCADE")
    '''
    everything = [(3, "blocking"), (4, "blocking"), (5, "blocking"), (6, "blocking")]
    assert reported(source, "SBA320", SA20) == everything
    # 0.0.10 ignores index and foreign_key, has no sa_type (a TypeError of its own) nor ondelete.
    assert reported(source, "SBA320", OLD_PYDANTIC1) == [
        (3, "warning"), (4, "blocking"), (6, "warning")]
    assert reported(source, "SBA320", {"sqlmodel": "0.0.19"}) == everything
    assert reported(source, "SBA320", NOTHING) == [
        (3, "warning"), (4, "blocking"), (5, "warning"), (6, "warning")]


def test_sba320_fix_builds_the_column() -> None:
    found = findings('''
        from sqlmodel import Field, Column, Integer

        team_id: int = Field(sa_column=Column(Integer), foreign_key="team.id", ondelete="CASCADE",
                             index=True)
    ''', "SBA320", SA20)[0]
    assert "Passing foreign_key is not supported" in found.root_cause
    assert ("`sa_column=Column(Integer, ForeignKey('team.id', ondelete='CASCADE'), index=True)`"
            in found.fix.description)


RESERVED = '''
    from typing import Optional
    from sqlalchemy import JSON, Column, Integer, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
    from sqlmodel import Field, SQLModel

    class Base(DeclarativeBase):
        pass

    class Doc(Base):
        __tablename__ = "doc"
        id: Mapped[int] = mapped_column(primary_key=True)
        metadata: Mapped[dict] = mapped_column(JSON)
        registry: Mapped[str] = mapped_column(String)

    class Page(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        metadata: Optional[str] = None

    class PageRead(SQLModel):
        metadata: Optional[str] = None
'''


@pytest.mark.parametrize("versions,expected", [
    (SA20, [(12, "blocking"), (17, "blocking")]),
    ({"sqlmodel": "0.0.50", "pydantic": "2.14.4", "sqlalchemy": "2.1.0b2"},
     [(12, "blocking"), (17, "blocking")]),
    ({"sqlmodel": "0.0.50", "pydantic": "2.14.4", "sqlalchemy": "2.1.9"},
     [(12, "warning"), (13, "warning"), (17, "runtime")]),
    # pydantic 1 refuses the field on every SQLModel class, table or not.
    (OLD_PYDANTIC1, [(12, "blocking"), (17, "blocking"), (20, "blocking")]),
    (NOTHING, [(12, "warning"), (17, "runtime")]),
])
def test_sba321_by_version(versions, expected) -> None:
    assert reported(RESERVED, "SBA321", versions) == expected


def test_sba321_texts_follow_the_version() -> None:
    old = findings(RESERVED, "SBA321", OLD_PYDANTIC1)
    assert ("reserved for the MetaData instance when using a declarative base class"
            in old[0].root_cause)
    assert 'Field name \\"metadata\\" shadows a BaseModel attribute' in old[2].root_cause
    new = findings(RESERVED, "SBA321", SA20)
    assert "is reserved when using the Declarative API." in new[0].root_cause
    assert new[0].fix.codemod == "rename-reserved-attribute"
    assert "`meta: Mapped[dict] = mapped_column('metadata', JSON)`" in new[0].fix.description


def test_sba321_relationship_named_metadata() -> None:
    source = '''
        from typing import Optional
        from sqlmodel import Field, Relationship, SQLModel

        class Hero(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            metadata: list["Note"] = Relationship()
    '''
    # A relationship is no pydantic field: SQLAlchemy 2.1 only warns, and instances work.
    assert reported(source, "SBA321", SA20) == [(6, "blocking")]
    sa21 = {"sqlalchemy": "2.1.9", "pydantic": "2.14.4"}
    assert reported(source, "SBA321", sa21) == [(6, "warning")]


def test_sba321_registry_mapped_and_abstract_classes() -> None:
    source = '''
        from sqlalchemy import JSON, Column, Integer
        from sqlalchemy.orm import DeclarativeBase, registry

        reg = registry()

        @reg.mapped
        class Doc:
            __tablename__ = "doc"
            id = Column(Integer, primary_key=True)
            metadata = Column(JSON)

        class Base(DeclarativeBase):
            pass

        class Abstract(Base):
            __abstract__ = True
            metadata = Column(JSON)
    '''
    assert reported(source, "SBA321", SA20) == [(10, "blocking")]


LEGACY = '''
    from typing import List
    from sqlalchemy import Column, ForeignKey, Integer
    from sqlalchemy.orm import declarative_base, relationship

    Base = declarative_base()

    class User(Base):
        __tablename__ = "user"
        id = Column(Integer, primary_key=True)
        posts: List["Post"] = relationship("Post")

    class Post(Base):
        __tablename__ = "post"
        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey("user.id"))
'''


@pytest.mark.parametrize("versions,expected", [
    (SA20, [(10, "blocking")]),
    ({"sqlalchemy": "1.4.54"}, []),
    (NOTHING, [(10, "warning")]),
])
def test_sba322_legacy_annotations_by_version(versions, expected) -> None:
    assert reported(LEGACY, "SBA322", versions) == expected


def test_sba322_legacy_annotations_allowed_or_unknown() -> None:
    allowed = LEGACY.replace("Base = declarative_base()",
                             "class _Legacy:\n        __allow_unmapped__ = True\n\n    "
                             "Base = declarative_base(cls=_Legacy)")
    assert reported(allowed, "SBA322", SA20) == []
    own_flag = LEGACY.replace('__tablename__ = "user"',
                              '__tablename__ = "user"\n        __allow_unmapped__ = True')
    assert reported(own_flag, "SBA322", SA20) == []


def test_sba322_lowercase_list_on_old_pydantic() -> None:
    source = '''
        from typing import List, Optional
        from sqlmodel import Field, Relationship, SQLModel

        class Team(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            heroes: list["Hero"] = Relationship(back_populates="team")
            sidekicks: List["Hero"] = Relationship()
    '''
    assert reported(source, "SBA322", {"pydantic": "1.9.0"}) == [(6, "blocking")]
    assert reported(source, "SBA322", {"pydantic": "1.9.1"}) == []
    assert reported(source, "SBA322", NOTHING) == []


def test_sba322_string_target_texts_follow_the_version() -> None:
    source = '''
        from typing import Optional
        from sqlmodel import Field, Relationship, SQLModel

        class Team(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            heroes: "list[Hero]" = Relationship()
    '''
    new = findings(source, "SBA322", SA20)[0]
    assert "seems to be using a generic class" in new.root_cause
    assert 'Write `heroes: list["Hero"] = Relationship(...)`.' == new.fix.description
    old = findings(source, "SBA322", OLD_PYDANTIC1)[0]
    assert "failed to locate a name ('list[Hero]')" in old.root_cause


def test_unknown_bases() -> None:
    source = '''
        from typing import Optional
        from sqlmodel import Field, SQLModel
        from app.base import Base
        from app.mixins import SoftDelete

        class Thing(Base, table=True):
            data: dict = {}

        class Row(SQLModel, SoftDelete, table=True):
            payload: dict = {}
    '''
    # Thing's model base is unknown: not judged. Row is a table model whatever SoftDelete holds:
    # its own dict field fails, but the mixin may declare the key.
    assert reported(source, "SBA318", SA20) == [(10, "blocking")]
    assert reported(source, "SBA319", SA20) == []
