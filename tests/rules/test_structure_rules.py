"""SBA601, SBA604, SBA605 and SBA607 through flake8 on small projects: what each reports, where,
and the healthy layouts they stay silent on."""
from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from flake8_runner import Flake8Run

APP = "from fastapi import FastAPI\n\nimport app.models  # noqa: F401\n\napp = FastAPI()\n"
SQLMODEL = ("from typing import List, Optional\n\n"
            "from sqlmodel import Field, Relationship, SQLModel\n")
HERO = ("class Hero(SQLModel, table=True):\n"
        "    id: Optional[int] = Field(default=None, primary_key=True)\n"
        "    team_id: Optional[int] = Field(default=None, foreign_key='team.id')\n"
        "    team: Optional['Team'] = Relationship(back_populates='heroes')\n")
TEAM = ("class Team(SQLModel, table=True):\n"
        "    id: Optional[int] = Field(default=None, primary_key=True)\n"
        "    heroes: List['Hero'] = Relationship(back_populates='team')\n")
HERO_TABLE = ("class Hero(SQLModel, table=True):\n"
              "    id: Optional[int] = Field(default=None, primary_key=True)\n")
GUARD = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
TYPE_CHECKING_TEAM = GUARD + "    from app.models.team import Team\n"
TYPE_CHECKING_HERO = GUARD + "    from app.models.hero import Hero\n"


def found(run: Flake8Run, code: str) -> List[Tuple[str, int]]:
    return [(r.path, r.line) for r in run.results if r.code == code]


def models(init: str, hero: str = SQLMODEL + TYPE_CHECKING_TEAM + HERO,
           team: str = SQLMODEL + TYPE_CHECKING_HERO + TEAM, main: str = APP) -> Dict[str, str]:
    return {"app/__init__.py": "", "app/main.py": main, "app/models/__init__.py": init,
            "app/models/hero.py": hero, "app/models/team.py": team}


# -- SBA601 ---------------------------------------------------------------------------------------
def test_namespace_folder_reported_once_at_first_import(lint: Callable[..., Flake8Run]) -> None:
    run = lint({
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\nfrom app.routers import items, users\n"
                       "app = FastAPI()\n",
        "app/routers/users.py": "from app.routers.items import router\n",
        "app/routers/items.py": "router = None\n",
        "app/services/__init__.py": "",
        "app/services/mail.py": "def send() -> None:\n    from app.routers import users\n",
    })
    assert found(run, "SBA601") == [("./app/main.py", 2)]
    text = next(r.text for r in run.results if r.code == "SBA601")
    assert "app/routers/ has no __init__.py" in text and text.endswith("[warning]")


def test_tests_scripts_type_checking_and_root_are_not_packages(
        lint: Callable[..., Flake8Run]) -> None:
    run = lint({
        "main.py": "from typing import TYPE_CHECKING\nfrom fastapi import FastAPI\n"
                   "import settings\nif TYPE_CHECKING:\n    from typings.stubs import Stub\n"
                   "app = FastAPI()\n",
        "settings.py": "DEBUG = False\n",
        "typings/stubs.py": "class Stub: ...\n",
        "tests/conftest.py": "import pytest\n",
        "tests/helpers/factories.py": "def hero() -> dict:\n    return {}\n",
        "tests/test_main.py": "from tests.helpers.factories import hero\nfrom main import app\n",
        "scripts/seed.py": "import common\nfrom main import app\n",
        "scripts/common.py": "X = 1\n",
    })
    assert found(run, "SBA601") == []


# -- SBA604 ---------------------------------------------------------------------------------------
def test_target_module_only_imported_under_type_checking(lint: Callable[..., Flake8Run]) -> None:
    run = lint(models("from app.models.hero import Hero\n"))
    assert found(run, "SBA604") == [("./app/models/hero.py", 10)]
    text = next(r.text for r in run.results if r.code == "SBA604")
    assert "app.models.team is never imported at run time" in text and text.endswith("[runtime]")


def test_models_package_or_lifespan_import_registers_the_target(
        lint: Callable[..., Flake8Run]) -> None:
    assert found(lint(models("from app.models import hero, team\n")), "SBA604") == []
    lifespan = ("from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\n"
                "from app.models.hero import Hero\n\n@asynccontextmanager\n"
                "async def lifespan(app):\n    from app.models import team  # noqa: F401\n"
                "    yield\n\napp = FastAPI(lifespan=lifespan)\n")
    assert found(lint(models("", main=lifespan)), "SBA604") == []


