"""Declared ranges of the stack judged against the shipped table (`knowledge/stack.py`): the
releases each declaration allows, what those releases require of each other, and the pairs of
declarations that no two released versions satisfy together (SBA201, SBA210 and the dependency
manifest build on it).

Released versions are known as the table's runs: the first and last release of each run, the
versions the declarations and requirements name inside a run, and the version a lock file
pins. A declaration whose allowed versions the table does not know (newer than the table, or a
pin between two runs) is left out: nothing is concluded about it.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..knowledge import stack
from .declared import DeclaredDependencies, DeclaredRequirement, LockedVersion
from .installed import failing_first

# How bad a conflict is: the installer refuses it or the app fails at import (BLOCKING), the
# app imports but a call fails (RUNTIME), or the table grades it a warning (WARNING).
BLOCKING = "blocking"
RUNTIME = "runtime"
WARNING = "warning"
_RANK = {BLOCKING: 0, RUNTIME: 1, WARNING: 2}


@dataclass(frozen=True)
class Declaration:
    """What the project allows for one package: the main requirements (and constraints) that
    apply to its interpreter, and the version its lock file pins (the most precise source)."""

    name: str
    requirements: Tuple[DeclaredRequirement, ...]
    locked: Optional[LockedVersion]

    @property
    def specifier(self) -> SpecifierSet:
        combined = SpecifierSet()
        for requirement in self.requirements:
            combined &= requirement.requirement.specifier
        return combined

    @property
    def spec_text(self) -> str:
        """`pydantic==2.5.3` (the lock's version when there is one)."""
        if self.locked is not None:
            return f"{self.name}=={self.locked.version}"
        return f"{self.name}{self.specifier}"

    def shown(self) -> str:
        """`pydantic==2.5.3 is declared (requirements.txt:4)`, or where the lock pins it."""
        if self.locked is not None:
            return (f"{self.name} {self.locked.version} is locked "
                    f"({self.locked.path.name}:{self.locked.line})")
        if len(self.requirements) == 1:
            return f"{self.requirements[0].shown()} is declared ({self.requirements[0].where()})"
        return " and ".join(f"{r.shown()} ({r.where()})" for r in self.requirements) + \
            " are declared"

    def allows(self, version: Version) -> bool:
        if self.locked is not None:
            return version == self.locked.version
        return self.specifier.contains(version, prereleases=True)


@dataclass(frozen=True)
class Candidate:
    """A released version a declaration allows, with its table run."""

    version: Version
    run: stack.Run


@dataclass(frozen=True)
class Objection:
    """Why two versions do not go together: a requirement of one release, or a table entry."""

    text: str
    severity: str  # BLOCKING, RUNTIME or WARNING
    about: str  # the package whose declaration the objection is about (the required one)
    requirement: bool = True  # an unmet requirement (else a table record)


@dataclass(frozen=True)
class RangeConflict:
    """Two declarations of which no allowed versions work together; `first` is the package
    that breaks (it builds on the other)."""

    first: Declaration
    second: Declaration
    first_versions: Tuple[Version, ...]
    second_versions: Tuple[Version, ...]
    objections: Tuple[Objection, ...]  # of the newest allowed pair
    severity: str
    alternatives: Tuple[str, ...]  # `sqlmodel>=0.0.14 (works with pydantic==2.5.3)`

    @property
    def packages(self) -> Tuple[str, str]:
        return self.first.name, self.second.name

    def text(self) -> str:
        """`sqlmodel 0.0.8 requires pydantic<2.0.0,>=1.8.2; pydantic==2.5.3 is declared
        (requirements.txt:4)`, prefixed by `no released versions ...` when a range allows
        several versions."""
        stated = [o for o in self.objections if o.requirement] or list(self.objections)
        shown = [d.shown() for d in (self.second, self.first)
                 if any(o.about == d.name for o in stated)]
        said = "; ".join([*(o.text for o in stated), *(shown or [self.second.shown()])])
        several = [(d, v) for d, v in ((self.first, self.first_versions),
                                       (self.second, self.second_versions)) if len(v) > 1]
        if not several:
            return said
        ranges = " with ".join(f"{d.spec_text} ({_span(v)})" for d, v in several)
        return f"no released versions allowed by {ranges} work together: {said}"

    def recorded(self) -> Tuple[str, ...]:
        """The table's records of the pair failing, when `text()` states unmet requirements."""
        if not any(o.requirement for o in self.objections):
            return ()
        return tuple(o.text for o in self.objections if not o.requirement)


def _span(versions: Sequence[Version]) -> str:
    return f"{min(versions)}-{max(versions)}" if len(versions) > 1 else str(versions[0])


def is_main(requirement: DeclaredRequirement, markers: Mapping[str, str]) -> bool:
    """A requirement (or constraint) of the app at run time that applies to the interpreter."""
    return (requirement.group is None and not requirement.development
            and requirement.applies(markers))


def declarations(declared: DeclaredDependencies, markers: Mapping[str, str],
                 names: Optional[Iterable[str]] = None) -> Dict[str, Declaration]:
    """Package -> its main declaration (of `names` only, when given), with the lock's pin."""
    wanted = None if names is None else {canonicalize_name(n) for n in names}
    found: Dict[str, List[DeclaredRequirement]] = {}
    for requirement in declared.requirements:
        if (wanted is None or requirement.name in wanted) and is_main(requirement, markers):
            found.setdefault(requirement.name, []).append(requirement)
    return {name: Declaration(name, tuple(reqs), declared.locked.get(name))
            for name, reqs in found.items()}


def _named_versions(specifier: SpecifierSet) -> List[Version]:
    named = []
    for spec in specifier:
        try:
            version = Version(spec.version.rstrip(".*"))
        except InvalidVersion:
            continue
        named += [version, Version(f"{version.major}.{version.minor}.{version.micro + 1}")]
    return named


def candidates(declaration: Declaration,
               extra: Sequence[Version] = ()) -> Optional[Tuple[Candidate, ...]]:
    """The released versions the declaration allows that the table knows, newest first (for a
    package without table releases, its pinned version); None when it knows none (then
    nothing can be said about the declaration)."""
    if not stack.runs(declaration.name):
        pinned = pinned_version(declaration)
        return None if pinned is None else (Candidate(pinned, stack.Run(pinned, pinned, (), None)),)
    if declaration.locked is not None:
        points = [declaration.locked.version]
    else:
        points = [v for run in stack.runs(declaration.name) for v in (run.first, run.last)]
        points += _named_versions(declaration.specifier) + list(extra)
    found = {}
    for version in points:
        candidate = _candidate(declaration.name, version)
        if candidate is not None and _released_allowed(declaration, version):
            found.setdefault(version, candidate)
    return tuple(found[v] for v in sorted(found, reverse=True)) or None


def pinned_version(declaration: Declaration) -> Optional[Version]:
    """The one version a declaration allows (a lock, or `==` without a wildcard), else None."""
    if declaration.locked is not None:
        return declaration.locked.version
    for spec in declaration.specifier:
        if spec.operator in ("==", "===") and not spec.version.endswith(".*"):
            try:
                return Version(spec.version)
            except InvalidVersion:
                return None
    return None


def _released_allowed(declaration: Declaration, version: Version) -> bool:
    if declaration.locked is not None:
        return True
    return declaration.specifier.contains(version)


def requirement_on(run: stack.Run, other: str,
                   markers: Mapping[str, str]) -> Optional[Requirement]:
    """The run's requirement on `other` that applies (one with a marker only when the
    interpreter's marker values are known)."""
    for requirement in run.requires:
        if canonicalize_name(requirement.name) != other:
            continue
        if requirement.marker is None:
            return requirement
        if markers:
            try:
                if requirement.marker.evaluate({**markers, "extra": ""}):
                    return requirement
            except Exception:  # undefined marker names: not judged
                continue
    return None


class Judge:
    """Whether two versions of two stack packages go together, for one interpreter."""

    def __init__(self, markers: Mapping[str, str], python: Optional[Version]) -> None:
        self.markers = markers
        self.python = python
        self.rows = tuple(row for row in stack.incompatibilities() if _judged(row))

    def objections(self, first: str, a: Candidate, second: str,
                   b: Candidate) -> List[Objection]:
        found = [o for o in (self._requires(first, a, second, b),
                             self._requires(second, b, first, a)) if o is not None]
        versions: Dict[str, Version] = {first: a.version, second: b.version}
        if self.python is not None:
            versions[stack.PYTHON] = self.python
        for row in self.rows:
            if set(row.packages) == {first, second} and row.matches(versions):
                found.append(Objection(f"the stack table records {_row_pair(row)} failing "
                                       f"({row.kind}: {row.error})", _row_severity(row),
                                       second, requirement=False))
        return found

    def _requires(self, name: str, candidate: Candidate, other: str,
                  against: Candidate) -> Optional[Objection]:
        requirement = requirement_on(candidate.run, other, self.markers)
        if requirement is None or requirement.specifier.contains(against.version,
                                                                 prereleases=True):
            return None
        return Objection(f"{name} {candidate.version} requires {requirement.name}"
                         f"{requirement.specifier}", BLOCKING, other)

    def fits(self, first: str, a: Candidate, second: str, b: Candidate) -> bool:
        return not self.objections(first, a, second, b)


def _row_severity(row: stack.Incompatibility) -> str:
    if row.severity != "error":
        return WARNING
    return RUNTIME if row.kind == stack.RUNTIME else BLOCKING


def severest(severities: Iterable[str]) -> str:
    return min(severities, key=_RANK.__getitem__)


def mildest(severities: Iterable[str]) -> str:
    return max(severities, key=_RANK.__getitem__)


def _judged(row: stack.Incompatibility) -> bool:
    """A table entry about two packages that their versions alone decide."""
    return (row.trigger == stack.VERSIONS and row.kind != stack.BUILD and len(row.packages) == 2
            and all(spec not in (stack.ABSENT, stack.PRESENT) for _, spec in row.when))


def _row_pair(row: stack.Incompatibility) -> str:
    specs = dict(row.when)
    return " with ".join(f"{dist}{specs[dist]}" for dist in failing_first(row.packages))


def conflict_between(judge: Judge, first: Declaration, a_all: Tuple[Candidate, ...],
                     second: Declaration,
                     b_all: Tuple[Candidate, ...]) -> Optional[RangeConflict]:
    """The conflict of two declarations, None when some allowed pair works together."""
    severities = set()
    for a in a_all:
        for b in b_all:
            objections = judge.objections(first.name, a, second.name, b)
            if not objections:
                return None
            severities.add(severest(o.severity for o in objections))
    order = failing_first((first.name, second.name))
    if order[0] != first.name:
        first, a_all, second, b_all = second, b_all, first, a_all
    return RangeConflict(
        first, second, tuple(c.version for c in a_all), tuple(c.version for c in b_all),
        tuple(judge.objections(first.name, a_all[0], second.name, b_all[0])),
        mildest(severities),
        tuple(filter(None, (_nearest(judge, first, a_all, second, b_all),
                            _nearest(judge, second, b_all, first, a_all)))))


def _nearest(judge: Judge, moved: Declaration, allowed: Tuple[Candidate, ...],
             kept: Declaration, kept_all: Tuple[Candidate, ...]) -> Optional[str]:
    """`sqlmodel>=0.0.14 (works with pydantic==2.5.3)`: the nearest release range of `moved`
    outside its declaration that works with what `kept` allows."""
    low, high = min(c.version for c in allowed), max(c.version for c in allowed)
    points = {v for run in stack.runs(moved.name) for v in (run.first, run.last)}
    for b in kept_all:
        requirement = requirement_on(b.run, moved.name, judge.markers)
        points.update(_named_versions(requirement.specifier) if requirement else ())
    known = [c for c in (_candidate(moved.name, v) for v in sorted(points)) if c is not None]

    def fits(candidate: Candidate) -> bool:
        return (not candidate.version.is_prerelease and any(
            judge.fits(moved.name, candidate, kept.name, b) for b in kept_all))

    above = next((c for c in known if c.version > high and fits(c)), None)
    if above is not None:
        return f"{moved.name}>={above.version} (works with {kept.spec_text})"
    below = next((c for c in reversed(known) if c.version < low and fits(c)), None)
    if below is not None:
        return f"{moved.name}<={below.version} (works with {kept.spec_text})"
    return None


def _candidate(name: str, version: Version) -> Optional[Candidate]:
    run = next((r for r in stack.runs(name) if r.holds(version)), None)
    return None if run is None else Candidate(version, run)


def declared_conflicts(declared: DeclaredDependencies, markers: Mapping[str, str],
                       python: Optional[Version]) -> Tuple[RangeConflict, ...]:
    """Every pair of declared stack packages whose allowed versions never work together."""
    known = {}
    for name, declaration in sorted(declarations(declared, markers).items()):
        found = candidates(declaration)
        if found is not None:
            known[name] = (declaration, found)
    judge = Judge(markers, python)
    conflicts = []
    for first, second in combinations(sorted(known), 2):
        (one, ones), (two, twos) = known[first], known[second]
        ones = candidates(one, named_by(judge, twos, first)) or ones
        twos = candidates(two, named_by(judge, ones, second)) or twos
        conflict = conflict_between(judge, one, ones, two, twos)
        if conflict is not None:
            conflicts.append(conflict)
    return tuple(conflicts)


def named_by(judge: Judge, others: Tuple[Candidate, ...], name: str) -> List[Version]:
    """The versions of `name` that the requirements of `others` name: releases inside a table
    run that the run's endpoints alone would miss (fastapi 0.99.1 needs starlette 0.27.x)."""
    named: List[Version] = []
    for other in others:
        requirement = requirement_on(other.run, name, judge.markers)
        if requirement is not None:
            named += _named_versions(requirement.specifier)
    return named


def python_version(raw: Optional[str]) -> Optional[Version]:
    """The interpreter's version as a `Version` (None when unknown)."""
    try:
        return Version(raw) if raw else None
    except InvalidVersion:
        return None
