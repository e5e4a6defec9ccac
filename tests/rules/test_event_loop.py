"""SBA410 / SBA411 through flake8 on small projects: loops run while the app's modules are
imported or started (not in scripts, `__main__` blocks or modules the app never imports), and
uvicorn.run() with an app object and reload or workers."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Tuple

from _installed_versions import findings_with
from flake8_runner import Flake8Run

from flake8_stability.findings import Severity


def _found(run: Flake8Run, *codes: str) -> List[Tuple[str, int, str, str]]:
    return sorted((r.path[2:], r.line, r.code, r.text.rsplit("[", 1)[1].rstrip("]"))
                  for r in run.results if r.code in codes)


POSITIVE = {
    "app/__init__.py": "",
    "app/main.py": '''import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import db
from app.seed import seed_all

def warm_cache():
    asyncio.run(db.ping())

@asynccontextmanager
async def lifespan(app: FastAPI):
    warm_cache()
    seed_all()
    yield

app = FastAPI(lifespan=lifespan)
''',
    "app/db.py": '''import asyncio

async def ping():
    pass

asyncio.get_event_loop().run_until_complete(ping())
''',
    "app/seed.py": '''import asyncio

async def seed():
    pass

def seed_all():
    loop = asyncio.new_event_loop()
    loop.run_until_complete(seed())
''',
    "run.py": '''import uvicorn

from app.main import app

RELOAD = True

if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", reload=RELOAD)
''',
    "serve.py": '''import uvicorn
from fastapi import FastAPI

api = FastAPI()
uvicorn.run(api, workers=2)
''',
}

NEGATIVE = {
    "app/__init__.py": "",
    "app/main.py": '''import asyncio
import os

import uvicorn
from fastapi import FastAPI

app = FastAPI()

async def main():
    pass

def never_called():
    asyncio.run(main())

try:
    asyncio.run(main())
except RuntimeError:
    pass

if __name__ == "__main__":
    asyncio.run(main())
    uvicorn.run("app.main:app", reload=True)
    uvicorn.run(app, workers=1)
    uvicorn.run(app, reload=os.getenv("RELOAD") == "1")
''',
    "scripts/init_db.py": '''import asyncio

async def init():
    pass

asyncio.run(init())
asyncio.get_event_loop().run_until_complete(init())
''',
}


def test_positive_cases(lint: Callable[..., Flake8Run]) -> None:
    assert _found(lint(POSITIVE), "SBA410", "SBA411") == [
        ("app/db.py", 6, "SBA410", "warning"),
        ("app/main.py", 10, "SBA410", "blocking"),
        ("app/seed.py", 8, "SBA410", "blocking"),
        ("run.py", 8, "SBA411", "warning"),
        ("serve.py", 5, "SBA411", "warning"),
    ]


def test_messages_say_how_the_loop_is_reached(lint: Callable[..., Flake8Run]) -> None:
    texts = {r.path[2:]: r.text for r in lint(POSITIVE).results}
    assert "during app startup" in texts["app/main.py"]
    assert "during app startup" in texts["app/seed.py"]
    assert "while the module is imported" in texts["app/db.py"]
    assert "'app.main:app'" in texts["run.py"]
    assert "workers=2" in texts["serve.py"]


def test_negative_cases(lint: Callable[..., Flake8Run]) -> None:
    assert _found(lint(NEGATIVE), "SBA410", "SBA411") == []


def test_without_a_target_only_app_modules_warn(lint: Callable[..., Flake8Run]) -> None:
    files = {"service/__init__.py": "",
             "service/api.py": '''import asyncio
from starlette.applications import Starlette

async def prepare():
    pass

asyncio.run(prepare())
application = Starlette()
''',
             "service/tools.py": "import asyncio\n\nasync def job():\n    pass\n\n"
                                 "asyncio.run(job())\n"}
    assert _found(lint(files), "SBA410") == [("service/api.py", 7, "SBA410", "warning")]


def test_old_uvicorn_imports_the_app_inside_its_loop(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/main.py": '''import asyncio
from fastapi import FastAPI

async def init_db():
    pass

asyncio.run(init_db())
app = FastAPI()
'''}
    old = findings_with(tmp_path, files, {"uvicorn": "0.46.0"}, "app/main.py", "SBA410")
    assert [(f.line, f.severity) for f in old] == [(7, Severity.BLOCKING)]
    assert "uvicorn 0.46.0 imports the app inside its running loop" in old[0].root_cause