def test_undefined_target_and_wrong_back_populates_across_files(
        lint: Callable[..., Flake8Run]) -> None:
    hero = SQLMODEL + "from app.models.team import Team\n" + HERO.replace(
        "'heroes')", "'members')")
    team = (SQLMODEL + "import sqlalchemy.orm as orm\n" + TEAM
            + "    captain = Relationship(sa_relationship=orm.relationship('Capt'))\n")
    other = ("import sqlalchemy.orm as orm\nfrom sqlalchemy.orm import DeclarativeBase\n"
             "class Base(DeclarativeBase):\n    pass\nclass League(Base):\n"
             "    __tablename__ = 'league'\n    teams = orm.relationship('Teems')\n")
    files = models("from app.models import hero, team\n", hero=hero, team=team)
    files["app/models/league.py"] = other
    run = lint(files)
    assert sorted(found(run, "SBA604")) == [("./app/models/hero.py", 8),
                                            ("./app/models/league.py", 7)]
    texts = " ".join(r.text for r in run.results if r.code == "SBA604")
    assert "back_populates='members', but Team has no attribute 'members'" in texts
    assert "targets 'Teems', a class defined nowhere in the project" in texts


def test_library_dotted_and_unknown_targets_stay_silent(lint: Callable[..., Flake8Run]) -> None:
    code = ("from sqlalchemy.orm import DeclarativeBase, relationship\n"
            "from fastapi_users_db_sqlalchemy import OAuthAccount\n"
            "class Base(DeclarativeBase):\n    pass\nclass User(Base):\n"
            "    __tablename__ = 'user'\n"
            "    accounts = relationship('OAuthAccount')\n"
            "    orders = relationship('app.shop.Order')\n"
            "    team = relationship(lambda: Team)\n")
    assert found(lint({"models.py": code}), "SBA604") == []


# -- SBA605 ---------------------------------------------------------------------------------------
def test_script_whose_uvicorn_run_names_itself(lint: Callable[..., Flake8Run]) -> None:
    main = ("import uvicorn\nfrom fastapi import FastAPI\n" + SQLMODEL + HERO_TABLE
            + "app = FastAPI()\nif __name__ == '__main__':\n"
              "    uvicorn.run('main:app', reload=True)\n")
    run = lint({"main.py": main})
    assert found(run, "SBA605") == [("./main.py", 10)]
    text = next(r.text for r in run.results if r.code == "SBA605")
    assert "uvicorn.run('main:app'...) imports main.py again as main" in text
    assert text.endswith("[blocking]")


def test_one_name_per_module_stays_silent(lint: Callable[..., Flake8Run]) -> None:
    run = lint({
        "app/__init__.py": "",
        "app/main.py": "import uvicorn\nfrom fastapi import FastAPI\n"
                       "from app.models import Hero\ntry:\n    from app.db import engine\n"
                       "except ImportError:\n    from db import engine\n"
                       "app = FastAPI()\nif __name__ == '__main__':\n"
                       "    uvicorn.run('app.main:app')\n",
        "app/db.py": "engine = None\n",
        "app/models.py": SQLMODEL + HERO_TABLE,
        "run.py": "import uvicorn\nif __name__ == '__main__':\n    uvicorn.run('app.main:app')\n",
    })
    assert found(run, "SBA605") == []


def test_sys_path_additions_are_import_roots(lint: Callable[..., Flake8Run]) -> None:
    main = ("import sys\nfrom pathlib import Path\n"
            "sys.path.append(str(Path(__file__).resolve().parent / 'src'))\n"
            "from fastapi import FastAPI\nfrom src.models import Hero\nimport api\n"
            "app = FastAPI()\n")
    files = {"main.py": main, "src/__init__.py": "", "src/models.py": SQLMODEL + HERO_TABLE,
             "src/api.py": "from models import Hero\n"}
    run = lint(files)
    assert found(run, "SBA605") == [("./src/api.py", 1)]
    assert "imported as models here and as src.models by main line 5" in run.results[0].text
    files["src/api.py"] = "from src.models import Hero\n"
    files["tools/__init__.py"] = ""
    files["main.py"] = main.replace("'src'", "'tools'")
    assert found(lint(files), "SBA605") == []


