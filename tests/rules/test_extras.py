"""SBA206 / SBA207 beyond their documented examples: a multi-file project through flake8 (the
test interpreter has neither email-validator nor python-multipart), the same project against a
second interpreter that has both, and in-process messages under other installed versions."""
from __future__ import annotations

import ast
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
from flake8_runner import Flake8Run

from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.environment import Environment
from flake8_stability.findings import Finding, Severity
from flake8_stability.rules import rule_for

STACK = {"pydantic": "2.14.4", "fastapi": "0.165.0"}


def _dedent(files: Dict[str, str]) -> Dict[str, str]:
    return {name: textwrap.dedent(source).lstrip("\n") for name, source in files.items()}


def _marked(files: Dict[str, str], code: str) -> Dict[str, List[int]]:
    found: Dict[str, List[int]] = {}
    for name, text in files.items():
        lines = [n for n, line in enumerate(text.splitlines(), 1) if f"# {code}" in line]
        if lines:
            found[name] = lines
    return found


PROJECT = _dedent({
    "app/__init__.py": "",
    "app/schemas.py": '''
        from typing import ClassVar, List, Optional, TYPE_CHECKING

        import pydantic
        from pydantic import BaseModel
        from pydantic.dataclasses import dataclass
        from pydantic_settings import BaseSettings

        if TYPE_CHECKING:
            from pydantic import EmailStr

        class Invite(BaseModel):
            emails: List["pydantic.EmailStr"]  # SBA206
            note: Optional[str] = None

        @dataclass
        class Contact:
            address: pydantic.NameEmail  # SBA206

        class Settings(BaseSettings):
            admin_email: pydantic.EmailStr = "admin@example.com"  # SBA206

        class Plain(BaseModel):
            kind: ClassVar[pydantic.EmailStr] = "x@example.com"
            _cache: pydantic.EmailStr = "x@example.com"
            name: str

        def normalise(address: "EmailStr") -> str:
            return address.lower()

        def make_schema():
            class Late(BaseModel):
                email: pydantic.EmailStr  # SBA206 runtime
            return Late
    ''',
    "app/main.py": '''
        from typing import Annotated, Optional

        import fastapi as fa
        from fastapi import Depends, FastAPI, Request, Security, UploadFile
        from fastapi.security import OAuth2PasswordRequestFormStrict
        from sqlalchemy.ext.asyncio import AsyncSession

        from app.db import get_session

        app = FastAPI()
        SessionDep = Annotated[AsyncSession, Depends(get_session)]
        Avatar = Annotated[Optional[UploadFile], fa.File(description="png")]


        def credentials(username: str = fa.Form(...), password: str = fa.Form(...)):  # SBA207
            return username, password


        @app.post("/login")
        async def login(creds=Depends(credentials)):
            return {"user": creds[0]}


        @app.post("/login/strict")
        async def strict(form=Security(OAuth2PasswordRequestFormStrict)):  # SBA207
            return {"user": form.username}


        @app.put("/me/avatar")
        async def avatar(session: SessionDep, image: Avatar = None):  # SBA207
            return {"ok": image is not None}


        @app.post("/hooks")
        async def hook(request: Request, session: SessionDep):
            return {"form": len(await request.form())}


        def unused_form(title: str = fa.Form(...)):
            return title


        def create_admin() -> fa.FastAPI:
            admin = fa.FastAPI()

            @admin.post("/upload")
            async def upload(file: UploadFile):  # SBA207 runtime
                return {"name": file.filename}

            return admin
    ''',
    "app/db.py": '''
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlmodel.ext.asyncio.session import AsyncSession

        engine = create_async_engine("sqlite+aiosqlite:///./app.db")
        SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

        async def get_session():
            async with SessionLocal() as session:
                yield session
    ''',
    "app/users.py": '''
        from pydantic import EmailStr

        from app.schemas import Invite

        class TeamInvite(Invite):
            owner: EmailStr  # SBA206
    ''',
    "app/typed.py": '''
        from __future__ import annotations

        from typing import TYPE_CHECKING

        from pydantic import BaseModel

        if TYPE_CHECKING:
            from pydantic import EmailStr

        class Later(BaseModel):
            email: EmailStr
    ''',
    "app/other.py": '''
        from fastapi import FastAPI
        from pydantic import EmailStr

        api = FastAPI()

        class Mailer:
            def post(self, path):
                return lambda function: function

        mailer = Mailer()

        @mailer.post("/send")
        def send(to: EmailStr):
            return to
    ''',
})


