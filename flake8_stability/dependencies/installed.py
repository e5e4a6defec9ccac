"""What `pip check` would report for the project's interpreter, and which of the shipped table's
known-bad combinations its installed versions fall into.

Requirements come from each installed distribution's own `Requires-Dist`, with markers evaluated
against the interpreter's marker values (`Environment.markers`). Extras: a requirement with
`extra == "x"` counts only when another installed distribution requests `dist[x]` through one
of its own requirements that applies (one level; extras asked for on the pip command line are
not recorded in any metadata, so those requirements are left out rather than guessed).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..environment import Environment
from ..knowledge import stack

STACK: Tuple[str, ...] = ("fastapi", "starlette", "pydantic", "pydantic-core", "pydantic-settings",
                          "sqlmodel", "sqlalchemy", "greenlet", "uvicorn", "asyncpg", "aiosqlite",
                          "psycopg", "asyncmy", "aiomysql", "email-validator", "python-multipart",
                          "passlib", "bcrypt")


@dataclass(frozen=True)
class Conflict:
    """An installed distribution whose requirement is not met, as `pip check` says it."""

    requirer: str  # canonical name
    requirer_version: str
    requirement: Requirement
    installed: Optional[str]  # the installed version of the required distribution; None: missing

    @property
    def required(self) -> str:
        return canonicalize_name(self.requirement.name)

    def text(self) -> str:
        """`sqlmodel 0.0.8 requires pydantic<2.0.0,>=1.8.2; pydantic 2.5.3 is installed`."""
        wanted = f"{self.requirement.name}{self.requirement.specifier}"
        have = (f"{self.required} {self.installed} is installed" if self.installed
                else f"{self.required} is not installed")
        return f"{self.requirer} {self.requirer_version} requires {wanted}; {have}"


def applies(requirement: Requirement, markers: Dict[str, str], extra: str) -> Optional[bool]:
    """Whether the requirement's marker holds (None: it cannot be evaluated)."""
    if requirement.marker is None:
        return not extra
    try:
        return requirement.marker.evaluate({**markers, "extra": extra})
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return None


def _requested_extras(env: Environment) -> Dict[str, Set[str]]:
    """Distribution -> the extras other installed distributions request unconditionally."""
    requested: Dict[str, Set[str]] = {}
    for dist in env.distributions:
        for requirement in env.requirements_of(dist):
            if requirement.extras and applies(requirement, env.markers, ""):
                requested.setdefault(canonicalize_name(requirement.name), set()).update(
                    canonicalize_name(extra) for extra in requirement.extras)
    return requested


def _active(env: Environment, dist: str, extras: Set[str]) -> Iterator[Requirement]:
    """The requirements of `dist` that apply in this interpreter."""
    seen: Set[str] = set()
    for requirement in env.requirements_of(dist):
        for extra in ("", *sorted(extras)):
            if applies(requirement, env.markers, extra) and str(requirement) not in seen:
                seen.add(str(requirement))
                yield requirement


def broken_requirements(env: Environment,
                        among: Optional[Iterable[str]] = None) -> Tuple[Conflict, ...]:
    """Unmet requirements of installed distributions (only those between `among`, canonical
    names, when given). Empty when the interpreter could not be read."""
    if env.error:
        return ()
    scope = None if among is None else {canonicalize_name(name) for name in among}
    extras = _requested_extras(env)
    found: List[Conflict] = []
    for dist in sorted(env.distributions):
        if scope is not None and dist not in scope:
            continue
        for requirement in _active(env, dist, extras.get(dist, set())):
            conflict = _conflict(env, dist, requirement, scope)
            if conflict is not None:
                found.append(conflict)
    return tuple(found)


def _conflict(env: Environment, dist: str, requirement: Requirement,
              scope: Optional[Set[str]]) -> Optional[Conflict]:
    required = canonicalize_name(requirement.name)
    if scope is not None and required not in scope:
        return None
    raw = env.distributions.get(required)
    if raw is not None:
        try:
            if requirement.specifier.contains(Version(raw), prereleases=True):
                return None
        except InvalidVersion:
            return None
    return Conflict(dist, env.distributions[dist], requirement, raw)


def installed_versions(env: Environment) -> Dict[str, Version]:
    """The installed stack versions (canonical names) and `python`, for `Incompatibility`."""
    versions: Dict[str, Version] = {}
    for dist in STACK:
        version = env.version(dist)
        if version is not None:
            versions[dist] = version
    try:
        if env.python:
            versions[stack.PYTHON] = Version(env.python)
    except InvalidVersion:
        pass
    return versions


def matched_incompatibilities(env: Environment) -> Tuple[stack.Incompatibility, ...]:
    """The table's combinations that the installed versions alone decide and fall into (build
    failures are left out: what is installed was built). Empty when the interpreter could not
    be read."""
    if env.error or not env.distributions:
        return ()
    versions = installed_versions(env)
    return tuple(rule for rule in stack.incompatibilities()
                 if rule.trigger == stack.VERSIONS and rule.kind != stack.BUILD
                 and rule.matches(versions))


# Which package of a bad pair fails when imported: the one that builds on the other.
_DEPENDENTS = ("sqlmodel", "fastapi", "pydantic-settings", "passlib", "starlette", "sqlalchemy",
               "pydantic")


def failing_first(packages: Iterable[str]) -> Tuple[str, ...]:
    """`packages` ordered so the one whose import breaks comes first."""
    order = {name: index for index, name in enumerate(_DEPENDENTS)}
    return tuple(sorted(packages, key=lambda name: (order.get(name, len(order)), name)))


def import_names(env: Environment, dist: str) -> Tuple[str, ...]:
    """The top-level modules an installed distribution provides (its name as a module when the
    metadata does not say)."""
    return env.provides.get(canonicalize_name(dist)) or (canonicalize_name(dist).replace("-", "_"),)
