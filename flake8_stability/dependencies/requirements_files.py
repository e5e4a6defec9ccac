"""pip requirement files (`requirements*.txt`, `*.in`), read the way pip reads them: continuation
lines, comments, `-r`/`-c` includes relative to the including file, per-line options such as
`--hash`, editable and URL lines. Requirement syntax itself is parsed by `packaging`."""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple
from urllib.parse import parse_qs, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename, canonicalize_name,
                             parse_sdist_filename, parse_wheel_filename)

from .records import (Collected, DeclaredRequirement, DependencyProblem, is_development,
                      masked, read_text)

REQUIREMENT = "-r"
CONSTRAINT = "-c"
_INCLUDES = {"-r": REQUIREMENT, "--requirement": REQUIREMENT,
             "-c": CONSTRAINT, "--constraint": CONSTRAINT}
_EDITABLE = ("-e", "--editable")
_MAIN_LABELS = frozenset({"", "requirements", "base", "main", "prod", "production", "common",
                          "runtime", "core", "app", "default"})


@dataclass(frozen=True)
class _Include:
    kind: str  # REQUIREMENT or CONSTRAINT
    target: Path
    line: int


@dataclass
class _Parsed:
    requirements: List[Tuple[int, Requirement]] = field(default_factory=list)
    includes: List[_Include] = field(default_factory=list)


def requirement_files(folder: Path) -> List[Path]:
    """The requirement files of one folder, by pip-tools and pip conventions."""
    found = sorted(folder.glob("requirements*.txt")) + sorted(folder.glob("requirements/*.txt"))
    pip_tools = sorted(folder.glob("*.in")) + sorted(folder.glob("requirements/*.in"))
    found += [path for path in pip_tools if path.name.lower() != "manifest.in"]
    return [path for path in found if path.is_file()]


def read_requirement_files(roots: Sequence[Path], into: Collected) -> None:
    """Read `roots` and everything they include; each file's entries are added once, as
    constraints when the file is reached through a `-c` include."""
    reader = _Reader(into)
    for root in roots:
        reader.walk(root, ())
    constraints = reader.constrained()
    for path, parsed in reader.parsed.items():
        if parsed is None:
            continue
        for line, requirement in parsed.requirements:
            group = _group(path)
            into.requirements.append(DeclaredRequirement(
                canonicalize_name(requirement.name), requirement, path, line, "requirements",
                group=group, constraint=path in constraints, development=is_development(group)))


def _group(path: Path) -> Optional[str]:
    """`requirements-dev.txt` and `requirements/dev.txt` are the group `dev`; the plain and
    base files are the main dependencies (None)."""
    stem = path.stem.lower()
    label = stem[len("requirements"):] if stem.startswith("requirements") else stem
    label = label.strip("-_.")
    return None if label in _MAIN_LABELS else label


