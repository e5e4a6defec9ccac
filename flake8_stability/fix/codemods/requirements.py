"""Requirement-file fixes (SBA2xx): declare what the failing code needs (greenlet through
`sqlalchemy[asyncio]`, email-validator through `pydantic[email]`, python-multipart, the
database driver its URL loads) and cap a core package below the break it is open to. Each
edits the one line that declares the package, or adds a line right after it."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Dict, Optional, Sequence, Tuple

from ...analysis.engines import EngineCall
from ...dependencies.declared import DeclaredRequirement
from ...dependencies.ranges import declarations
from ...findings import Finding
from ...rules.dependencies.declared_ranges import unbounded_breaks
from ...rules.dependencies.drivers import missing_driver
from ..requirement_sites import (extra_requirement, install_note, main_requirements, named,
                                 satisfied_by)
from ..requirement_text import AddExtra, AddUpperBound
from ..text_codemod import Plan, TextCodemod, TextEdit
from .common import no_fix_data

if TYPE_CHECKING:
    from ...context import ModuleContext, ProjectContext


class _DeclareDependency(TextCodemod):
    """Declare a package the project's code needs: add `extra` to the requirement of `owner`
    when the project declares it on one line, else add `package` as a new requirement after
    the first of `anchors` it declares (or after its last main requirement)."""

    owner: ClassVar[Optional[str]] = None
    extra: ClassVar[str] = ""
    package: ClassVar[str]
    anchors: ClassVar[Tuple[str, ...]]
    already: ClassVar[Dict[str, Sequence[str]]]  # what declares it already (name -> extras)

    def plan(self, finding: Finding, project: "ProjectContext") -> Plan:
        return self.declare(project, self.already, self.added(project))

    def declare(self, project: "ProjectContext", already: Dict[str, Sequence[str]],
                added: str) -> Plan:
        """Edits that declare `added` (or `owner[extra]`), unless one of `already` is."""
        declared = project.declared
        main, why = main_requirements(declared)
        if why:
            return Plan.skip(why)
        done = satisfied_by(main, already)
        if done is not None:
            return Plan.skip(f"{done.requirement} is already declared ({done.where()}); "
                             f"{install_note(declared, done)}")
        owners = named(main, self.owner) if self.owner else ()
        if len(owners) > 1:
            return Plan.skip(f"{self.owner} is declared on several lines "
                             f"({', '.join(r.where() for r in owners)})")
        if owners and owners[0].requirement.url:
            return Plan.skip(f"{self.owner} is declared as a URL ({owners[0].where()}), which "
                             "stability-fix does not edit")
        if owners:
            edit = TextEdit(str(owners[0].path), owners[0].line, self.owner,
                            rewrite=AddExtra(self.extra))
            return Plan((edit,), (install_note(declared, owners[0]),))
        anchor = self._anchor(main)
        edit = TextEdit(str(anchor.path), anchor.line, anchor.name, insert=added)
        return Plan((edit,), (install_note(declared, anchor),))

    def _anchor(self, main: Tuple[DeclaredRequirement, ...]) -> DeclaredRequirement:
        plain = tuple(r for r in main if not r.requirement.url) or main
        for name in self.anchors:
            found = named(plain, name)
            if len(found) == 1:
                return found[0]
        return plain[-1]

    def added(self, project: "ProjectContext") -> str:
        return self.package


class SqlalchemyAsyncioExtra(_DeclareDependency):
    name = "sqlalchemy-asyncio-extra"
    codes = ("SBA205",)
    summary = ("adds the `asyncio` extra to the SQLAlchemy requirement (`sqlalchemy[asyncio]`, "
               "which installs greenlet), or a `sqlalchemy[asyncio]` line after sqlmodel's")
    owner = "sqlalchemy"
    extra = "asyncio"
    package = "sqlalchemy[asyncio]"
    anchors = ("sqlmodel",)
    already = {"greenlet": (), "sqlalchemy": ("asyncio",), "sqlmodel": ("asyncio",)}


class PydanticEmailExtra(_DeclareDependency):
    name = "pydantic-email-extra"
    codes = ("SBA206",)
    summary = ("adds the `email` extra to the pydantic requirement (`pydantic[email]`), or an "
               "`email-validator` line with the range the installed pydantic asks for")
    owner = "pydantic"
    extra = "email"
    package = "email-validator"
    anchors = ("fastapi", "sqlmodel")
    already = {"email-validator": (), "pydantic": ("email",),
               "fastapi": ("standard", "standard-no-fastapi-cloud-cli", "all")}

    def added(self, project: "ProjectContext") -> str:
        return extra_requirement(project.environment, "pydantic", ("email",), self.package)


class AddPythonMultipart(_DeclareDependency):
    name = "add-python-multipart"
    codes = ("SBA207",)
    summary = ("adds a `python-multipart` requirement after FastAPI's, with the range FastAPI's "
               "`standard` extra asks for")
    package = "python-multipart"
    anchors = ("fastapi",)
    already = {"python-multipart": (),
               "fastapi": ("standard", "standard-no-fastapi-cloud-cli", "all")}

    def added(self, project: "ProjectContext") -> str:
        return extra_requirement(project.environment, "fastapi", ("standard", "all"),
                                 self.package)


class AddDatabaseDriver(_DeclareDependency):
    name = "add-database-driver"
    codes = ("SBA204",)
    summary = ("adds the driver the engine URL loads (`asyncpg`, `aiosqlite`, ...) as a "
               "requirement after SQLAlchemy's (or sqlmodel's); a driver two distributions "
               "provide (`psycopg2` / `psycopg2-binary`) is left to you")
    anchors = ("sqlalchemy", "sqlmodel")
    already = {}

    def plan(self, finding: Finding, project: "ProjectContext") -> Plan:
        module, engine = _engine_at(finding, project)
        missing = missing_driver(module, engine) if module and engine else None
        if missing is None:
            return Plan.skip("the engine call no longer needs a missing driver")
        driver, dists = missing
        if len(dists) != 1:
            return Plan.skip(f"the {driver} driver comes in {' or '.join(dists)}: declare the "
                             "one you deploy")
        return self.declare(project, {dists[0]: ()}, dists[0])


def _engine_at(finding: Finding, project: "ProjectContext"
               ) -> Tuple[Optional["ModuleContext"], Optional[EngineCall]]:
    """The module of the finding and its engine call at the finding's place."""
    info = project.model.module_at(Path(finding.path))
    if info is None or info.tree is None:
        return None, None
    module = project.model.context(info)
    at = [engine for engine in module.engine_calls
          if (engine.call.lineno, engine.call.col_offset) == (finding.line, finding.col)]
    return module, (at[0] if at else None)