# -- SBA607 ---------------------------------------------------------------------------------------
def test_mutual_imports_of_table_modules(lint: Callable[..., Flake8Run]) -> None:
    hero = SQLMODEL + "from app.models import team\n" + HERO
    team = SQLMODEL + "from app.models.hero import Hero\n" + TEAM
    run = lint(models("from app.models import hero, team\n", hero=hero, team=team))
    assert sorted(found(run, "SBA607")) == [("./app/models/hero.py", 4),
                                            ("./app/models/team.py", 4)]


def test_one_way_deferred_or_schema_imports_are_fine(lint: Callable[..., Flake8Run]) -> None:
    hero = SQLMODEL + "from app.models.team import Team\n" + HERO
    deferred = "def heroes():\n    from app.models.hero import Hero\n    return Hero\n"
    team = SQLMODEL + deferred + TEAM
    files = models("from app.models import hero, team\n", hero=hero, team=team)
    files.update({
        "app/schemas/__init__.py": "",
        "app/schemas/a.py": "from pydantic import BaseModel\nfrom app.schemas import b\n"
                            "class A(BaseModel):\n    x: int\n",
        "app/schemas/b.py": "from pydantic import BaseModel\nfrom app.schemas import a\n"
                            "class B(BaseModel):\n    y: int\n",
    })
    assert found(lint(files), "SBA607") == []


# -- SBA606 ---------------------------------------------------------------------------------------
SCHEMA = ("from typing import TYPE_CHECKING, List\n\nfrom pydantic import BaseModel\n\n"
          "if TYPE_CHECKING:\n    from app.schemas.hero import HeroRead\n\n"
          "class TeamRead(BaseModel):\n    id: int\n    heroes: List['HeroRead'] = []\n")
HERO_SCHEMA = "from pydantic import BaseModel\n\nclass HeroRead(BaseModel):\n    id: int\n"


def schemas(main: str, init: str = "") -> Dict[str, str]:
    return {"app/__init__.py": "", "app/main.py": main, "app/schemas/__init__.py": init,
            "app/schemas/hero.py": HERO_SCHEMA, "app/schemas/team.py": SCHEMA}


def route(signature: str, decorator: str = "@router.get('/teams')") -> str:
    return ("from fastapi import APIRouter\nfrom app.schemas import TeamRead\n\n"
            f"router = APIRouter()\n\n{decorator}\n{signature}\n    return []\n")


def test_schema_used_by_routes_through_a_re_export(lint: Callable[..., Flake8Run]) -> None:
    init = "from app.schemas.team import TeamRead\n"
    for signature in ("def teams(team: TeamRead):", "async def teams() -> List[TeamRead]:"):
        main = route(signature).replace("\n\nrouter", "\nfrom typing import List\n\nrouter")
        run = lint(schemas(main, init))
        assert found(run, "SBA606") == [("./app/schemas/team.py", 10)], signature
        text = next(r.text for r in run.results if r.code == "SBA606")
        assert "TeamRead.heroes refers to 'HeroRead'" in text and text.endswith("[runtime]")


def test_rebuilt_unused_or_literal_schemas_stay_silent(lint: Callable[..., Flake8Run]) -> None:
    rebuilt = ("from app.schemas.hero import HeroRead\nfrom app.schemas.team import TeamRead\n"
               "TeamRead.model_rebuild()\n")
    assert found(lint(schemas(route("def teams(team: TeamRead):"), rebuilt)), "SBA606") == []
    dependency = route("def teams(team: TeamRead = Depends(current_team)):").replace(
        "import APIRouter", "import APIRouter, Depends\nfrom app.deps import current_team")
    files = schemas(dependency, "from app.schemas.team import TeamRead\n")
    files["app/deps.py"] = "def current_team():\n    return None\n"
    assert found(lint(files), "SBA606") == []
    unused = "from app.schemas.team import TeamRead\n"
    files = schemas("from fastapi import FastAPI\napp = FastAPI()\n", unused)
    files["app/schemas/choice.py"] = (
        "from typing import Annotated, Literal\nfrom pydantic import BaseModel, Field\n"
        "class Choice(BaseModel):\n    kind: Literal['a', 'b']\n"
        "    note: Annotated[str, 'free text'] = ''\n")
    files["app/api.py"] = ("from fastapi import APIRouter\nfrom app.schemas.choice import Choice\n"
                           "router = APIRouter()\n@router.post('/c')\n"
                           "def choose(choice: Choice) -> Choice:\n    return choice\n")
    assert found(lint(files), "SBA606") == []


