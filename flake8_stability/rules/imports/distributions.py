"""SBA108: an import name served by the wrong PyPI distribution (`jwt` instead of PyJWT)."""
from __future__ import annotations

from typing import Iterator, List, Optional, Set, Tuple

from ...dependencies.declared import DeclaredDependencies, DeclaredRequirement
from ...environment import Environment
from ...findings import Category, Finding, Location, Severity
from ...knowledge.distributions import LOOK_ALIKES, LookAlike
from ...project.model import ModuleInfo, ProjectModel
from ...project.resolve import PROJECT
from ...project.summary import TYPE_CHECKING_GUARD, ImportRecord
from ..base import Invalid, ProjectRule, Valid
from .declared import imported_tops, project_declared


def imported_names(record: ImportRecord) -> List[str]:
    """The dotted names an import statement binds or loads (`from a import b` -> a, a.b)."""
    if record.level:
        return []
    names = [record.module] + [f"{record.module}.{name}" for name, _ in record.names]
    if not record.is_from:
        names = [alias.name for alias in getattr(record.node, "names", ())]
    return [name for name in names if name]


def _needs(entry: LookAlike, record: ImportRecord) -> Optional[str]:
    """What in the import needs the contested module: the module itself, or a name that
    needs it (`fastapi.Form`); None when nothing does."""
    if entry.module in imported_tops(record):
        return entry.module
    return next((name for name in imported_names(record) for needed in entry.needed_by
                 if name == needed or name.startswith(needed + ".")), None)


class _Evidence:
    """Where the look-alike of one entry shows: declared (requirement lines) or installed."""

    def __init__(self, entry: LookAlike, declared: DeclaredDependencies,
                 environment: Environment) -> None:
        self.entry = entry
        self.environment = environment
        self.requirements: Tuple[DeclaredRequirement, ...] = tuple(
            r for r in declared.for_name(entry.wrong)
            if not r.constraint and r.applies(environment.markers))
        self.installed = entry.module in environment.provides.get(entry.wrong, ())
        self.partner = not entry.only_with or any(
            environment.has(name) or declared.declares(name) for name in entry.only_with)

    @property
    def found(self) -> bool:
        return bool(self.requirements or self.installed) and self.partner

    def cause(self) -> str:
        entry, env = self.entry, self.environment
        right = " or ".join(entry.right)
        parts = []
        if self.installed:
            parts.append(f"the project's interpreter has {env.describe(entry.wrong)} installed, "
                         f"which provides `{entry.module}`")
        if self.requirements:
            lines = ", ".join(f"{r.where()} ({r.shown()})" for r in self.requirements)
            parts.append(f"the project declares the distribution {entry.wrong!r} ({lines})"
                         + ("" if self.installed else
                            f", so an install from the declared dependencies gets it "
                            f"({self._right_here()})"))
        return (" and ".join(parts) + f", but the code expects {right}: {entry.failure}.")

    def _right_here(self) -> str:
        installed = [self.environment.describe(name) for name in self.entry.right
                     if self.environment.has(name)]
        if installed:
            return f"this interpreter has {' and '.join(installed)}, so it works only here"
        return f"this interpreter has neither {self.entry.wrong} nor {self.entry.right[0]}"

    def fix(self) -> str:
        entry = self.entry
        right = " or ".join(f"`{name}`" for name in entry.right)
        where = (" in " + ", ".join(r.where() for r in self.requirements)
                 if self.requirements else "")
        return (f"Depend on {right} instead of `{entry.wrong}`{where}, then "
                f"`pip uninstall {entry.wrong}` and reinstall {right} (both install "
                f"`{entry.module}`, so the files of the last one installed win).")

    def related(self) -> Tuple[Location, ...]:
        return tuple(Location(str(r.path), r.line, 0, f"declares {r.shown()}, the "
                              f"look-alike of {' / '.join(self.entry.right)}")
                     for r in self.requirements)


