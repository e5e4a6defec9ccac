"""The dependency manifest the audit report renders: for every package of the stack and every
declared package, what is declared (with file and line), locked and installed, the range the
rest of the installed and declared stack requires of it, and a verdict with a one-line reason.

Verdicts, the first that holds: `conflict` (its declared range cannot work with another
declared one, or the installed version breaks another installed package's requirement),
`unknown` (the interpreter could not be read), `missing` (a main dependency not installed),
`outside-declared` (installed outside the declared range or the lock's version), `undeclared`
(a stack package installed that nothing declares or requires), else `ok`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from ..environment import Environment
from ..knowledge import stack
from .declared import DeclaredDependencies, DeclaredRequirement
from .installed import STACK, Conflict, applies, broken_requirements
from .ranges import (Declaration, RangeConflict, declarations, declared_conflicts,
                     pinned_version, python_version)

OK = "ok"
CONFLICT = "conflict"
OUTSIDE = "outside-declared"
MISSING = "missing"
UNDECLARED = "undeclared"
UNKNOWN = "unknown"
VERDICTS = (OK, CONFLICT, OUTSIDE, MISSING, UNDECLARED, UNKNOWN)


@dataclass(frozen=True)
class DeclaredSpec:
    """One declaration of the package: the requirement as written (credentials masked)."""

    requirement: str
    path: str
    line: int
    source: str
    group: Optional[str]
    constraint: bool
    development: bool

    @classmethod
    def of(cls, requirement: DeclaredRequirement) -> "DeclaredSpec":
        return cls(requirement.shown(), str(requirement.path), requirement.line,
                   requirement.source, requirement.group, requirement.constraint,
                   requirement.development)


@dataclass(frozen=True)
class Entry:
    """One package of the manifest (`name` is canonical)."""

    name: str
    stack: bool
    declared: Tuple[DeclaredSpec, ...]
    locked: Optional[str]
    locked_at: Optional[str]  # `uv.lock:40`
    installed: Optional[str]
    required: str  # what the rest of the stack requires of it, as a specifier ("" = nothing)
    required_by: Tuple[str, ...]  # `fastapi 0.165.0 requires starlette>=1.6.0`
    verdict: str
    reason: str

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Manifest:
    entries: Tuple[Entry, ...]
    interpreter: Optional[str]
    python: Optional[str]
    requires_python: Optional[str]
    requires_python_at: Optional[str]  # `pyproject.toml:4`
    environment_error: Optional[str]
    files: Tuple[str, ...]  # the dependency files read
    problems: Tuple[str, ...]  # `requirements.txt:3: invalid requirement ...`

    def entry(self, name: str) -> Optional[Entry]:
        wanted = canonicalize_name(name)
        return next((e for e in self.entries if e.name == wanted), None)

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["entries"] = [entry.to_dict() for entry in self.entries]
        return data


def build_manifest(declared: DeclaredDependencies, env: Environment) -> Manifest:
    """The manifest of a project's declared dependencies against its interpreter."""
    main = declarations(declared, env.markers)
    conflicts = declared_conflicts(declared, env.markers, python_version(env.python))
    broken = [c for c in broken_requirements(env) if c.installed is not None]
    names = dict.fromkeys([*STACK, *main, *(r.name for r in declared.requirements),
                           *(n for n in STACK if env.has(n))])
    entries = tuple(_entry(name, declared, main, env, conflicts, broken) for name in names)
    wanted = declared.requires_python
    return Manifest(
        entries=entries, interpreter=env.executable, python=env.python,
        requires_python=str(wanted.specifier) if wanted else None,
        requires_python_at=f"{wanted.path.name}:{wanted.line}" if wanted else None,
        environment_error=env.error, files=tuple(str(path) for path in declared.files),
        problems=tuple(f"{p.path.name}:{p.line}: {p.message}" for p in declared.problems))