class _Reader:
    def __init__(self, into: Collected) -> None:
        self.into = into
        self.parsed: Dict[Path, Optional[_Parsed]] = {}

    def walk(self, path: Path, stack: Tuple[Path, ...]) -> None:
        path = _absolute(path)
        if path in self.parsed:
            return
        self.parsed[path] = parsed = self._parse(path)
        for include in parsed.includes if parsed else ():
            target = _absolute(include.target)
            if target in stack or target == path:
                chain = " -> ".join(p.name for p in (*stack, path, target))
                self.into.problems.append(DependencyProblem(
                    path, include.line, f"include cycle: {chain}"))
            elif not target.is_file():
                self.into.problems.append(DependencyProblem(
                    path, include.line, f"{include.kind} {include.target.name}: no such file "
                    f"({target})"))
            else:
                self.walk(target, (*stack, path))

    def constrained(self) -> Set[Path]:
        """Files reached through a `-c` include, and whatever they include in turn."""
        found: Set[Path] = set()
        todo = [_absolute(i.target) for parsed in self.parsed.values() if parsed
                for i in parsed.includes if i.kind == CONSTRAINT]
        while todo:
            path = todo.pop()
            if path in found:
                continue
            found.add(path)
            parsed = self.parsed.get(path)
            todo += [_absolute(i.target) for i in parsed.includes] if parsed else []
        return found

    def _parse(self, path: Path) -> Optional[_Parsed]:
        text = read_text(path, self.into)
        if text is None:
            return None
        parsed = _Parsed()
        for number, line in _logical_lines(text):
            self._line(path, number, line, parsed)
        return parsed

    def _line(self, path: Path, number: int, line: str, parsed: _Parsed) -> None:
        arguments, options = _split_options(line)
        if arguments:
            requirement = self._requirement(path, number, arguments)
            if requirement is not None:
                parsed.requirements.append((number, requirement))
            return
        try:
            tokens = shlex.split(options)
        except ValueError as exc:
            self.into.problems.append(DependencyProblem(path, number, f"bad option line: {exc}"))
            return
        for option, value in _option_values(tokens):
            if option in _INCLUDES:
                self._include(path, number, _INCLUDES[option], value, parsed)
            elif option in _EDITABLE:
                requirement = self._requirement(path, number, value)
                if requirement is not None:
                    parsed.requirements.append((number, requirement))

    def _include(self, path: Path, number: int, kind: str, value: str, parsed: _Parsed) -> None:
        if "://" in value:
            self.into.notes.append(DependencyProblem(
                path, number, f"{kind} {masked(value)}: a remote file, not read"))
            return
        parsed.includes.append(_Include(kind, path.parent / value, number))

    def _requirement(self, path: Path, number: int, text: str) -> Optional[Requirement]:
        try:
            return Requirement(text)
        except InvalidRequirement as exc:
            if not _is_location(text):
                reason = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
                self.into.problems.append(DependencyProblem(
                    path, number, f"invalid requirement {masked(text)!r}: {reason}"))
                return None
        requirement = _named_location(text)
        if requirement is None:
            self.into.notes.append(DependencyProblem(
                path, number, f"{masked(text)!r}: a path or URL with no package name (#egg=), "
                f"skipped"))
        return requirement


def _absolute(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _logical_lines(text: str) -> Iterator[Tuple[int, str]]:
    """(first line number, text) of each line, continuations joined and comments removed."""
    parts: List[str]
    start, parts = 0, []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        if raw.endswith("\\") and not _is_comment(raw):
            parts.append(raw[:-1])
            continue
        parts.append(raw)
        line = _without_comment(" ".join(part.strip() for part in parts)).strip()
        parts = []
        if line:
            yield start, line
    if parts:
        line = _without_comment(" ".join(part.strip() for part in parts)).strip()
        if line:
            yield start, line


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _without_comment(line: str) -> str:
    """pip's rule: `#` starts a comment at the line's start or after whitespace."""
    for index, char in enumerate(line):
        if char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def _split_options(line: str) -> Tuple[str, str]:
    """pip's split of a line into the requirement and its options (`--hash=...`)."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:])
    return line.strip(), ""


def _option_values(tokens: List[str]) -> Iterator[Tuple[str, str]]:
    """(option, value) for the options whose value matters here; `-rfile`, `--x=file` too."""
    wanted = (*_INCLUDES, *_EDITABLE)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        name, equals, value = token.partition("=")
        if equals and name in wanted:
            yield name, value
        elif token in wanted and index < len(tokens):
            yield token, tokens[index]
            index += 1
        elif token[:2] in ("-r", "-c", "-e") and len(token) > 2 and not token.startswith("--"):
            yield token[:2], token[2:]


def _is_location(text: str) -> bool:
    return ("://" in text or text.startswith((".", "/", "~", "file:"))
            or text.endswith((".whl", ".tar.gz", ".zip")))


def _named_location(text: str) -> Optional[Requirement]:
    """The requirement a path or URL names: `#egg=name`, or a wheel's or sdist's file name."""
    location = text.split(";")[0].strip()
    egg = parse_qs(urlsplit(location).fragment).get("egg")
    candidates = [egg[0]] if egg else []
    filename = urlsplit(location).path.rstrip("/").rpartition("/")[2]
    try:
        if filename.endswith(".whl"):
            candidates.append(str(parse_wheel_filename(filename)[0]))
        elif filename.endswith((".tar.gz", ".zip")):
            candidates.append(str(parse_sdist_filename(filename)[0]))
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    for candidate in candidates:
        try:
            return Requirement(candidate)
        except InvalidRequirement:
            continue
    return None
