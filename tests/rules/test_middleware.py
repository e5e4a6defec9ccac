"""SBA406 / SBA407 through flake8 on small projects: CORS wildcards with credentials from
literals, constants and settings defaults; unknown middleware keywords checked against the
installed class, the project's own classes and, without an interpreter, Starlette's table."""
from __future__ import annotations

from typing import Callable

from flake8_runner import Flake8Run

MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n"

POSITIVE = {
    "app/__init__.py": "",
    "app/main.py": MAIN,
    "app/literal.py": '''
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

api = FastAPI()
api.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
''',
    "app/settings_default.py": '''
import fastapi.middleware.cors as cors
from fastapi import FastAPI
from pydantic_settings import BaseSettings

class Settings(BaseSettings):
    cors_origins: str = "*"

settings = Settings()
api = FastAPI()
api.add_middleware(cors.CORSMiddleware, allow_origins=settings.cors_origins.split(","),
                   allow_credentials=True)
''',
    "app/own.py": '''
from fastapi import FastAPI

class HeaderMiddleware:
    def __init__(self, app, *, header: str = "X-App"):
        self.app = app
        self.header = header

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)

api = FastAPI()
api.add_middleware(HeaderMiddleware, headr="X-Other")
''',
    "app/factory.py": '''
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

def create_app() -> FastAPI:
    return FastAPI()

api = create_app()
api.add_middleware(GZipMiddleware, minimum=1000)
''',
    "app/direct.py": '''
from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

api = FastAPI()
app = TrustedHostMiddleware(api, allowed_host=["example.com"])
''',
}

NEGATIVE = {
    "app/__init__.py": "",
    "app/main.py": MAIN,
    "app/explicit.py": '''
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic_settings import BaseSettings

class Settings(BaseSettings):
    cors_origins: str = "http://localhost:3000,https://app.example.com"

settings = Settings()
api = FastAPI()
api.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins.split(","),
                   allow_credentials=True, allow_methods=["*"], allow_headers=["*"])
''',
    "app/public.py": '''
import os

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

api = FastAPI()
api.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False)
other = FastAPI()
other.add_middleware(CORSMiddleware, allow_origins=["*"],
                     allow_credentials=os.environ["CORS_CREDENTIALS"] == "1")
''',
    "app/env_file.py": '''
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env")
    allowed_origins: str = "*"

settings = Settings()
api = FastAPI()
api.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins.split(","),
                   allow_credentials=True)
''',
    ".env": "ALLOWED_ORIGINS=https://app.example.com\n",
    "app/spread.py": '''
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

options = {"allow_origins": ["https://app.example.com"]}
api = FastAPI(middleware=[Middleware(CORSMiddleware, **options)])
api.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)
''',
    "app/own.py": '''
from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware

class Flexible:
    def __init__(self, app, **options):
        self.app = app
        self.options = options

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)

class Timing(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        return await call_next(request)

api = FastAPI()
api.add_middleware(Flexible, anything=True)
api.add_middleware(Timing, dispatch=None)
''',
    "app/other_library.py": '''
from fastapi.middleware.cors import CORSMiddleware
from somelib import Server

server = Server()
server.add_middleware(CORSMiddleware, allow_origin=["https://app.example.com"])
''',
    "app/sessions.py": '''
from fastapi import FastAPI

def configure(api: FastAPI) -> None:
    from starlette.middleware.sessions import SessionMiddleware

    api.add_middleware(SessionMiddleware, secret="x")
''',
}


def test_positive_cases(lint: Callable[..., Flake8Run]) -> None:
    run = lint(POSITIVE)
    found = sorted((r.path, r.line, r.code, r.text.rsplit("[", 1)[1]) for r in run.results
                   if r.code in ("SBA406", "SBA407"))
    assert found == [
        ("./app/direct.py", 6, "SBA407", "blocking]"),
        ("./app/factory.py", 9, "SBA407", "runtime]"),
        ("./app/literal.py", 6, "SBA406", "warning]"),
        ("./app/own.py", 13, "SBA407", "runtime]"),
        ("./app/settings_default.py", 11, "SBA406", "warning]"),
    ]
    texts = {r.path: r.text for r in run.results if r.code == "SBA407"}
    assert "TrustedHostMiddleware does not accept the keyword argument 'allowed_host'" in (
        texts["./app/direct.py"])
    assert "HeaderMiddleware does not accept the keyword argument 'headr'" in texts["./app/own.py"]


def test_negative_cases(lint: Callable[..., Flake8Run]) -> None:
    run = lint(NEGATIVE)
    assert [r for r in run.results if r.code in ("SBA406", "SBA407")] == []


def test_without_an_interpreter_the_table_gives_a_warning(
        lint: Callable[..., Flake8Run]) -> None:
    files = {"app/__init__.py": "", "app/main.py": '''
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origin=["https://app.example.com"])
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], max_age=60)
'''}
    run = lint(files, "--stability-python", "/nonexistent/python")
    found = [(r.line, r.code, r.text.rsplit("[", 1)[1]) for r in run.results if r.code == "SBA407"]
    assert found == [(6, "SBA407", "warning]")]
