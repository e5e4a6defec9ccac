"""Why an undeclared distribution is installed: the chain of installed distributions' own
`Requires-Dist` that leads to it from one the project declares (`fastapi -> starlette`)."""
from __future__ import annotations

from collections import deque
from typing import Dict, Iterable, Iterator, Optional, Tuple

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..environment import Environment
from .declared import DeclaredDependencies


def requirement_chain(environment: Environment, declared: DeclaredDependencies,
                      distribution: str, *, development: bool = True
                      ) -> Optional[Tuple[str, ...]]:
    """The shortest chain of canonical names from a declared, installed distribution to
    `distribution` (`("fastapi", "starlette")`), through requirements whose markers hold in
    the interpreter (with the extras asked for); None when nothing declared requires it.
    Without `development`, chains start only at entries outside development groups."""
    goal = canonicalize_name(distribution)
    starts: Dict[str, Tuple[str, ...]] = {}
    for requirement in declared.requirements:
        if requirement.development and not development:
            continue
        if not requirement.constraint and environment.has(requirement.name):
            extras = starts.get(requirement.name, ()) + tuple(requirement.requirement.extras)
            starts[requirement.name] = extras
    parents: Dict[str, Optional[str]] = {name: None for name in starts}
    queue = deque(starts.items())
    while queue:
        name, extras = queue.popleft()
        for child, child_extras in _children(environment, name, extras):
            if child in parents:
                continue
            parents[child] = name
            if child == goal:
                return _chain(parents, child)
            queue.append((child, child_extras))
    return None


def _children(environment: Environment, name: str,
              extras: Iterable[str]) -> Iterator[Tuple[str, Tuple[str, ...]]]:
    for requirement in environment.requirements_of(name):
        child = canonicalize_name(requirement.name)
        if environment.has(child) and _applies(requirement, environment, extras):
            yield child, tuple(requirement.extras)


def _applies(requirement: Requirement, environment: Environment, extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    for extra in ("", *extras):
        try:
            if requirement.marker.evaluate({**environment.markers, "extra": extra}):
                return True
        except Exception:  # a marker naming values this interpreter did not report
            return True
    return False


def _chain(parents: Dict[str, Optional[str]], last: str) -> Tuple[str, ...]:
    chain = [last]
    while parents[chain[-1]] is not None:
        chain.append(parents[chain[-1]])  # type: ignore[arg-type]
    return tuple(reversed(chain))