def _entry(name: str, declared: DeclaredDependencies, main: Dict[str, Declaration],
           env: Environment, conflicts: Tuple[RangeConflict, ...],
           broken: List[Conflict]) -> Entry:
    declaration = main.get(name)
    locked = declared.locked.get(name)
    installed = None if env.error else env.distributions.get(name)
    required, required_by = required_of(name, env, main)
    verdict, reason = _verdict(name, declared, declaration, env, conflicts, broken, required_by)
    return Entry(
        name=name, stack=name in STACK,
        declared=tuple(DeclaredSpec.of(r) for r in declared.for_name(name)),
        locked=str(locked.version) if locked else None,
        locked_at=f"{locked.path.name}:{locked.line}" if locked else None,
        installed=installed, required=str(required), required_by=required_by,
        verdict=verdict, reason=reason)


def required_of(name: str, env: Environment,
                main: Dict[str, Declaration]) -> Tuple[SpecifierSet, Tuple[str, ...]]:
    """What the installed distributions (their own Requires-Dist, markers evaluated) and the
    table releases of the single declared versions of stack packages require of `name`."""
    combined = SpecifierSet()
    said: List[str] = []
    for dist in sorted(env.distributions) if not env.error else ():
        for requirement in env.requirements_of(dist):
            if canonicalize_name(requirement.name) != name:
                continue
            if applies(requirement, env.markers, ""):
                combined &= requirement.specifier
                said.append(f"{dist} {env.distributions[dist]} requires "
                            f"{requirement.name}{requirement.specifier or ' (any version)'}")
    for other, version in _single_versions(main.values()):
        if not env.error and env.version(other) == version:
            continue  # its installed metadata said it already
        for requirement in stack.requires(other, version) or ():
            if canonicalize_name(requirement.name) == name and requirement.marker is None:
                combined &= requirement.specifier
                said.append(f"{other} {version} (declared) requires {requirement.name}"
                            f"{requirement.specifier}")
    return combined, tuple(said)


def _single_versions(found: Iterable[Declaration]) -> Iterable[Tuple[str, Version]]:
    """(package, version) of declarations that allow exactly one version (a pin or a lock)."""
    for declaration in found:
        version = pinned_version(declaration)
        if version is not None:
            yield declaration.name, version


def _verdict(name: str, declared: DeclaredDependencies, declaration: Optional[Declaration],
             env: Environment, conflicts: Tuple[RangeConflict, ...], broken: List[Conflict],
             required_by: Tuple[str, ...]) -> Tuple[str, str]:
    clash = next((c for c in conflicts if name in c.packages), None)
    if clash is not None:
        return CONFLICT, clash.text()
    unmet = next((c for c in broken if c.required == name), None)
    if unmet is not None:
        return CONFLICT, unmet.text()
    if env.error:
        return UNKNOWN, f"the installed version is unknown: {env.error}"
    installed = env.version(name)
    if declaration is not None:
        return _against_declaration(name, declaration, installed, env)
    if installed is None:
        other = declared.for_name(name)
        if other:
            return OK, f"declared only as {_where(other)}; not needed at run time"
        return OK, "neither declared nor installed"
    if required_by:
        return OK, f"installed {installed}, as {required_by[0]}"
    if declared.for_name(name):
        return OK, f"installed {installed}; declared as {_where(declared.for_name(name))}"
    return UNDECLARED, (f"{name} {installed} is installed but not declared: a fresh install "
                        f"from the declared dependencies will not have it")


def _against_declaration(name: str, declaration: Declaration, installed: Optional[Version],
                         env: Environment) -> Tuple[str, str]:
    if installed is None:
        if all(r.constraint for r in declaration.requirements):
            return OK, f"only constrained ({declaration.shown()}), not installed"
        return MISSING, f"{declaration.shown()} but {name} is not installed in {env.executable}"
    if not declaration.allows(installed):
        return OUTSIDE, f"{name} {installed} is installed but {declaration.shown()}"
    return OK, f"{name} {installed} is installed and {declaration.shown()}"


def _where(requirements: Tuple[DeclaredRequirement, ...]) -> str:
    """`pytest>=8 (group dev, pyproject.toml:12)`."""
    return ", ".join(f"{r.shown()} ({_group(r)}{r.where()})" for r in requirements)


def _group(requirement: DeclaredRequirement) -> str:
    if requirement.constraint:
        return "constraint, "
    return f"group {requirement.group}, " if requirement.group else ""
