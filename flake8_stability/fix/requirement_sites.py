"""Where a project declares the dependencies a text codemod edits: its main requirements, all in
the one file it installs from, in a form stability-fix can edit (a pip requirement file, the
PEP 621 / PEP 735 arrays of pyproject.toml); otherwise the reason it cannot."""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Sequence, Tuple

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..dependencies.declared import DeclaredDependencies, DeclaredRequirement
from ..dependencies.ranges import Declaration
from ..environment import Environment
from ..rules.dependencies.declared_ranges import sync_command

EDITABLE = frozenset({"requirements", "pep621", "pep735"})
_NOT_EDITED: Dict[str, str] = {
    "poetry": "the project declares its dependencies in a Poetry table, which stability-fix "
              "does not edit (use `poetry add`)",
    "setup.cfg": "the project declares its dependencies in setup.cfg, which stability-fix "
                 "does not edit",
}


def main_requirements(declared: DeclaredDependencies
                      ) -> Tuple[Tuple[DeclaredRequirement, ...], str]:
    """The project's main requirements in file order, or () and why they cannot be edited."""
    main = [r for r in declared.requirements
            if r.group is None and not r.development and not r.constraint]
    if not main:
        return (), ("the project declares no dependencies (no requirements file, no "
                    "[project] dependencies)")
    if len({r.path for r in main}) > 1:
        names = ", ".join(sorted({r.path.name for r in main}))
        return (), (f"the project declares its dependencies in several files ({names}); "
                    "change the one it is installed from")
    other = sorted({r.source for r in main} - EDITABLE)
    if other:
        fallback = f"stability-fix does not edit {other[0]} dependency tables"
        return (), _NOT_EDITED.get(other[0], fallback)
    return tuple(sorted(main, key=lambda r: r.line)), ""


def named(requirements: Iterable[DeclaredRequirement], name: str
          ) -> Tuple[DeclaredRequirement, ...]:
    return tuple(r for r in requirements if r.name == name)


def satisfied_by(requirements: Iterable[DeclaredRequirement],
                 wanted: Dict[str, Sequence[str]]) -> Optional[DeclaredRequirement]:
    """The requirement that already declares what is needed: a package of `wanted` (with one of
    its listed extras, when it lists any)."""
    for requirement in requirements:
        extras = wanted.get(requirement.name)
        if extras is not None and (not extras
                                   or set(extras) & set(requirement.requirement.extras)):
            return requirement
    return None


def install_note(declared: DeclaredDependencies, requirement: DeclaredRequirement) -> str:
    """How to bring the environment in line once the file is fixed."""
    declaration = Declaration(requirement.name, (requirement,),
                              declared.locked.get(requirement.name))
    command = sync_command(declared, declaration)
    relock = {locked.source for locked in declared.locked.values()}
    before = " after updating " + " and ".join(sorted(relock)) if relock else ""
    return f"re-install{before}: {command}"


def extra_requirement(environment: Environment, package: str, extras: Sequence[str],
                      name: str) -> str:
    """`name` with the version range the first of `package`'s `extras` that lists it asks for
    in the project's interpreter (`python-multipart>=0.0.18` from FastAPI's `standard`), else
    the bare name."""
    wanted = canonicalize_name(name)
    for extra in extras:
        for requirement in environment.requirements_of(package):
            marker = str(requirement.marker or "").replace("'", '"')
            if canonicalize_name(requirement.name) == wanted and f'"{extra}"' in marker:
                return str(Requirement(f"{name}{requirement.specifier}"))
    return name