class CapCoreStack(TextCodemod):
    """Finds the requirement by the name its finding's fix data gives (`requirement`) on the
    lines its related locations point at."""

    name = "cap-core-stack"
    codes = ("SBA210",)
    summary = ("adds the upper bound below the first recorded break to the requirement "
               "(`sqlalchemy>=1.4` -> `sqlalchemy>=1.4,<2.0`), only when the installed version "
               "is below it")

    def plan(self, finding: Finding, project: "ProjectContext") -> Plan:
        declared = project.declared
        main, why = main_requirements(declared)
        if why:
            return Plan.skip(why)
        name = finding.fix.data.get("requirement")
        if name is None:
            return Plan.skip(no_fix_data("requirement"))
        requirement = _related_requirement(finding, name, main)
        if requirement is None:
            return Plan.skip("its requirement is not one line of the project's main "
                             "dependencies")
        environment = project.environment
        unbounded = {d.name: crossed for d, _, crossed in
                     unbounded_breaks(declarations(declared, environment.markers))}
        crossed = unbounded.get(requirement.name)
        if not crossed:
            return Plan.skip(f"{requirement.requirement} is bounded already")
        cap = crossed[0].version
        installed = environment.version(requirement.name)
        if installed is not None and installed >= cap:
            return Plan.skip(f"the installed {requirement.name} {installed} is not below {cap}: "
                             "the code may already rely on it, so choose the cap by hand")
        edit = TextEdit(str(requirement.path), requirement.line, requirement.name,
                        rewrite=AddUpperBound(str(cap)))
        return Plan((edit,))


def _related_requirement(finding: Finding, name: str, main: Tuple[DeclaredRequirement, ...]
                         ) -> Optional[DeclaredRequirement]:
    """The one main requirement of `name` (the finding's fix data) on a line the finding's
    related locations point at (several requirements can share a line: `dependencies =
    ["fastapi>=0.95", "pydantic>=1.10"]`)."""
    places = {(_resolved(location.path), location.line) for location in finding.related}
    found = [r for r in main if r.name == name and (_resolved(str(r.path)), r.line) in places]
    return found[0] if len(found) == 1 else None


def _resolved(path: str) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path).absolute()
