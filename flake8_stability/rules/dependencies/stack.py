"""The installed stack does not fit together: SBA203."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

from ...dependencies.installed import (STACK, Conflict, broken_requirements, failing_first,
                                       import_names, matched_incompatibilities)
from ...environment import Environment
from ...findings import Category, Finding, Severity
from ...knowledge import stack
from ...project.model import ProjectModel
from ...project.package_imports import ImportSite, milder, package_sites, severest
from ..base import Invalid, ProjectRule, Valid

# sqlmodel 0.0.8, fastapi 0.99.1, pydantic 2.5.3 and SQLAlchemy 2.0.25 side by side, as
# `pip install --no-deps` leaves them: the interpreter the invalid examples are judged with.
CONFLICTING_STACK = (
    "sqlmodel==0.0.8", "pydantic==2.5.3", "pydantic-core==2.14.6", "SQLAlchemy==2.0.25",
    "greenlet==3.0.3", "fastapi==0.99.1", "starlette==0.27.0", "typing-extensions==4.12.2",
    "annotated-types==0.7.0")


def interpreter(env: Environment) -> str:
    """`/srv/app/.venv/bin/python (Python 3.11.7)`, for root causes."""
    return f"{env.executable or 'the project interpreter'} (Python {env.python or '?'})"


def sites_for(model: ProjectModel,
              packages: Tuple[str, ...]) -> Optional[Tuple[str, List[ImportSite]]]:
    """The package of `packages` that breaks when imported (the one building on the others,
    `failing_first`) with the project's imports of it, most severe first; None when it is not
    installed or the project does not import it (importing only the others works)."""
    dist = failing_first(packages)[0]
    if not model.environment.has(dist):
        return None
    sites = package_sites(model, import_names(model.environment, dist))
    return (dist, sites) if sites else None


def when_text(rule: stack.Incompatibility, env: Environment) -> str:
    """`sqlmodel 0.0.8 with pydantic 2.5.3` (`on Python 3.12.4` when the rule needs it)."""
    said = " with ".join(env.describe(dist) for dist in failing_first(rule.packages)
                         if env.has(dist))
    return said + (f" on Python {env.python}" if rule.python is not None else "")


class InstalledStackIncompatible(ProjectRule):
    code = "SBA203"
    name = "installed-stack-incompatible"
    severity = Severity.BLOCKING
    category = Category.DEPENDENCIES
    versions = ("Installed version pairs the shipped compatibility table rejects: e.g. sqlmodel "
                "0.0.8 with pydantic 2, fastapi < 0.100 with pydantic 2.")
    summary = "installed versions of the stack that do not work together"
    references = ("D01", "D02", "D03", "D04")
    what = ("Installed distributions of the web stack (fastapi, starlette, pydantic, "
            "pydantic-settings, sqlmodel, SQLAlchemy, ...) in the project's interpreter whose "
            "versions break each other: an installed `Requires-Dist` that is not met (what "
            "`pip check` reports, markers evaluated for that interpreter), or a combination "
            "the shipped stack table records as failing at import (sqlmodel < 0.0.14 with "
            "Pydantic 2, sqlmodel < 0.0.12 with SQLAlchemy 2, fastapi < 0.100 with Pydantic 2, "
            "fastapi >= 0.126 with Pydantic 1). In flake8 it is shown on the project's first "
            "import of the package that breaks; combinations that fail later are SBA209's.")
    why = ("pip refuses these pairs, but `pip install --no-deps`, a later `pip install -U "
           "pydantic` or a hand-edited lock file installs them anyway, and the app dies while "
           "importing: `pydantic.errors.PydanticImportError: `pydantic.errors:ConfigError` has "
           "been removed in V2.` (sqlmodel 0.0.8 on Pydantic 2.5.3 and SQLAlchemy 1.4.54), "
           "`ImportError: cannot import name "
           "'ThreadLocalMetaData' from 'sqlalchemy.schema'` (sqlmodel 0.0.8 on SQLAlchemy "
           "2.0.25), `ImportError: cannot import name 'Undefined' from 'pydantic.fields'` "
           "(fastapi 0.99.1 on Pydantic 2.5.3).")
    how_to_fix = ("Install versions that fit: upgrade the package that pins the old major "
                  "(sqlmodel >= 0.0.14 with SQLAlchemy >= 2.0, fastapi >= 0.100) or pin the other "
                  "one back, declare both, and re-create the environment from the declaration; "
                  "`pip check` must print nothing.")
    fix_safety = ("Unsafe: changing a major version of pydantic or SQLAlchemy can require code "
                  "changes (see SBA211 and the SQLAlchemy 2.0 migration guide). No mechanical "
                  "fix: the installed versions are the problem, and which one to move is a "
                  "decision about the code, so stability-fix edits no requirement for it.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import Optional

                from fastapi import FastAPI
                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    name: str

                app = FastAPI()
            ''',
        }, note="fastapi, pydantic, sqlmodel and SQLAlchemy installed in versions that fit"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import TYPE_CHECKING

                from fastapi import FastAPI

                if TYPE_CHECKING:
                    from sqlmodel.ext.asyncio.session import AsyncSession

                app = FastAPI()
            ''',
        }),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/models.py": '''
                from typing import Optional

                from sqlmodel import Field, SQLModel  # expect: SBA203

                class Hero(SQLModel, table=True):
                    id: Optional[int] = Field(default=None, primary_key=True)
                    name: str
            ''',
            "app/main.py": '''
                from fastapi import FastAPI  # expect: SBA203

                from app.models import Hero

                app = FastAPI()
            ''',
        }, raises="ImportError: cannot import name 'Undefined' from 'pydantic.fields'",
           run="import app.main", installed=CONFLICTING_STACK,
           note="versions that pip refuses together, installed with --no-deps"),
        Invalid({
            "app/__init__.py": "",
            "app/db.py": '''
                from sqlmodel import Session, create_engine  # expect: SBA203

                engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})

                def get_session():
                    with Session(engine) as session:
                        yield session
            ''',
            "app/main.py": '''
                import fastapi  # expect: SBA203

                from app.db import get_session

                app = fastapi.FastAPI()
            ''',
        }, raises="ImportError: cannot import name 'ThreadLocalMetaData' from 'sqlalchemy.schema'",
           run="import app.db", installed=CONFLICTING_STACK,
           note="importing the sqlmodel module alone"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        env = model.environment
        conflicts = [c for c in broken_requirements(env, STACK) if c.installed is not None]
        matched = matched_incompatibilities(env)
        problems: Dict[str, List[_Problem]] = {}
        sites: Dict[str, List[ImportSite]] = {}
        for problem in self._problems(env, conflicts, matched):
            found = sites_for(model, problem.packages)
            if found is not None:
                problems.setdefault(found[0], []).append(problem)
                sites[found[0]] = found[1]
        for dist, found in problems.items():
            yield self._report(model, dist, sites[dist], found)

    @staticmethod
    def _problems(env: Environment, conflicts: List[Conflict],
                  matched: Tuple[stack.Incompatibility, ...]) -> Iterator[_Problem]:
        for rule in matched:
            if rule.kind == stack.IMPORT:
                yield _Problem(rule.packages, _said(rule, conflicts, env), Severity.BLOCKING,
                               f"importing {{dist}} fails with {rule.error}", rule.fix,
                               f"{rule.id}: {rule.evidence}")
            elif rule.kind == stack.RESOLVER:
                severity = Severity.RUNTIME if rule.severity == "error" else Severity.WARNING
                yield _Problem(rule.packages, _said(rule, conflicts, env), severity,
                               f"pip refuses the combination ({rule.error})", rule.fix,
                               f"{rule.id}: {rule.evidence}")
        for conflict in conflicts:
            if not any(_covers(rule, conflict) for rule in matched):
                yield _Problem(
                    (conflict.requirer,), conflict.text(), Severity.WARNING,
                    "pip check reports it, and no failure is recorded for this pair",
                    f"install {conflict.required}{conflict.requirement.specifier} or a "
                    f"{conflict.requirer} release that accepts {conflict.required} "
                    f"{conflict.installed}", "")

    def _report(self, model: ProjectModel, dist: str, sites: List[ImportSite],
                problems: List[_Problem]) -> Finding:
        site = sites[0]
        severity = severest(milder(p.severity, site.severity) for p in problems)
        said = "; ".join(p.said for p in problems)
        causes = " ".join(f"{p.said}: {p.effect_on(dist)}"
                          + (f" (table entry {p.evidence})" if p.evidence else "") + "."
                          for p in problems)
        where = " that runs at boot" if site.severity is Severity.BLOCKING else ""
        return self.report_in(
            site.info, site.record.node,
            f"installed stack conflict: {said}; " + (
                problems[0].effect_on(dist) if len(problems) == 1
                else f"{len(problems)} recorded failures, listed in the root cause"),
            f"The project's interpreter {interpreter(model.environment)} has versions that "
            f"break each other. {causes} This is the project's first import of {dist}{where}.",
            "Install versions that fit: " + "; ".join(dict.fromkeys(p.fix for p in problems))
            + "; then re-install so that `pip check` prints nothing.",
            severity=severity,
            related=tuple(other.location(f"also imports {dist}") for other in sites[1:4]),
        )


@dataclass(frozen=True)
class _Problem:
    packages: Tuple[str, ...]
    said: str  # the unmet requirements as pip check words them, else the versions
    severity: Severity
    effect: str
    fix: str
    evidence: str

    def effect_on(self, dist: str) -> str:
        return self.effect.replace("{dist}", dist)


def _said(rule: stack.Incompatibility, conflicts: List[Conflict], env: Environment) -> str:
    """The unmet requirements of the rule's packages as pip words them, else the versions."""
    return ("; ".join(c.text() for c in conflicts if _covers(rule, c))
            or f"{when_text(rule, env)} installed")


def _covers(rule: stack.Incompatibility, conflict: Conflict) -> bool:
    return {conflict.requirer, conflict.required} <= set(rule.packages)
