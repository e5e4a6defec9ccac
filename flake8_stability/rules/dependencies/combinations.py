"""Installed versions known to fail together after import: SBA209."""
from __future__ import annotations

from typing import Iterator

from ...dependencies.installed import matched_incompatibilities
from ...findings import Category, Finding, Severity
from ...knowledge import stack
from ...project.model import ProjectModel
from ...project.package_imports import milder
from ..base import Invalid, ProjectRule, Valid
from .stack import interpreter, sites_for, when_text

# passlib 1.7.4 (its last release) with bcrypt 5.0.0 next to the web stack: the interpreter
# the invalid examples are judged with.
_PASSLIB_BCRYPT_5 = ("passlib==1.7.4", "bcrypt==5.0.0", "fastapi==0.165.0", "starlette==1.10.0",
                     "pydantic==2.14.4")
_PASSLIB_PROJECT = '''
    [project]
    name = "auth"
    dependencies = ["passlib[bcrypt]==1.7.4"]
'''
_TOO_LONG = "ValueError: password cannot be longer than 72 bytes, truncate manually if necessary"


class KnownBadCombination(ProjectRule):
    code = "SBA209"
    name = "known-bad-combination"
    severity = Severity.RUNTIME
    category = Category.DEPENDENCIES
    versions = ("passlib 1.7.4 with bcrypt >= 4.1 (an error logged at the first hash) and bcrypt "
                ">= 5.0 (the first hash fails).")
    summary = "installed versions that import fine but are known to fail together later"
    references = ("D12",)
    what = ("Installed versions that the shipped stack table records as failing after the "
            "import succeeded: passlib 1.7.4 (its last release) with bcrypt >= 4.1, fastapi < "
            "0.128.3 forced onto Starlette 1.x, Pydantic 1 before 1.10.16 on Python >= 3.12.4. "
            "Shown on the project's first import of the package that breaks (`passlib`, "
            "`fastapi`, `pydantic`).")
    why = ("passlib reads `bcrypt.__about__`, which bcrypt 4.1 removed: the first hash logs "
           "`(trapped) error reading bcrypt version ... AttributeError: module 'bcrypt' has no "
           "attribute '__about__'`, and with bcrypt 5 passlib's own self-test fails the first "
           "`CryptContext.hash()` with `ValueError: password cannot be longer than 72 bytes, "
           "truncate manually if necessary (e.g. my_password[:72])`, so every login or signup "
           "returns 500.")
    how_to_fix = ("Pin the combination back (`bcrypt<4.1` next to passlib) or replace the "
                  "unmaintained package: hash with `bcrypt` directly, or use `pwdlib` / "
                  "`libpass`; for the other combinations the message names the versions.")
    fix_safety = ("Unsafe: a different hashing library must still verify the stored hashes "
                  "(bcrypt `$2b$` hashes stay valid with `bcrypt` and `pwdlib`).")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/security.py": '''
                import bcrypt

                def hash_password(password: str) -> str:
                    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()

                def verify_password(password: str, hashed: str) -> bool:
                    return bcrypt.checkpw(password.encode(), hashed.encode())
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.security import hash_password

                app = FastAPI()
            ''',
        }, installed=("bcrypt==5.0.0",), note="bcrypt used directly"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from sqlmodel import SQLModel

                app = FastAPI()
            ''',
        }, note="fastapi, Starlette and Pydantic installed in versions that work together"),
    )
    invalid = (
        Invalid({
            "pyproject.toml": _PASSLIB_PROJECT,
            "app/__init__.py": "",
            "app/security.py": '''
                from passlib.context import CryptContext  # expect: SBA209

                pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")

                def hash_password(password: str) -> str:
                    return pwd_context.hash(password)
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.security import hash_password

                app = FastAPI()
            ''',
        }, raises=_TOO_LONG, run="from app.security import hash_password; hash_password('s3cret')",
           installed=_PASSLIB_BCRYPT_5, note="the first hash fails"),
        Invalid({
            "pyproject.toml": _PASSLIB_PROJECT,
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from passlib.hash import bcrypt  # expect: SBA209

                app = FastAPI()

                @app.post("/users")
                async def create_user(password: str) -> dict:
                    return {"hash": bcrypt.hash(password)}
            ''',
        }, raises=_TOO_LONG, run="import asyncio, app.main; asyncio.run(app.main.create_user('pw'))",
           installed=_PASSLIB_BCRYPT_5),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        env = model.environment
        for rule in matched_incompatibilities(env):
            if rule.kind != stack.RUNTIME:
                continue
            found = sites_for(model, rule.packages)
            if found is None:
                continue
            dist, sites = found
            graded = Severity.RUNTIME if rule.severity == "error" else Severity.WARNING
            said = when_text(rule, env)
            note = f" ({rule.note})" if rule.note else ""
            yield self.report_in(
                sites[0].info, sites[0].record.node,
                f"known bad combination: {said}: {rule.error}",
                f"The project's interpreter {interpreter(env)} has {said}{note}. It imports, "
                f"then fails with: {rule.error}. Evidence: {rule.evidence} (table entry "
                f"{rule.id}). This is the project's first import of {dist}.",
                f"Install versions that work together: {rule.fix}.",
                severity=milder(graded, sites[0].severity),
                related=tuple(other.location(f"also imports {dist}") for other in sites[1:4]),
            )
