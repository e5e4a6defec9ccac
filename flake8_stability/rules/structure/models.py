"""How the modules that define table models depend on each other: SBA607."""
from __future__ import annotations

from typing import Dict, Iterator, List, Tuple

from ...findings import Category, Finding, Location, Severity
from ...project.model import ModuleInfo, ProjectModel
from ...project.summary import ImportRecord
from ...project.tables import loaded_modules, table_modules
from ..base import Invalid, ProjectRule, Valid

_Edges = Dict[str, Dict[str, ImportRecord]]


def _edges(model: ProjectModel, names: List[str]) -> _Edges:
    """Table module -> the other table modules it imports at module level (first import)."""
    wanted = set(names)
    edges: _Edges = {}
    for name in names:
        info = model.modules[name]
        assert info.summary is not None
        for record in info.summary.imports:
            if not record.runs_at_import:
                continue
            for target in sorted(loaded_modules(model, info, record) & wanted - {name}):
                edges.setdefault(name, {}).setdefault(target, record)
    return edges


def _where(info: ModuleInfo, record: ImportRecord, text: str) -> Location:
    return Location(str(info.path), record.line, record.col, text)


class ModelModulesImportEachOther(ProjectRule):
    code = "SBA607"
    name = "model-modules-import-each-other"
    severity = Severity.WARNING
    category = Category.STRUCTURE
    versions = "Any Python version."
    summary = "two modules that define table models import each other at module level"
    references = ("S01", "S02")
    what = ("Two modules that both define table models (`table=True` SQLModel classes or "
            "SQLAlchemy declarative classes) import each other at module level, typically so that "
            "each side of a relationship can name the other class. Imports inside functions and "
            "under `if TYPE_CHECKING:` do not count.")
    why = ("Even when it works today, the pair only imports because of statement order: moving "
           "one import above a class definition, or importing the other module first, turns it "
           "into `ImportError: cannot import name 'Hero' from partially initialized module "
           "'app.models.hero' (most likely due to a circular import)` at boot. The usual "
           "cure, dropping one import, then leaves a string target that fails on first use "
           "with `sqlalchemy.exc.InvalidRequestError: When initializing mapper "
           "Mapper[Hero(hero)], expression 'Team' failed to locate a name ('Team')` unless "
           "every model module is imported somewhere at run time.")
    how_to_fix = ("Import the other model under `if TYPE_CHECKING:` only and write the "
                  "relationship annotation as a string (`list[\"Team\"]`, "
                  "`Optional[\"Hero\"]`); then make `models/__init__.py` import every model "
                  "module, and import that package at startup so that all mappers are "
                  "registered before the first query.")
    fix_safety = ("Safe when the imported names are only used in annotations and relationship "
                  "targets; code that uses the other class at import time needs it moved into "
                  "a function.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                import app.models  # noqa: F401  (registers every table)

                app = FastAPI()
            ''',
            "app/models/__init__.py": '''
                from app.models.hero import Hero
                from app.models.team import Team

                __all__ = ["Hero", "Team"]
            ''',
            "app/models/hero.py": '''
                from typing import TYPE_CHECKING, Optional

                from sqlmodel import Field, Relationship, SQLModel

                if TYPE_CHECKING:
                    from app.models.team import Team

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                    team: Optional["Team"] = Relationship(back_populates="heroes")
            ''',
            "app/models/team.py": '''
                from typing import TYPE_CHECKING, List, Optional

                from sqlmodel import Field, Relationship, SQLModel

                if TYPE_CHECKING:
                    from app.models.hero import Hero

                class Team(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    heroes: List["Hero"] = Relationship(back_populates="team")
            ''',
        }, note="TYPE_CHECKING imports on both sides, one package importing all models"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.models.hero import Hero  # noqa: F401

                app = FastAPI()
            ''',
            "app/models/__init__.py": "",
            "app/models/base.py": '''
                from sqlalchemy.orm import DeclarativeBase

                class Base(DeclarativeBase):
                    pass
            ''',
            "app/models/team.py": '''
                from sqlalchemy.orm import Mapped, mapped_column

                from app.models.base import Base

                class Team(Base):
                    __tablename__ = "team"
                    id: Mapped[int] = mapped_column(primary_key=True)
            ''',
            "app/models/hero.py": '''
                from sqlalchemy import ForeignKey
                from sqlalchemy.orm import Mapped, mapped_column, relationship

                from app.models.base import Base
                from app.models.team import Team

                class Hero(Base):
                    __tablename__ = "hero"
                    id: Mapped[int] = mapped_column(primary_key=True)
                    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
                    team: Mapped[Team] = relationship()

                    def team_name(self) -> str:
                        from app.models.team import Team
                        return Team.__name__
            ''',
        }, note="a one-way import and a deferred one are no mutual imports"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.models.hero import Hero  # noqa: F401

                app = FastAPI()
            ''',
            "app/models/__init__.py": "",
            "app/models/hero.py": '''
                from typing import Optional

                from sqlmodel import Field, Relationship, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                    team: Optional["Team"] = Relationship(back_populates="heroes")

                from app.models.team import Team  # expect: SBA607
            ''',
            "app/models/team.py": '''
                from typing import List, Optional

                from sqlmodel import Field, Relationship, SQLModel

                from app.models.hero import Hero  # expect: SBA607

                class Team(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    heroes: List[Hero] = Relationship(back_populates="team")
            ''',
        }, note="works today only because hero.py imports team.py after defining Hero"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app import models  # noqa: F401

                app = FastAPI()
            ''',
            "app/models/__init__.py": '''
                from . import hero, team  # noqa: F401
            ''',
            "app/models/hero.py": '''
                from typing import Optional

                from sqlmodel import Field, Relationship, SQLModel

                from . import team  # expect: SBA607

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                    team: Optional["Team"] = Relationship(back_populates="heroes")

                    def team_class(self) -> type:
                        return team.Team
            ''',
            "app/models/team.py": '''
                from typing import List, Optional

                from sqlmodel import Field, Relationship, SQLModel

                from . import hero  # expect: SBA607

                class Team(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    heroes: List["Hero"] = Relationship(back_populates="team")

                    def hero_class(self) -> type:
                        return hero.Hero
            ''',
        }, note="module imports (`from . import team`) on both sides"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        names = sorted(table_modules(model))
        edges = _edges(model, names)
        for first in names:
            for second, record in sorted(edges.get(first, {}).items()):
                back = edges.get(second, {}).get(first)
                if back is not None:
                    yield self._finding(model, (first, record), (second, back))

    def _finding(self, model: ProjectModel, here: Tuple[str, ImportRecord],
                 there: Tuple[str, ImportRecord]) -> Finding:
        info, other = model.modules[here[0]], model.modules[there[0]]
        tables = ", ".join(m.name for m in table_modules(model)[there[0]])
        return self.report_in(
            info, here[1].node,
            f"model modules import each other: {info.name} imports {other.name} here, and "
            f"{other.name} imports {info.name} at line {there[1].line}",
            f"Both modules define tables ({other.name} defines {tables}) and each imports the "
            f"other at module level, so whichever is imported first is still half-built when "
            f"the other runs: it only works while every name is bound above the import that "
            f"closes the loop.",
            f"In {info.name}, import {other.name} under `if TYPE_CHECKING:` and write its "
            f"classes as string annotations / relationship targets; import every model module "
            f"in the models package's __init__.py and import that package at startup.",
            related=(_where(other, there[1], f"{other.name} imports {info.name}"),),
        )
