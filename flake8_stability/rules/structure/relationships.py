"""Relationship targets checked across the whole project: SBA604."""
from __future__ import annotations

import ast
from typing import Dict, FrozenSet, Iterator, List, Optional, Tuple

from ...analysis.models import ModelClass
from ...analysis.relationship_targets import RelationshipTarget, relationship_targets
from ...findings import Category, Finding, Location, Severity
from ...project.import_order import simulate
from ...project.model import ModuleInfo, ProjectModel
from ...project.tables import (class_names, imported_at_run_time, module_contexts,
                               table_modules)
from ..base import Invalid, ProjectRule, Valid

_CONFIGURE = "from sqlalchemy.orm import configure_mappers\nconfigure_mappers()"


def _by_name(model: ProjectModel) -> Dict[str, List[Tuple[str, ModelClass]]]:
    """Table class name -> (module, class) for every table model of the project."""
    found: Dict[str, List[Tuple[str, ModelClass]]] = {}
    for module, tables in table_modules(model).items():
        for table in tables:
            found.setdefault(table.name, []).append((module, table))
    return found


def _booted(model: ProjectModel) -> Optional[FrozenSet[str]]:
    """The project modules importing the ASGI target's module runs; None without a target."""
    target = model.layout.target
    info = model.modules.get(target.module) if target else None
    if info is None or not info.importable or info.summary is None:
        return None
    return frozenset(simulate(model, info).order)


def _loaded(module: str, imported: FrozenSet[str]) -> bool:
    """Whether some run-time import loads `module` (itself, or a star import of its package)."""
    parts = module.split(".")
    return module in imported or any(
        ".".join(parts[:depth]) + ".*" in imported for depth in range(1, len(parts)))