def _fake_interpreter(root: Path, distributions: Dict[str, str]) -> Path:
    """A real second interpreter whose site-packages holds only the given distributions'
    metadata (no code): enough for the project's interpreter probe."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    for name, version in distributions.items():
        info = purelib / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "RECORD").write_text(f"{name.replace('-', '_')}/__init__.py,,\n")
    return venv / "bin" / "python"


def _results(run: Flake8Run, code: str) -> Dict[str, List[int]]:
    found: Dict[str, List[int]] = {}
    for result in run.results:
        if result.code == code:
            found.setdefault(result.path[2:], []).append(result.line)
    return {path: sorted(lines) for path, lines in found.items()}


def test_missing_extras_are_reported_where_the_code_needs_them(
        lint: Callable[..., Flake8Run]) -> None:
    run = lint(PROJECT)
    for code in ("SBA206", "SBA207"):
        assert _results(run, code) == _marked(PROJECT, code)
    runtime = {(r.path[2:], r.line) for r in run.results if r.text.endswith("[runtime]")}
    assert runtime == {(path, line) for code in ("SBA206 runtime", "SBA207 runtime")
                       for path, lines in _marked(PROJECT, code).items() for line in lines}


def test_an_interpreter_with_both_extras_is_silent(
        lint: Callable[..., Flake8Run], tmp_path_factory: pytest.TempPathFactory) -> None:
    python = _fake_interpreter(tmp_path_factory.mktemp("env"), {
        **STACK, "email-validator": "2.2.0", "python-multipart": "0.0.20"})
    files = dict(PROJECT, **{"pyproject.toml": f"[project]\nname = 'fixture'\n\n"
                                               f"[tool.flake8-stability]\npython = '{python}'\n"})
    run = lint(files)
    assert not [r for r in run.results if r.code in ("SBA206", "SBA207")], run.results


# -- in-process: messages under other installed versions -------------------------------------------
def _findings(source: str, code: str, distributions: Optional[Dict[str, str]],
              error: Optional[str] = None) -> List[Finding]:
    text = textwrap.dedent(source).lstrip("\n")
    project = ProjectContext(Path("."))
    project.__dict__["environment"] = Environment(
        executable="/srv/venv/bin/python", distributions=dict(distributions or {}), error=error)
    module = ModuleContext("app/main.py", text.splitlines(True), ast.parse(text), project)
    return list(rule_for(code)().check_module(module))


USER = '''
    from pydantic import BaseModel, EmailStr

    class User(BaseModel):
        email: EmailStr
'''
FORM = '''
    from fastapi import FastAPI, Form

    app = FastAPI()

    @app.post("/login")
    def login(username: str = Form(...)):
        return username
'''


def test_a_shared_dependency_is_reported_once_and_named() -> None:
    source = """
        from fastapi import Depends, FastAPI
        from pydantic import EmailStr

        app = FastAPI()

        def by_email(email: EmailStr):
            return email

        @app.get("/a")
        def a(user=Depends(by_email)):
            return user

        @app.get("/b", dependencies=[Depends(by_email)])
        def b():
            return 1
    """
    found = _findings(source, "SBA206", STACK)
    assert [(f.line, f.message) for f in found] == [
        (6, "parameter 'email' of app.get() route a() (in by_email()) is EmailStr, but "
            "email-validator is not installed")]


def test_email_validator_1_is_refused_from_pydantic_2_6() -> None:
    found = _findings(USER, "SBA206", {"pydantic": "2.14.4", "email-validator": "1.3.1"})
    assert [f.severity for f in found] == [Severity.BLOCKING]
    assert "email-validator 1.3.1 is installed" in found[0].message
    assert "ImportError: email-validator version >= 2.0 required" in found[0].root_cause
    assert "email-validator>=2,<3" in found[0].fix.description
    assert _findings(USER, "SBA206", {"pydantic": "2.5.3", "email-validator": "1.3.1"}) == []
    assert _findings(USER, "SBA206", {"pydantic": "1.10.21", "email-validator": "1.3.1"}) == []


def test_the_error_text_follows_the_installed_pydantic() -> None:
    old = _findings(USER, "SBA206", {"pydantic": "1.10.21"})
    assert "run `pip install pydantic[email]`" in old[0].root_cause
    assert "pydantic 1.10.21" in old[0].root_cause
    new = _findings(USER, "SBA206", {"pydantic": "2.14.4"})
    assert "run `pip install 'pydantic[email]'`" in new[0].root_cause
    assert "/srv/venv/bin/python" in new[0].root_cause


def test_unknown_environments_stay_silent() -> None:
    assert _findings(USER, "SBA206", {}, error="cannot run /nope/python") == []
    assert _findings(USER, "SBA206", {"fastapi": "0.165.0"}) == []  # no pydantic: unknown
    assert _findings(FORM, "SBA207", {}, error="cannot run /nope/python") == []
    assert _findings(FORM, "SBA207", {"pydantic": "2.14.4"}) == []  # no fastapi: unknown


def test_the_multipart_look_alike_gets_its_own_error() -> None:
    found = _findings(FORM, "SBA207", {**STACK, "multipart": "1.2.1"})
    assert len(found) == 1 and found[0].line == 6
    assert 'It seems you installed "multipart" instead.' in found[0].root_cause
    assert 'only the unrelated "multipart" 1.2.1 is installed' in found[0].message
    assert "pip uninstall multipart" in found[0].fix.description


def test_the_check_described_follows_the_installed_fastapi() -> None:
    new = _findings(FORM, "SBA207", STACK)[0].root_cause
    assert "fastapi 0.165.0 checks for the python_multipart module, then multipart.multipart" in new
    old = _findings(FORM, "SBA207", {**STACK, "fastapi": "0.110.0"})[0].root_cause
    assert "fastapi 0.110.0 checks for multipart.multipart when" in old
    assert _findings(FORM, "SBA207", {**STACK, "python-multipart": "0.0.9"}) == []
