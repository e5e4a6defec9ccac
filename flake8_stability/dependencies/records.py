"""The records every dependency reader produces: a declared requirement with its file and line,
a locked version, the project's `requires-python`, and a problem found while reading."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][\w+.\-]*://)[^/@\s]+@")

# Group names (or words in them) that mark tools for development, not the app at run time.
DEVELOPMENT_WORDS = frozenset({
    "dev", "develop", "development", "test", "tests", "testing", "lint", "linting", "docs",
    "doc", "typing", "mypy", "ci", "qa", "format", "style", "debug", "bench", "benchmark",
})


@dataclass(frozen=True)
class DeclaredRequirement:
    """One declared dependency: `name` is canonical (PEP 503); `group` None means the main
    dependencies, else the extra, group or dev-section name; `constraint` marks entries that
    only restrict versions (`-c` files, uv constraint/override dependencies)."""

    name: str
    requirement: Requirement
    path: Path
    line: int
    source: str  # "requirements", "pep621", "pep735", "poetry", "pdm", "uv", "setup.cfg"
    group: Optional[str] = None
    constraint: bool = False
    development: bool = False  # from a dev-only section or a group named for development

    def applies(self, markers: Mapping[str, str]) -> bool:
        """Whether the requirement's marker holds for `markers` (True with no marker, with no
        marker values to judge by, or when the marker cannot be evaluated)."""
        marker = self.requirement.marker
        if marker is None or not markers:
            return True
        try:
            return marker.evaluate(dict(markers))
        except Exception:  # undefined names or comparisons: unknown, so it may apply
            return True

    def where(self) -> str:
        return f"{self.path.name}:{self.line}"

    def shown(self) -> str:
        """The requirement for messages, with the credentials of its URL masked."""
        return masked(str(self.requirement))


@dataclass(frozen=True)
class LockedVersion:
    name: str
    version: Version
    path: Path
    line: int
    source: str  # "uv.lock" or "poetry.lock"


@dataclass(frozen=True)
class RequiresPython:
    """The project's supported Python versions and where they are declared."""

    specifier: SpecifierSet
    path: Path
    line: int
    source: str  # "pep621", "poetry" or "setup.cfg"


@dataclass(frozen=True)
class DependencyProblem:
    """A line or file that could not be read as dependencies (the rest is still read)."""

    path: Path
    line: int
    message: str


def masked(text: str) -> str:
    """`text` with the user info of every URL in it masked (`https://***@host/...`): a
    requirement URL often carries an access token."""
    return _USERINFO.sub(lambda m: m.group("scheme") + "***@", text)


def is_development(group: Optional[str]) -> bool:
    """Whether a group name reads as development tooling (`dev`, `test-tools`, `lint`)."""
    if group is None:
        return False
    words = group.lower().replace("_", "-").replace(".", "-").split("-")
    return any(word in DEVELOPMENT_WORDS for word in words)


@dataclass
class Collected:
    """What one reader found in one file (or one include tree)."""

    requirements: List[DeclaredRequirement]
    problems: List[DependencyProblem]
    notes: List[DependencyProblem]  # entries skipped on purpose (a URL with no name, `-e .`)
    files: List[Path]
    requires_python: Optional[RequiresPython] = None
    project_names: Tuple[str, ...] = ()

    @classmethod
    def empty(cls) -> "Collected":
        return cls([], [], [], [])


def read_text(path: Path, into: Collected) -> Optional[str]:
    """The file's text (UTF-8, BOM allowed), or None with the reason added as a problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        into.problems.append(DependencyProblem(path, 1, f"cannot read the file: {exc.strerror}"))
        return None
    into.files.append(path)
    if b"\x00" in data:
        into.problems.append(DependencyProblem(path, 1, "binary file, not a dependency list"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        into.problems.append(DependencyProblem(
            path, data[:exc.start].count(b"\n") + 1, f"not UTF-8 text ({exc.reason})"))
        return None


def read_toml(path: Path, into: Collected) -> Optional[Tuple[Dict[str, Any], str]]:
    """The file's TOML data and text, or None with the reason added as a problem."""
    from .toml_lines import TOMLDecodeError, loads

    text = read_text(path, into)
    if text is None:
        return None
    try:
        return loads(text), text
    except TOMLDecodeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
        into.problems.append(DependencyProblem(path, getattr(exc, "lineno", 1) or 1,
                                               f"invalid TOML: {first}"))
        return None
