"""defer-cycle-import (SBA602) and create-init (SBA601) on real projects."""
from __future__ import annotations

import shutil
from pathlib import Path

from app_fix_projects import again, findings, fix, fix_examples, run, write

from flake8_stability.fix.codemod import apply_codemod, registry
from flake8_stability.rules.structure.cycles import ImportCycleFailsAtImport
from flake8_stability.rules.structure.packages import PackageWithoutInit

MAIN = '''
    from fastapi import FastAPI

    from app.db import engine

    app = FastAPI()
'''
DB = '''
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.models import Hero

    engine = create_async_engine("sqlite+aiosqlite://")
'''
MODELS = '''
    from typing import Optional

    from sqlmodel import Field, SQLModel

    from app.db import engine  # the shared engine


    class Hero(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)


    async def count_heroes() -> int:
        """How many heroes there are."""
        async with engine.connect() as conn:
            return len((await conn.exec_driver_sql("select 1")).all())


    def same(bind: Optional[engine]) -> bool:
        return bind is engine
'''
EXPECTED = '''from typing import TYPE_CHECKING, Optional

from sqlmodel import Field, SQLModel

if TYPE_CHECKING:
    from app.db import engine  # the shared engine


class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)


async def count_heroes() -> int:
    """How many heroes there are."""
    from app.db import engine
    async with engine.connect() as conn:
        return len((await conn.exec_driver_sql("select 1")).all())


def same(bind: Optional["engine"]) -> bool:
    from app.db import engine
    return bind is engine
'''


def test_defer_cycle_import(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/main.py": MAIN, "app/db.py": DB,
                     "app/models.py": MODELS})
    before = run(tmp_path, "import app.main")
    assert "cannot import name 'engine' from partially initialized module" in before.stderr
    applied = fix(tmp_path, "SBA602", "defer-cycle-import")
    models = tmp_path / "app/models.py"
    assert models.read_text() == EXPECTED
    assert again(applied) == {str(models): EXPECTED}
    assert findings(tmp_path, "SBA602") == []
    proof = run(tmp_path, "import asyncio, app.main, app.models\n"
                          "print(asyncio.run(app.models.count_heroes()))")
    assert proof.returncode == 0, proof.stderr
    assert proof.stdout.strip() == "1"


def test_relationship_annotation_goes_under_type_checking(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\nfrom app.team import Team\n\n"
                       "app = FastAPI()\n",
        "app/team.py": '''
            from typing import List, Optional

            from sqlmodel import Field, Relationship, SQLModel

            from app.hero import Hero


            class Team(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                heroes: List["Hero"] = Relationship(back_populates="team")
        ''',
        "app/hero.py": '''
            from typing import Optional

            from sqlmodel import Field, Relationship, SQLModel

            from app.team import Team


            class Hero(SQLModel, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                team_id: Optional[int] = Field(default=None, foreign_key="team.id")
                team: Optional[Team] = Relationship(back_populates="heroes")
        ''',
    })
    assert "cannot import name 'Team'" in run(tmp_path, "import app.main").stderr
    fix(tmp_path, "SBA602", "defer-cycle-import")
    text = (tmp_path / "app/hero.py").read_text()
    assert "if TYPE_CHECKING:\n    from app.team import Team\n" in text
    assert 'team: Optional["Team"] = Relationship(back_populates="heroes")' in text
    assert findings(tmp_path, "SBA602") == []
    proof = run(tmp_path, "import app.main\nfrom sqlalchemy.orm import configure_mappers\n"
                          "configure_mappers()\nfrom app.hero import Hero\n"
                          "print(Hero.team.property.mapper.class_.__name__)")
    assert proof.returncode == 0, proof.stderr
    assert proof.stdout.strip() == "Team"


def test_import_time_uses_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "", "app/main.py": MAIN, "app/db.py": DB,
        "app/models.py": '''
            from sqlmodel import Field, SQLModel

            from app.db import engine

            DIALECT = engine.dialect.name


            class Hero(SQLModel, table=True):
                id: int = Field(primary_key=True)
        ''',
    })
    applied = fix(tmp_path, "SBA602", "defer-cycle-import", write_back=False)
    assert applied.skipped == [(3, "engine is used when the module runs (line 5)")]
    assert all(o.module.code == applied.before[p] for p, o in applied.outcomes.items())