# -- model classes whose base lives in another module ----------------------------------------------
DB_BASE = ("from sqlalchemy import MetaData\nfrom sqlalchemy.orm import DeclarativeBase\n\n"
           "class Base(DeclarativeBase):\n    pass\n")
SA_TEAM = ("from typing import List, TYPE_CHECKING\n"
           "from sqlalchemy.orm import Mapped, mapped_column, relationship\n"
           "from app.db import Base\n"
           "if TYPE_CHECKING:\n    from app.models.hero import Hero\n\n"
           "class Team(Base):\n    __tablename__ = 'team'\n"
           "    id: Mapped[int] = mapped_column(primary_key=True)\n"
           "    heroes: Mapped[List['Hero']] = relationship(back_populates='team')\n")
SA_HERO = ("from sqlalchemy import ForeignKey\n"
           "from sqlalchemy.orm import Mapped, mapped_column, relationship\n"
           "from app.db.base import Base\n"
           "from app.models.team import Team\n\n"
           "class Hero(Base):\n    __tablename__ = 'hero'\n"
           "    id: Mapped[int] = mapped_column(primary_key=True)\n"
           "    team_id: Mapped[int] = mapped_column(ForeignKey('team.id'))\n"
           "    team: Mapped['Team'] = relationship(back_populates='heroes')\n")


def declarative(hero: str = SA_HERO, team: str = SA_TEAM, base: str = DB_BASE) -> Dict[str, str]:
    """Base in app/db/base.py, re-exported by app/db/__init__.py, models in their own files."""
    return {"app/__init__.py": "", "app/main.py": APP, "app/db/__init__.py":
            "from app.db.base import Base\n\n__all__ = ['Base']\n", "app/db/base.py": base,
            "app/models/__init__.py": "from app.models import hero, team  # noqa: F401\n",
            "app/models/hero.py": hero, "app/models/team.py": team}


def test_healthy_models_on_a_base_from_another_module(lint: Callable[..., Flake8Run]) -> None:
    base = DB_BASE.replace("    pass\n", "    metadata = MetaData(naming_convention={"
                           "'pk': 'pk_%(table_name)s'})\n")
    for files in (declarative(), declarative(base=base)):
        assert [r.code for r in lint(files, "--select", "SBA").results] == []


def test_base_from_another_module_is_followed_through_re_exports(
        lint: Callable[..., Flake8Run]) -> None:
    hero = SA_HERO.replace("back_populates='heroes'", "back_populates='members'") + (
        "    sidekick: Mapped['Sidekick'] = relationship()\n")
    team = SA_TEAM.replace("if TYPE_CHECKING:\n", "if True:\n")  # a fatal mutual import
    run = lint(declarative(hero=hero, team=team), "--select", "SBA604,SBA607")
    assert sorted((r.path, r.line, r.code) for r in run.results) == [
        ("./app/models/hero.py", 4, "SBA607"), ("./app/models/hero.py", 10, "SBA604"),
        ("./app/models/hero.py", 11, "SBA604"), ("./app/models/team.py", 5, "SBA607")]


def test_imported_base_with_own_columns_hides_fields_so_judging_rules_stay_silent(
        lint: Callable[..., Flake8Run]) -> None:
    base = DB_BASE + ("class IdMixin(Base):\n    __abstract__ = True\n"
                      "    id: Mapped[int] = mapped_column(primary_key=True)\n")
    base = base.replace("DeclarativeBase\n", "DeclarativeBase, Mapped, mapped_column\n")
    tag = ("from sqlalchemy.orm import Mapped, mapped_column\nfrom app.db.base import IdMixin\n\n"
           "class Tag(IdMixin):\n    __tablename__ = 'tag'\n"
           "    name: Mapped[str] = mapped_column()\n")
    files = declarative(base=base)
    files["app/models/tag.py"] = tag
    assert [r.code for r in lint(files, "--select", "SBA").results] == []
