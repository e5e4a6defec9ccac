"""SBA412 / SBA413 through flake8: which annotations FastAPI cannot turn into fields, which
`Depends(f())` calls pass a generator or coroutine, and the healthy patterns left alone."""
from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from flake8_runner import Flake8Run

Lint = Callable[..., Flake8Run]

DB = ("from typing import Iterator\n\nfrom sqlmodel import Session, create_engine\n\n"
      "engine = create_engine('sqlite:///./app.db', connect_args={'check_same_thread': False})"
      "\n\n\ndef get_db() -> Iterator[Session]:\n    with Session(engine) as session:\n"
      "        yield session\n\n\nasync def current_user():\n    return {'name': 'x'}\n")


def found(run: Flake8Run, code: str) -> List[Tuple[str, int, str]]:
    return [(r.path, r.line, r.text) for r in run.results if r.code == code]


def project(main: str, **files: str) -> Dict[str, str]:
    result = {"app/__init__.py": "", "app/db.py": DB, "app/main.py": main}
    result.update(files)
    return result


def test_types_fastapi_cannot_read(lint: Lint) -> None:
    main = (
        "import sqlalchemy as sa\n"                                          # 1
        "import sqlalchemy.orm as orm\n"                                     # 2
        "from fastapi import APIRouter, FastAPI\n\n"                         # 3-4
        "app = FastAPI()\n\n\n"                                              # 5-7
        "class Mailer:\n    pass\n\n\n"                                      # 8-11
        "@app.get('/a')\n"                                                   # 12
        "def a(db: orm.Session, engine: sa.Engine = None, mailer: Mailer = 1):\n"  # 13
        "    return 1\n\n\n"                                                 # 14-16
        "@app.get('/b', response_model=orm.Session)\n"                       # 17
        "def b():\n    return 1\n\n\n"                                       # 18-21
        "def create_router():\n"                                             # 22
        "    router = APIRouter()\n\n"                                       # 23-24
        "    @router.get('/c')\n"                                            # 25
        "    def c() -> Mailer:\n        return Mailer()\n\n"                # 26-28
        "    return router\n")                                               # 29
    reported = found(lint(project(main)), "SBA412")
    lines = [(line, text.rsplit(" ", 1)[1]) for _, line, text in reported]
    assert lines == [(13, "[blocking]"), (13, "[blocking]"), (13, "[blocking]"),
                     (17, "[blocking]"), (26, "[runtime]")]
    assert "parameter `db: orm.Session` of route a()" in reported[0][2]


def test_healthy_signatures(lint: Lint) -> None:
    main = (
        "import dataclasses\nimport enum\nfrom typing import TYPE_CHECKING, Annotated"
        "\n\nfrom fastapi import Depends, FastAPI, Request\nfrom pydantic import BaseModel\n"
        "from sqlmodel import Session\n\nfrom app.db import get_db\n\n"
        "if TYPE_CHECKING:\n    from sqlalchemy.ext.asyncio import AsyncSession\n\n"
        "SessionDep = Annotated[Session, Depends(get_db)]\napp = FastAPI()\n\n\n"
        "class Payload(BaseModel):\n    name: str\n\n\n@dataclasses.dataclass\nclass Point:\n"
        "    x: int\n\n\nclass Color(enum.Enum):\n    RED = 'red'\n\n\nclass Custom:\n"
        "    @classmethod\n    def __get_pydantic_core_schema__(cls, source, handler):\n"
        "        return handler(str)\n\n\n"
        "@app.post('/x')\ndef x(payload: Payload, point: Point, color: Color, custom: Custom,\n"
        "      request: Request, session: SessionDep, other: Session = Depends(get_db))"
        " -> Payload:\n    return payload\n\n\n"
        "@app.get('/y', response_model=None)\ndef y(db: 'AsyncSession' = Depends(get_db))"
        " -> Session:\n    return db\n")
    assert found(lint(project(main)), "SBA412") == []


def test_called_dependencies(lint: Lint) -> None:
    main = (
        "from fastapi import Depends, FastAPI, Security\n\n"                 # 1-2
        "from app import db\nfrom app.db import current_user, get_db\n\n"   # 3-5
        "app = FastAPI()\n\n\n"                                              # 6-8
        "@app.get('/a')\ndef a(s=Depends(db.get_db()), u=Security(current_user())):\n"  # 9-10
        "    return 1\n\n\n"                                                 # 11-13
        "def helper(s=Depends(get_db())):\n    return s\n")                  # 14-15
    reported = found(lint(project(main)), "SBA413")
    assert [(line, text.rsplit(" ", 1)[1]) for _, line, text in reported] == [
        (10, "[blocking]"), (10, "[blocking]"), (14, "[runtime]")]
    assert "passes a generator object, not the dependency db.get_db" in reported[0][2]
    assert "passes a coroutine object" in reported[1][2]


def test_dependency_factories_are_not_called_dependencies(lint: Lint) -> None:
    main = (
        "from functools import lru_cache\n\nfrom fastapi import Depends, FastAPI\n\n"
        "from app.db import get_db\n\n\nclass Checker:\n    def __call__(self):\n"
        "        return True\n\n\ndef role(name):\n    def check():\n        return name\n"
        "    return check\n\n\n@lru_cache\ndef settings():\n    return {}\n\n\n"
        "app = FastAPI()\n\n\n@app.get('/a', dependencies=[Depends(Checker()), "
        "Depends(role('admin'))])\ndef a(s=Depends(get_db), c=Depends(settings)):\n"
        "    return 1\n")
    assert found(lint(project(main)), "SBA413") == []