def test_unused_and_framework_annotations_are_skipped(tmp_path: Path) -> None:
    models = '''
        from fastapi import Depends
        from sqlmodel import Field, SQLModel

        from app.db import engine


        class Hero(SQLModel, table=True):
            id: int = Field(primary_key=True)


        def get_bind(bind: engine = None):
            return bind


        def route(bind=Depends(get_bind)):
            return bind
    '''
    write(tmp_path, {"app/__init__.py": "", "app/main.py": MAIN, "app/db.py": DB,
                     "app/models.py": models})
    applied = fix(tmp_path, "SBA602", "defer-cycle-import", write_back=False)
    assert applied.skipped == [(4, "engine is used in an annotation evaluated at import or by "
                                   "a framework (line 11)")]
    write(tmp_path, {"app/models.py": "from app.db import engine\n\nclass Hero:\n    pass\n",
                     "app/service.py": "from app.models import Hero, engine\n"})
    applied = fix(tmp_path, "SBA602", "defer-cycle-import", write_back=False)
    assert applied.skipped == [(1, "nothing in the module reads engine, but app/service.py may "
                                   "import it from here")]


def test_create_init(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": '''
            from fastapi import FastAPI

            from app.routers import users

            app = FastAPI()
            app.include_router(users.router)
        ''',
        "app/routers/users.py": "from fastapi import APIRouter\n\nrouter = APIRouter()\n",
    })
    applied = fix(tmp_path, "SBA601", "create-init", write_back=False)
    (outcome,) = applied.outcomes.values()
    assert [(c.path, c.content) for c in outcome.created] == [
        (str(tmp_path / "app/routers/__init__.py"), "")]
    assert outcome.module.code == applied.before[str(tmp_path / "app/main.py")]
    main = str(tmp_path / "app/main.py")
    (finding,) = findings(tmp_path, "SBA601")
    twice = apply_codemod(registry()["create-init"](), applied.before[main], [finding])
    assert twice.created == outcome.created
    fix(tmp_path, "SBA601", "create-init")
    assert (tmp_path / "app/routers/__init__.py").read_text() == ""
    assert findings(tmp_path, "SBA601") == []
    done = apply_codemod(registry()["create-init"](), applied.before[main], [finding])
    assert done.created == [] and len(done.fixed) == 1  # already there: nothing to create
    proof = run(tmp_path, "import app.main, app.routers\nprint(app.routers.__file__)")
    assert proof.returncode == 0, proof.stderr
    assert proof.stdout.strip().endswith("__init__.py")


def test_create_init_skips_a_missing_folder(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": "from app.routers import users\n",
        "app/routers/users.py": "router = None\n",
    })
    (finding,) = findings(tmp_path, "SBA601")
    shutil.rmtree(tmp_path / "app/routers")
    outcome = apply_codemod(registry()["create-init"](), "from app.routers import users\n",
                            [finding])
    assert outcome.created == []
    assert outcome.skipped[0][1] == "the package folder is not known"


def test_rule_examples(tmp_path: Path) -> None:
    """SBA601's examples get their __init__.py; SBA602's examples import a name nothing reads:
    the import is dropped and the app imports."""
    created = fix_examples(PackageWithoutInit, "create-init", tmp_path)
    assert [(applied.fixed, left) for applied, left in created] == [(1, 0), (1, 0)]
    cycles = fix_examples(ImportCycleFailsAtImport, "defer-cycle-import", tmp_path / "cycles")
    assert [(applied.fixed, left) for applied, left in cycles] == [(1, 0), (1, 0)]
    models = (tmp_path / "cycles/example0/app/models.py").read_text()
    assert models == ("from sqlmodel import Field, SQLModel\n\nclass Hero(SQLModel, table=True):"
                      "\n    id: int = Field(primary_key=True)\n")
    for index in (0, 1):
        proof = run(tmp_path / f"cycles/example{index}", "import app.main")
        assert proof.returncode == 0, proof.stderr
