"""SBA408 / SBA409 through flake8 on small projects: on_event handlers that are deprecated,
ignored next to lifespan= or removed with Starlette 1.0; lifespans of the wrong shape, and the
healthy shapes FastAPI accepts."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Tuple

from _installed_versions import findings_with
from flake8_runner import Flake8Run

from flake8_stability.findings import Severity

MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def _found(run: Flake8Run, *codes: str) -> List[Tuple[str, int, str, str]]:
    return sorted((r.path[len("./app/"):], r.line, r.code, r.text.rsplit("[", 1)[1].rstrip("]"))
                  for r in run.results if r.code in codes)


POSITIVE = {
    "app/__init__.py": "",
    "app/main.py": MAIN,
    "app/sync_def.py": '''from contextlib import asynccontextmanager
from fastapi import FastAPI

@asynccontextmanager
def lifespan(app):
    yield

api = FastAPI(lifespan=lifespan)
''',
    "app/no_yield.py": '''from contextlib import asynccontextmanager
from fastapi import FastAPI

@asynccontextmanager
async def lifespan(app):
    app.state.ready = True

api = FastAPI(lifespan=lifespan)
''',
    "app/starlette_gen.py": '''from starlette.applications import Starlette

async def lifespan(app):
    yield

api = Starlette(lifespan=lifespan)
''',
    "app/factory.py": '''from fastapi import FastAPI

async def lifespan(app):
    pass

def create_app() -> FastAPI:
    return FastAPI(lifespan=lifespan)
''',
    "app/lifespans.py": '''async def broken(app):
    app.state.ready = True
''',
    "app/imported.py": '''from fastapi import FastAPI

from app.lifespans import broken

api = FastAPI(
    title="imported",
    lifespan=broken,
)
''',
    "app/handlers.py": '''from contextlib import asynccontextmanager
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette

async def connect():
    pass

@asynccontextmanager
async def lifespan(app):
    yield

router = APIRouter()
api = FastAPI(on_startup=[connect], lifespan=lifespan)
site = Starlette()
api.add_event_handler("startup", connect)

@router.on_event("shutdown")
async def close():
    pass

@site.on_event("startup")
async def warm():
    pass
''',
}

NEGATIVE = {
    "app/__init__.py": "",
    "app/main.py": '''from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.db import engine

@asynccontextmanager
async def lifespan(app: FastAPI):
    try:
        yield
    finally:
        await engine.dispose()

app = FastAPI(lifespan=lifespan)
''',
    "app/db.py": '''from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
''',
    "app/branches.py": '''import functools
from contextlib import asynccontextmanager
from fastapi import FastAPI

@asynccontextmanager
async def lifespan(app, *rest):
    if app.debug:
        yield {"debug": True}
    else:
        yield

def sync_lifespan(app):
    yield

def traced(func):
    return func

@traced
async def custom(app):
    pass

api = FastAPI(lifespan=lifespan)
sync_api = FastAPI(lifespan=sync_lifespan)
traced_api = FastAPI(lifespan=custom)
partial_api = FastAPI(lifespan=functools.partial(lifespan))
''',
    "app/shared.py": '''from contextlib import asynccontextmanager

@asynccontextmanager
async def lifespan(app):
    yield
''',
    "app/uses_shared.py": '''from fastapi import FastAPI

from app.shared import lifespan

api = FastAPI(lifespan=lifespan)
''',
    "app/events.py": '''from fastapi import FastAPI

def get_app():
    return FastAPI()

app = get_app()

@app.on_event("startup")
async def start():
    pass
''',
}


def test_positive_cases(lint: Callable[..., Flake8Run]) -> None:
    assert _found(lint(POSITIVE), "SBA408", "SBA409") == [
        ("factory.py", 3, "SBA409", "warning"),
        ("handlers.py", 13, "SBA408", "warning"),
        ("handlers.py", 15, "SBA408", "blocking"),
        ("handlers.py", 17, "SBA408", "warning"),
        ("handlers.py", 21, "SBA408", "blocking"),
        ("imported.py", 7, "SBA409", "blocking"),
        ("no_yield.py", 5, "SBA409", "blocking"),
        ("starlette_gen.py", 3, "SBA409", "warning"),
        ("sync_def.py", 5, "SBA409", "blocking"),
    ]


def test_messages_name_the_failure(lint: Callable[..., Flake8Run]) -> None:
    texts = {(r.path, r.line): r.text for r in lint(POSITIVE).results}
    assert "'generator' object is not an async iterator" in texts[("./app/sync_def.py", 5)]
    assert "'coroutine' object is not an async iterator" in texts[("./app/no_yield.py", 5)]
    assert "never run" in texts[("./app/handlers.py", 13)]
    assert "lifespan broken() (defined in lifespans.py, line 1)" in texts[("./app/imported.py", 7)]
    assert "Starlette.on_event() was removed in Starlette 1.0" in texts[("./app/handlers.py", 21)]


def test_negative_cases(lint: Callable[..., Flake8Run]) -> None:
    assert _found(lint(NEGATIVE), "SBA408", "SBA409") == []


def test_starlette_before_1_0_only_deprecates(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/main.py": '''from starlette.applications import Starlette

async def connect():
    pass

app = Starlette(on_startup=[connect])
'''}
    old = findings_with(tmp_path, files, {"starlette": "0.27.0"}, "app/main.py", "SBA408")
    assert [(f.line, f.severity) for f in old] == [(6, Severity.WARNING)]
    assert "deprecated and removed in Starlette 1.0" in old[0].message
    new = findings_with(tmp_path, files, {"starlette": "1.10.0"}, "app/main.py", "SBA408")
    assert [(f.line, f.severity) for f in new] == [(6, Severity.BLOCKING)]