class WrongDistributionForImport(ProjectRule):
    code = "SBA108"
    name = "wrong-distribution-for-import"
    severity = Severity.RUNTIME
    category = Category.IMPORTS
    versions = ("Any versions: the distribution installed under the import name decides (`jwt` for"
                " PyJWT, `multipart` for python-multipart).")
    summary = "an import served by a look-alike PyPI distribution (`jwt` instead of PyJWT)"
    references = ("I05",)
    what = ("An import of a name that more than one PyPI distribution installs, where the "
            "project declares, or its interpreter has installed, the look-alike that breaks "
            "the code: `jwt` instead of PyJWT, `jose` instead of python-jose, `multipart` "
            "instead of python-multipart (needed by FastAPI's `Form`, `File`, `UploadFile`, "
            "`OAuth2PasswordRequestForm`), the standalone `bson` next to pymongo. Reported on "
            "the import that needs the right distribution; the requirement line is related.")
    why = ("The import itself usually works, and the failure comes at first use: `AttributeError: "
           "module 'jwt' has no attribute 'encode'` at the first login with the `jwt` "
           "distribution; `RuntimeError: Form data requires \"python-multipart\" to be "
           "installed. It seems you installed \"multipart\" instead.` when FastAPI declares a "
           "form route; `ImportError: cannot import name 'SON' from 'bson'` when pymongo is "
           "imported over the standalone `bson`; and the Python 2 `jose` fails with "
           "`SyntaxError: Missing parentheses in call to 'print'`.")
    how_to_fix = ("Replace the look-alike with the intended distribution in the dependency "
                  "file (the message names file and line), uninstall the look-alike and "
                  "reinstall the right one: both write the same top-level module.")
    fix_safety = ("Safe when the code was written for the intended distribution (its API is "
                  "the one the code calls); reinstalling is needed because both share files.")
    valid = (
        Valid({
            "requirements.txt": '''
                fastapi>=0.115
                PyJWT[crypto]>=2.8
                python-multipart>=0.0.9
            ''',
            "app/__init__.py": "",
            "app/auth.py": '''
                import jwt
                from fastapi import APIRouter, Depends
                from fastapi.security import OAuth2PasswordRequestForm

                router = APIRouter()


                @router.post("/token")
                def login(form: OAuth2PasswordRequestForm = Depends()):
                    return {"access_token": jwt.encode({"sub": form.username}, "secret",
                                                       algorithm="HS256")}
            ''',
        }, installed=("PyJWT==2.15.1", "python-multipart==0.0.34"),
           note="PyJWT and python-multipart, the distributions FastAPI's docs use"),
        Valid({
            "pyproject.toml": '''
                [project]
                name = "auth-service"
                dependencies = [
                    "fastapi>=0.115",
                    "python-jose[cryptography]>=3.3",
                    "python-dotenv>=1.0",
                ]
            ''',
            "app/__init__.py": "",
            "app/security.py": '''
                from dotenv import load_dotenv
                from jose import JWTError, jwt

                load_dotenv()


                def decode(token: str, key: str) -> dict:
                    try:
                        return jwt.decode(token, key, algorithms=["HS256"])
                    except JWTError:
                        return {}
            ''',
        }, installed=("python-jose==3.5.0", "ecdsa==0.19.2", "rsa==4.9.1", "pyasn1==0.6.5",
                      "six==1.17.0", "python-dotenv==1.2.4"),
           note="python-jose declared as the FastAPI tutorial does"),
    )
    invalid = (
        Invalid({
            "requirements.txt": '''
                fastapi>=0.115
                jwt>=1.3
            ''',
            "app/__init__.py": "",
            "app/auth.py": '''
                import jwt  # expect: SBA108


                def create_token(user_id: int) -> str:
                    return jwt.encode({"sub": str(user_id)}, "secret", algorithm="HS256")
            ''',
        }, note="`pip install jwt` is not PyJWT"),
        Invalid({
            "pyproject.toml": '''
                [project]
                name = "uploads"
                dependencies = ["fastapi>=0.115", "multipart>=1.0"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI, Form  # expect: SBA108

                app = FastAPI()


                @app.post("/login")
                def login(username: str = Form(), password: str = Form()):
                    return {"user": username}
            ''',
        }, note="FastAPI needs python-multipart, not multipart"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        declared = project_declared(model)
        for entry in LOOK_ALIKES:
            evidence = _Evidence(entry, declared, model.environment)
            if evidence.found:
                yield from self._check(model, entry, evidence)

    def _check(self, model: ProjectModel, entry: LookAlike,
               evidence: _Evidence) -> Iterator[Finding]:
        for info in model:
            seen: Set[int] = set()
            for record in info.summary.imports if info.summary else ():
                if record.line in seen or record.guard == TYPE_CHECKING_GUARD:
                    continue
                needing = _needs(entry, record)
                if needing is None or self._local(model, record):
                    continue
                seen.add(record.line)
                yield self._finding(info, record, entry, evidence, needing)

    @staticmethod
    def _local(model: ProjectModel, record: ImportRecord) -> bool:
        tops = imported_tops(record)
        return not tops or any(model.resolve(top).kind == PROJECT for top in tops)

    def _finding(self, info: ModuleInfo, record: ImportRecord, entry: LookAlike,
                 evidence: _Evidence, needing: str) -> Finding:
        right = " / ".join(entry.right)
        how = "installed" if evidence.installed else "declared"
        message = (f"`{entry.module}` comes from the look-alike distribution {entry.wrong!r}, "
                   f"not {right}" if needing == entry.module else
                   f"`{needing}` needs {right}, but the look-alike {entry.wrong!r} is {how}")
        return self.report_in(
            info, record.node, message,
            evidence.cause(), evidence.fix(), related=evidence.related())