class RelationshipTargetUnknown(ProjectRule):
    code = "SBA604"
    name = "relationship-target-unknown"
    severity = Severity.RUNTIME
    category = Category.STRUCTURE
    versions = "Any SQLAlchemy and sqlmodel version."
    summary = "a relationship names a model class that is not defined or never imported"
    references = ("S02", "A17")
    what = ("Across the whole project, each `Relationship()` / `relationship()` of a table model "
            "names its target class: SQLModel through the annotation (`list[\"Team\"]`, "
            "`Optional[\"Team\"]`), SQLAlchemy through `relationship(\"Team\")` or "
            "`Mapped[list[\"Team\"]]`. Reported: a target that no class of the project is "
            "named (a typo, a renamed model), a `back_populates=` naming an attribute the "
            "target class does not have, and a target whose module is only ever imported under "
            "`if TYPE_CHECKING:` while the app's module imports the relationship's owner.")
    why = ("SQLAlchemy resolves the names when the mappers are configured, at the first query or "
           "the first model instantiation, so the app boots and the first request fails: "
           "`sqlalchemy.exc.InvalidRequestError: When initializing mapper Mapper[Hero(hero)], "
           "expression 'Team' failed to locate a name ('Team'). If this is a class name, "
           "consider adding this relationship() to the <class 'app.models.hero.Hero'> class "
           "after both dependent classes have been defined.`, or for `back_populates`: "
           "`sqlalchemy.exc.InvalidRequestError: Mapper 'Mapper[Team(team)]' has no property "
           "'members'.`")
    how_to_fix = ("Name an existing model class (and an existing attribute in `back_populates`, "
                  "the one pointing back). When the class lives in another module, keep the "
                  "`TYPE_CHECKING` import for the type checker but make sure the module is "
                  "imported at run time: import every model module in `models/__init__.py` and "
                  "import that package when the app starts (and in Alembic's env.py).")
    fix_safety = ("Safe: importing a model module only registers its classes; renaming a target "
                  "to an existing class is what the relationship meant.")
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
        }, note="TYPE_CHECKING imports, and models/__init__.py imports every model module"),
        Valid('''
            from typing import List

            import sqlalchemy as sa
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

            class Base(DeclarativeBase):
                pass

            class Team(Base):
                __tablename__ = "team"
                id: Mapped[int] = mapped_column(primary_key=True)
                heroes: Mapped[List["Hero"]] = relationship(back_populates="team")

            class Hero(Base):
                __tablename__ = "hero"
                id: Mapped[int] = mapped_column(primary_key=True)
                team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"))
                team = relationship("Team", back_populates="heroes")
        '''),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                from app.models.hero import Hero

                app = FastAPI()

                @app.get("/heroes")
                def heroes() -> list:
                    return [Hero(name="x")]
            ''',
            "app/models/__init__.py": "",
            "app/models/hero.py": '''
                from typing import TYPE_CHECKING, Optional

                from sqlmodel import Field, Relationship, SQLModel

                if TYPE_CHECKING:
                    from app.models.team import Team

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    name: str
                    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                    team: Optional["Team"] = Relationship(back_populates="heroes")  # expect: SBA604
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
        }, raises="sqlalchemy.exc.InvalidRequestError: When initializing mapper "
                  "Mapper[Hero(hero)], expression 'Team' failed to locate a name ('Team')",
           run="import app.main\n" + _CONFIGURE,
           note="app.models.team is imported only under TYPE_CHECKING"),
        Invalid('''
            from typing import List

            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

            class Base(DeclarativeBase):
                pass

            class Team(Base):
                __tablename__ = "team"
                id: Mapped[int] = mapped_column(primary_key=True)
                heroes: Mapped[List["Heroes"]] = relationship(back_populates="team")  # expect: SBA604

            class Hero(Base):
                __tablename__ = "hero"
                id: Mapped[int] = mapped_column(primary_key=True)
                team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
                team = relationship("Team", back_populates="heroes")
        ''', raises="sqlalchemy.exc.InvalidRequestError: When initializing mapper "
                    "Mapper[Team(team)], expression 'Heroes' failed to locate a name ('Heroes')",
           run=_CONFIGURE, note="a typo in the target class"),
        Invalid('''
            from typing import List, Optional

            from sqlmodel import Field, Relationship, SQLModel

            class Team(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                heroes: List["Hero"] = Relationship(back_populates="team")

            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                team: Optional[Team] = Relationship(back_populates="members")  # expect: SBA604
        ''', raises="sqlalchemy.exc.InvalidRequestError: Mapper 'Mapper[Team(team)]' has no "
                    "property 'members'.",
           run=_CONFIGURE, note="back_populates names an attribute Team does not have"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        contexts = module_contexts(model)
        tables = _by_name(model)
        booted = _booted(model)
        for name in sorted(table_modules(model)):
            info = model.modules[name]
            for target in relationship_targets(contexts[name]):
                found = self._judge(model, info, target, tables.get(target.target, []), booted)
                if found is not None:
                    yield found

    def _judge(self, model: ProjectModel, info: ModuleInfo, target: RelationshipTarget,
               candidates: List[Tuple[str, ModelClass]],
               booted: Optional[FrozenSet[str]]) -> Optional[Finding]:
        if target.target not in class_names(model):
            bound = info.summary is not None and info.summary.binds(target.target)
            return None if bound else self._undefined(info, target)
        if len(candidates) != 1:
            return None
        module, cls = candidates[0]
        missing = self._missing_back(model, module, cls, target)
        if missing is not None:
            return self._no_attribute(info, target, model.modules[module], cls, missing)
        if booted is not None and info.name in booted and module != info.name \
                and module not in booted and not _loaded(module, imported_at_run_time(model)):
            return self._never_imported(model, info, target, module, cls)
        return None

    @staticmethod
    def _missing_back(model: ProjectModel, module: str, cls: ModelClass,
                      target: RelationshipTarget) -> Optional[Tuple[str, ast.expr]]:
        if target.back_populates is None or not cls.complete:
            return None
        fields = module_contexts(model)[module].models.fields(cls)
        return None if target.back_populates[0] in fields else target.back_populates

    def _owner(self, target: RelationshipTarget) -> str:
        return f"{target.owner.name}.{target.attribute}"

    def _undefined(self, info: ModuleInfo, target: RelationshipTarget) -> Finding:
        return self.report_in(
            info, target.node,
            f"relationship {self._owner(target)} targets {target.target!r}, a class defined "
            f"nowhere in the project",
            f"No class of the project is named {target.target!r} and {info.name} does not "
            f"import one, so configuring the mappers (first query or first instance) raises "
            f"InvalidRequestError: When initializing mapper Mapper[{target.owner.name}(...)], "
            f"expression {target.target!r} failed to locate a name.",
            f"Point {self._owner(target)} at the model class it means (check the spelling of "
            f"{target.target!r}).",
        )

    def _no_attribute(self, info: ModuleInfo, target: RelationshipTarget, module: ModuleInfo,
                      cls: ModelClass, missing: Tuple[str, ast.expr]) -> Finding:
        return self.report_in(
            info, missing[1],
            f"relationship {self._owner(target)} has back_populates={missing[0]!r}, but "
            f"{cls.name} has no attribute {missing[0]!r}",
            f"{cls.name} ({module.name}, line {cls.node.lineno}) defines no {missing[0]!r}, so "
            f"configuring the mappers raises InvalidRequestError: Mapper "
            f"'Mapper[{cls.name}(...)]' has no property {missing[0]!r}.",
            f"Set back_populates to the name of {cls.name}'s relationship that points back to "
            f"{target.owner.name}, or add that relationship to {cls.name}.",
            related=(Location(str(module.path), cls.node.lineno, cls.node.col_offset,
                              f"{cls.name} is defined here"),),
        )

    def _never_imported(self, model: ProjectModel, info: ModuleInfo,
                        target: RelationshipTarget, module: str, cls: ModelClass) -> Finding:
        where = model.modules[module]
        app = model.layout.target.module if model.layout.target else "the app"
        return self.report_in(
            info, target.node,
            f"relationship {self._owner(target)} targets {cls.name}, but {module} is never "
            f"imported at run time",
            f"Importing {app} runs {info.name} (which maps {target.owner.name}) but never "
            f"{module}: every import of it is under `if TYPE_CHECKING:`. SQLAlchemy cannot "
            f"find {cls.name!r} when it configures the mappers (first query or first "
            f"instance) and raises InvalidRequestError: When initializing mapper "
            f"Mapper[{target.owner.name}(...)], expression {cls.name!r} failed to locate a "
            f"name.",
            f"Keep the TYPE_CHECKING import, and import {module} at run time: add `from "
            f"{module} import {cls.name}` to the models package's __init__.py and import that "
            f"package where the app starts.",
            related=(Location(str(where.path), cls.node.lineno, cls.node.col_offset,
                              f"{cls.name} is defined here"),),
        )
