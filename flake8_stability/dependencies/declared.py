"""Every dependency a project declares: requirement files, `pyproject.toml` (PEP 621, PEP 735,
Poetry, PDM, uv), `setup.cfg`, and the versions its lock files pin. Each requirement keeps its
file and line; what cannot be read becomes a `DependencyProblem`, never an exception."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence, Tuple

from packaging.utils import canonicalize_name

from .lock_files import LOCK_FILES, read_lock
from .pyproject_deps import read_pyproject, read_setup_cfg
from .records import (Collected, DeclaredRequirement, DependencyProblem, LockedVersion,
                      RequiresPython)
from .requirements_files import read_requirement_files, requirement_files

if TYPE_CHECKING:
    from ..project.layout import Layout

__all__ = ["DeclaredDependencies", "DeclaredRequirement", "DependencyProblem", "LockedVersion",
           "RequiresPython", "declared_in", "load_declared"]


@dataclass(frozen=True)
class DeclaredDependencies:
    """`requires_python` is a `RequiresPython` (specifier set, file, line, source) or None;
    `project_names` are the canonical names the project itself is distributed as; `notes`
    are entries skipped on purpose (a URL without a name, `-e .`)."""

    requirements: Tuple[DeclaredRequirement, ...]
    locked: Mapping[str, LockedVersion]
    requires_python: Optional[RequiresPython]
    files: Tuple[Path, ...]
    problems: Tuple[DependencyProblem, ...]
    notes: Tuple[DependencyProblem, ...] = ()
    project_names: Tuple[str, ...] = ()

    def for_name(self, name: str) -> Tuple[DeclaredRequirement, ...]:
        wanted = canonicalize_name(name)
        return tuple(r for r in self.requirements if r.name == wanted)

    def declares(self, name: str, *, main_only: bool = False) -> bool:
        """Whether `name` is declared as a dependency (not only constrained); with
        `main_only`, among the main dependencies (no extra or group)."""
        return any(not r.constraint and (r.group is None or not main_only)
                   for r in self.for_name(name))

    @property
    def declares_anything(self) -> bool:
        return any(not r.constraint for r in self.requirements)

    def dependency_list(self) -> Optional[DeclaredRequirement]:
        """The first main dependency, to point at where the project lists them."""
        main = [r for r in self.requirements if not r.constraint and r.group is None]
        return (main or [r for r in self.requirements if not r.constraint] or [None])[0]


_cache: Dict[Tuple[Path, Tuple[Path, ...]], Tuple[tuple, DeclaredDependencies]] = {}


def load_declared(root: Path, extra_folders: Sequence[Path] = ()) -> DeclaredDependencies:
    """What the project at `root` declares (with requirement files also looked for in
    `extra_folders`), cached per process by root, folders and the files' modification times."""
    folders = tuple(dict.fromkeys(_absolute(f) for f in (root, *extra_folders)))
    key = (folders[0], folders)
    candidates = _candidates(folders)
    cached = _cache.get(key)
    if cached is not None and cached[0] == _stamp(candidates, cached[1].files):
        return cached[1]
    declared = _load(folders, candidates)
    _cache[key] = (_stamp(candidates, declared.files), declared)
    return declared


def declared_in(layout: "Layout") -> DeclaredDependencies:
    """What the project of `layout` declares; requirement files are also looked for in the
    boot working dir and the source roots."""
    return load_declared(layout.root, (layout.working_dir, *layout.source_roots))


def _absolute(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _candidates(folders: Tuple[Path, ...]) -> Tuple[Path, ...]:
    root = folders[0]
    found: List[Path] = []
    for name in ("pyproject.toml", "setup.cfg", *LOCK_FILES):
        if (root / name).is_file():
            found.append(root / name)
    for folder in folders:
        found += requirement_files(folder)
    return tuple(dict.fromkeys(_absolute(path) for path in found))


def _stamp(candidates: Tuple[Path, ...], files: Tuple[Path, ...]) -> tuple:
    def mtime(path: Path) -> Optional[int]:
        try:
            return os.stat(path).st_mtime_ns
        except OSError:
            return None

    return candidates, tuple((path, mtime(path)) for path in files)


def _load(folders: Tuple[Path, ...], candidates: Tuple[Path, ...]) -> DeclaredDependencies:
    into = Collected.empty()
    locked: Dict[str, LockedVersion] = {}
    requirement_roots = []
    for path in candidates:
        if path.name == "pyproject.toml" and path.parent == folders[0]:
            read_pyproject(path, into)
        elif path.name == "setup.cfg" and path.parent == folders[0]:
            read_setup_cfg(path, into)
        elif path.name in LOCK_FILES and path.parent == folders[0]:
            read_lock(path, into, locked)
        else:
            requirement_roots.append(path)
    read_requirement_files(requirement_roots, into)
    return DeclaredDependencies(
        requirements=tuple(into.requirements), locked=dict(locked),
        requires_python=into.requires_python, files=tuple(dict.fromkeys(into.files)),
        problems=tuple(into.problems), notes=tuple(into.notes),
        project_names=tuple(dict.fromkeys(into.project_names)))
