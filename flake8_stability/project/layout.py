"""The project's layout: the ASGI target, the working directory the server starts in, and the
boot roots (what is on `sys.path` for the project's own imports when the target is imported).

The target is read, first hit wins, from `[tool.flake8-stability]`; a boot command in a
Dockerfile, compose file or Procfile (uvicorn, gunicorn, the fastapi CLI, also behind `sh -c`
and start scripts), with container paths mapped back to the repository through `COPY` lines
and volumes; `[tool.fastapi] entrypoint`; and the conventional files (`main.py`,
`app/main.py`, `src/main.py`, ...) holding a module-level `FastAPI()`. Nothing is imported or
executed, and odd files are skipped, never fatal. When the sources disagree, the target is
left unknown rather than guessed, and `notes` says why."""
from __future__ import annotations

import ast
import json
import keyword
import os
import posixpath
import re
import shlex
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from ..config import TARGET_PATTERN, Config
from .files import is_skipped_dir
from .sources import read_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """The ASGI application the server imports, and where that was read."""

    module: str
    attribute: str
    factory: bool
    origin: str
    path: Optional[Path] = None
    line: Optional[int] = None


@dataclass(frozen=True)
class Layout:
    """Where the project boots from. `import_roots` are on `sys.path` at boot, in order;
    `source_roots` also hold the project's code that is run or installed another way (a
    src-layout, the target's folder, the root itself, last)."""

    root: Path
    working_dir: Path
    import_roots: Tuple[Path, ...]
    source_roots: Tuple[Path, ...]
    target: Optional[Target]
    env_files: Tuple[Path, ...] = ()
    notes: Tuple[str, ...] = ()
    # (path, from the boot roots) -> its name: every file is named more than once per run.
    _names: Dict[Tuple[Path, bool], Optional[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def module_name(self, path: Path) -> Optional[str]:
        """The dotted name of a `.py` file relative to the innermost source root holding it
        (`src/shop/db.py` is `shop.db` when `src/` is a source root, even with the root
        before it); None outside them, in skipped folders, or for names Python cannot
        import. Folders without `__init__.py` (namespace packages) count like any other."""
        return self._named(path, False)

    def boot_name(self, path: Path) -> Optional[str]:
        """The dotted name `path` is imported as from the boot roots (None: not importable)."""
        return self._named(path, True)

    def importable_at_boot(self, path: Path) -> bool:
        """Whether `path` can be imported by a dotted name from one of the boot roots."""
        return self.boot_name(path) is not None

    def _named(self, path: Path, at_boot: bool) -> Optional[str]:
        key = (path, at_boot)
        if key not in self._names:
            self._names[key] = _name(path, self.import_roots if at_boot else self.source_roots)
        return self._names[key]


def discover_layout(root: Path, config: Config) -> Layout:
    """The layout of the project at `root` (already found by `config.find_root`)."""
    root = _absolute(root)
    notes: List[str] = []
    boot = _configured_boot(root, config, notes)
    if boot is None:
        discovered = _discovered_boot(root, config, notes)
        boot = _overridden(discovered, root, config, notes) if discovered else None
    if boot is None:
        working_dir = _configured_dir(root, config, notes)
        boot = _Boot(None, working_dir, (_configured_import_root(working_dir, config, notes),))
    return Layout(root=root, working_dir=boot.working_dir, import_roots=boot.import_roots,
                  source_roots=_source_roots(root, boot), target=boot.target,
                  env_files=boot.env_files, notes=tuple(dict.fromkeys(notes)))


# --- Module names ---------------------------------------------------------------------------


def _name(path: Path, roots: Sequence[Path]) -> Optional[str]:
    """The name under the innermost of `roots` that gives `path` one: as the path is spelled,
    else with its symlinks resolved."""
    innermost = sorted(roots, key=lambda root: -len(root.parts))
    for spelling in _spellings(path):
        for root in innermost:
            name = _dotted(spelling, root)
            if name is not None:
                return name
    return None


def _spellings(path: Path) -> Iterator[Path]:
    spelled = _absolute(path)
    yield spelled
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return
    if resolved != spelled:
        yield resolved


def _dotted(path: Path, root: Path) -> Optional[str]:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`, `pkg/__init__.py` -> `pkg`; None for a file outside
    `root`, a name Python cannot import, or a file in a skipped folder."""
    try:
        parts = list(path.relative_to(root).parts)
    except ValueError:
        return None
    if not parts or not parts[-1].endswith(".py"):
        return None
    parts[-1] = parts[-1][:-3]
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(_is_identifier(part) for part in parts):
        return None
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        if is_skipped_dir(folder):
            return None
    return ".".join(parts)


def _is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _relative(path: Path, root: Path) -> str:
    """`path` as shown in messages: relative to the root when inside it."""
    try:
        text = path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
    return text if text != "." else "the project root"


def _folder(path: Path, root: Path) -> str:
    text = _relative(path, root)
    return text if path == root else f"{text}/"


def _read_bytes(path: Path) -> Optional[bytes]:
    """A regular file's bytes, at most `MAX_BYTES` (never a FIFO or a device, which could
    block); None when it cannot be read."""
    data, problem = read_file(path, MAX_BYTES)
    return None if problem else data


def _read_text(path: Path) -> Optional[str]:
    """A small text file's content; None for unreadable, binary or oversized files."""
    data = _read_bytes(path)
    if data is None or b"\x00" in data:
        return None
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def _parse_python(path: Path) -> Optional[ast.Module]:
    data = _read_bytes(path)
    try:
        return ast.parse(data) if data is not None else None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# --- The boot a source describes ------------------------------------------------------------


@dataclass(frozen=True)
class _Boot:
    """A target with the working dir and `sys.path` roots of the command that imports it;
    `pythonpath` are the import roots that come from `PYTHONPATH`."""

    target: Optional[Target]
    working_dir: Path
    import_roots: Tuple[Path, ...]
    env_files: Tuple[Path, ...] = ()
    pythonpath: Tuple[Path, ...] = ()

    def key(self) -> tuple:
        """What two sources must share to describe the same boot."""
        target = self.target
        return (target and (target.module, target.attribute, target.factory), self.working_dir,
                self.import_roots)


def _configured_boot(root: Path, config: Config, notes: List[str]) -> Optional[_Boot]:
    if not config.target:
        return None
    module, _, attribute = config.target.partition(":")
    pyproject = root / "pyproject.toml"
    target = Target(module, attribute, bool(config.factory),
                    "[tool.flake8-stability] target in pyproject.toml", pyproject,
                    _toml_line(pyproject, "tool.flake8-stability", "target"))
    working_dir = _configured_dir(root, config, notes)
    return _Boot(target, working_dir, (_configured_import_root(working_dir, config, notes),))


def _configured_dir(root: Path, config: Config, notes: List[str]) -> Path:
    if not config.working_dir:
        return root
    folder = _absolute(root / config.working_dir)
    if not _is_dir(folder):
        notes.append(f"[tool.flake8-stability] working-dir {config.working_dir!r} is not a "
                     f"folder ({folder})")
    return folder


def _configured_import_root(working_dir: Path, config: Config, notes: List[str]) -> Path:
    if not config.app_dir:
        return working_dir
    folder = _absolute(working_dir / config.app_dir)
    if not _is_dir(folder):
        notes.append(f"[tool.flake8-stability] app-dir {config.app_dir!r} is not a folder "
                     f"({folder})")
    return folder


def _overridden(boot: _Boot, root: Path, config: Config, notes: List[str]) -> _Boot:
    """A discovered boot with the configured working dir, app-dir and factory applied."""
    target = boot.target
    if target is not None and config.factory is not None and config.factory != target.factory:
        target = replace(target, factory=config.factory,
                         origin=f"{target.origin}; factory = {str(config.factory).lower()} "
                                "from [tool.flake8-stability]")
    if not (config.working_dir or config.app_dir):
        return replace(boot, target=target)
    working_dir = _configured_dir(root, config, notes)
    roots = (_configured_import_root(working_dir, config, notes), *boot.pythonpath)
    if target is not None:
        target = replace(target, origin=f"{target.origin}; working-dir/app-dir from "
                                        "[tool.flake8-stability]")
    return replace(boot, target=target, working_dir=working_dir,
                   import_roots=tuple(dict.fromkeys(roots)))


def _toml_line(path: Path, table: str, key: str) -> Optional[int]:
    """The line of `key = ...` inside `[table]` (1-based), when it is written that way."""
    text = _read_text(path) or ""
    header = re.compile(r"\s*\[\s*" + r"\s*\.\s*".join(
        '"?' + re.escape(part) + '"?' for part in table.split(".")) + r"\s*\]\s*(#.*)?$")
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("["):
            inside = bool(header.match(line))
        elif inside and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
            return number
    return None


def _discovered_boot(root: Path, config: Config, notes: List[str]) -> Optional[_Boot]:
    """The first kind of source that names a boot decides; when its sources disagree, the
    target stays unknown (weaker sources are not asked)."""
    files = _boot_files(root)
    for kind, read in (("Dockerfile", _dockerfile_boots), ("compose file", _compose_boots),
                       ("Procfile", _procfile_boots)):
        candidates = [(depth, boot) for depth, path in files.get(kind, [])
                      for boot in read(root, path)]
        if candidates:
            return _agreed(candidates, kind, notes)
    return _entrypoint_boot(root) or _convention_boot(root, config, notes)


def _agreed(candidates: List[Tuple[int, _Boot]], kind: str,
            notes: List[str]) -> Optional[_Boot]:
    """The boot the shallowest sources of one kind agree on; None (with a note) when they
    disagree."""
    depth = min(depth for depth, _ in candidates)
    boots = [boot for found_at, boot in candidates if found_at == depth]
    distinct: Dict[tuple, _Boot] = {}
    for boot in boots:
        distinct.setdefault(boot.key(), boot)
    if len(distinct) > 1:
        described = "; ".join(boot.target.origin for boot in distinct.values() if boot.target)
        notes.append(f"target unknown: {kind}s describe different boots: {described}")
        return None
    env_files = tuple(dict.fromkeys(path for boot in boots for path in boot.env_files))
    return replace(boots[0], env_files=env_files)


# --- Where a command runs -------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """A line a command was read from, for `Target.origin`, `path` and `line`."""

    path: Path
    line: int
    text: str

    def describe(self, root: Path) -> str:
        text = " ".join(self.text.split())
        text = text if len(text) <= 120 else text[:117] + "..."
        return f"{_relative(self.path, root)} line {self.line}: {text}"


@dataclass(frozen=True)
class _Place:
    """A command's filesystem as it sees it: its working directory, and the paths (in a
    container: `COPY` destinations and volumes, later ones shadowing earlier ones) that hold a
    repository folder or file. `home` is assumed when the working directory maps to nothing."""

    cwd: PurePosixPath
    mounts: Tuple[Tuple[PurePosixPath, Path], ...]
    home: Path
    limit: Path

    def path(self, text: str) -> PurePosixPath:
        return PurePosixPath(posixpath.normpath(posixpath.join(str(self.cwd), text)))

    def cd(self, text: str) -> "_Place":
        return replace(self, cwd=self.path(text))

    def mount(self, at: PurePosixPath, local: Path) -> "_Place":
        return replace(self, mounts=(*self.mounts, (at, local)))

    def local(self, text: str, must_exist: bool = True) -> Optional[Path]:
        """The repository path `text` (relative to the working dir) stands for, if any."""
        wanted = self.path(text)
        fallback = None
        for at, local in reversed(self.mounts):
            if wanted == at or at in wanted.parents:
                candidate = _absolute(local.joinpath(*wanted.relative_to(at).parts))
                if _exists(candidate):
                    return candidate
                fallback = fallback or candidate
        return self._parent_of_mount(wanted) or (None if must_exist else fallback)

    def _parent_of_mount(self, wanted: PurePosixPath) -> Optional[Path]:
        """`/app` when `/app/app` holds the repository's `app/`: the repository folder above."""
        for at, local in reversed(self.mounts):
            if wanted not in at.parents:
                continue
            rest = at.relative_to(wanted).parts
            if local.parts[-len(rest):] == rest:
                candidate = Path(*local.parts[:-len(rest)])
                if _is_dir(candidate) and _within(candidate, self.limit):
                    return candidate
        return None


@dataclass(frozen=True)
class _Run:
    """The state a boot command is read in: where it was read, its filesystem, environment
    (`ENV`, compose `environment:`, `export`), positional arguments and what was assumed."""

    root: Path
    where: Tuple[_Where, ...]
    place: _Place
    env: Tuple[Tuple[str, str], ...] = ()
    args: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    scripts: int = 0

    @property
    def environ(self) -> Dict[str, str]:
        return dict(self.env)

    def setenv(self, values: Dict[str, str]) -> "_Run":
        return replace(self, env=tuple({**self.environ, **values}.items()))

    def origin(self) -> str:
        """`Dockerfile line 4: ENTRYPOINT [...], line 5: CMD [...] -> start.sh line 3: ...`"""
        text = ""
        for index, where in enumerate(self.where):
            described = where.describe(self.root)
            if index and where.path == self.where[index - 1].path:
                text += ", " + described[len(_relative(where.path, self.root)) + 1:]
            else:
                text += (" -> " if index else "") + described
        return text

    def working_dir(self) -> Optional[Path]:
        """The repository folder the command runs in; None when it maps to none."""
        found = self.place.local(".")
        return found if found is not None and _is_dir(found) else None

    def local(self, text: str, must_exist: bool = True) -> Optional[Path]:
        """The repository path a path of the command stands for: through the copies and
        mounts, else (relative paths) from the working dir, as mapped or assumed."""
        found = self.place.local(text)
        if found is None and not posixpath.isabs(text):
            candidate = _absolute((self.working_dir() or self.place.home) / text)
            found = candidate if not must_exist or _exists(candidate) else None
        if found is None and not must_exist:
            found = self.place.local(text, must_exist=False)
        return found

    def source(self, module: str) -> _Where:
        """The innermost line that names `module`, else the innermost line."""
        named = [where for where in self.where if module in where.text]
        return (named or list(self.where))[-1]


# --- Shell text and argument vectors --------------------------------------------------------

_SERVERS = frozenset({"uvicorn", "gunicorn", "fastapi"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_OPERATORS = frozenset({";", "&&", "||", "|", "&", ";;", "|&"})
_REDIRECTS = frozenset({">", ">>", "<", ">&", "<&", "&>", "&>>", "<<", ">|"})
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*|\d+)(?:(:?[-+=?])([^}]*))?\}|([A-Za-z_]\w*|\d))")
_MAX_SCRIPTS = 3
_SHEBANG = re.compile(r"#!\S*sh\b|#!\S*env\s+\w*sh\b")


def _expand(text: str, env: Dict[str, str], args: Sequence[str] = ()) -> str:
    """`$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:+alt}` and `$1`; unknown ones stay."""

    def value(match: "re.Match[str]") -> str:
        name, operator, word = match.group(1) or match.group(4), match.group(2), match.group(3)
        known = _lookup(name, env, args)
        if operator is None:
            return match.group(0) if known is None else known
        empty = known is None or (operator.startswith(":") and not known)
        if operator.endswith("+"):
            return "" if empty else word
        if operator.endswith("?"):
            return match.group(0) if empty else known
        return word if empty else known

    return _VARIABLE.sub(value, text)


def _lookup(name: str, env: Dict[str, str], args: Sequence[str]) -> Optional[str]:
    if name.isdigit():
        index = int(name)
        return args[index - 1] if 0 < index <= len(args) else None
    return env.get(name)


def _words(line: str) -> List[str]:
    """A shell line's words, control operators as their own words; never raises."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return line.split()


def _segments(text: str) -> Iterator[Tuple[int, str, List[str]]]:
    """(line, text, words) of each simple command of a shell script or `sh -c` string."""
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        first, logical = number + 1, lines[number]
        while logical.endswith("\\") and number + 1 < len(lines):
            number += 1
            logical = logical[:-1] + " " + lines[number]
        number += 1
        words: List[str] = []
        for word in [*_words(logical), ";"]:
            if word in _OPERATORS:
                if words:
                    yield first, logical.strip(), words
                words = []
            else:
                words.append(word)


def _without_redirects(words: List[str]) -> List[str]:
    kept: List[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _REDIRECTS:
            skip = True
        else:
            kept.append(word)
    return kept


def _shell_boot(text: str, run: _Run, script: Optional[Path] = None) -> Optional[_Boot]:
    """The first server command of shell text, following `cd`, `export` and assignments."""
    for line, written, words in _segments(text):
        if script is not None:
            run = replace(run, where=(*run.where[:-1], _Where(script, line, written)))
        argv = _expanded(_without_redirects(words), run)
        assignments = {}
        while argv and re.match(r"[A-Za-z_]\w*=", argv[0]):
            name, _, value = argv.pop(0).partition("=")
            assignments[name] = value
        run = run.setenv(assignments) if assignments else run
        if argv and argv[0] == "export":
            run = run.setenv(dict(word.partition("=")[::2] for word in argv[1:] if "=" in word))
        elif argv and argv[0] == "cd":
            run = replace(run, place=run.place.cd(argv[1] if len(argv) > 1 else "/"))
        elif argv:
            boot = _argv_boot(argv, run)
            if boot is not None:
                return boot
    return None


def _expanded(words: List[str], run: _Run) -> List[str]:
    env = run.environ
    argv: List[str] = []
    for word in words:
        if word in ("$@", "$*", "${@}", "${*}"):
            argv.extend(run.args)
        else:
            argv.append(_expand(word, env, run.args))
    return argv


def _argv_boot(argv: Sequence[str], run: _Run) -> Optional[_Boot]:
    """The boot an argument vector runs: a server found after wrappers (`exec`, `poetry run`,
    `uv run`, `opentelemetry-instrument`, ...), `python -m SERVER`, `sh -c`, or a start
    script of the repository."""
    for index, word in enumerate(argv):
        name = posixpath.basename(word)
        rest = list(argv[index + 1:])
        if word in _OPERATORS:  # an argument here (no shell reads it): the program is before
            return None
        if name in _SERVERS:
            return _server_boot(name, rest, run, python_m=False)
        if _PYTHON.fullmatch(name):
            return _python_boot(rest, run)
        if name in _SHELLS:
            return _sh_boot(rest, run)
        if index == 0 or word.endswith(".sh"):
            boot = _script_boot(word, rest, run)
            if boot is not None:
                return boot
    return None


def _python_boot(args: List[str], run: _Run) -> Optional[_Boot]:
    """`python -m uvicorn ...` (the working dir is on `sys.path` too); a script is not read."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        option = args[index]
        if option.startswith("-m"):
            module = option[2:] or (args[index + 1] if index + 1 < len(args) else "")
            rest = args[index + (1 if option[2:] else 2):]
            return _server_boot(module, rest, run, python_m=True) if module in _SERVERS else None
        index += 2 if option in ("-X", "-W", "-c") else 1
    return None


def _sh_boot(args: List[str], run: _Run) -> Optional[_Boot]:
    """`sh -c 'command' $0 $1...` or `sh script.sh args`."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        if "c" in args[index][1:] and index + 1 < len(args):
            return _shell_boot(args[index + 1], replace(run, args=tuple(args[index + 3:])))
        index += 1
    return _script_boot(args[index], args[index + 1:], run) if index < len(args) else None


def _script_boot(word: str, args: List[str], run: _Run) -> Optional[_Boot]:
    """A shell script of the repository (`./start.sh`, `/entrypoint.sh`), read as shell; at
    most three scripts deep."""
    if run.scripts >= _MAX_SCRIPTS:
        return None
    path = run.local(word)
    text = _read_text(path) if path is not None else None
    if path is None or text is None or not (path.suffix == ".sh" or _SHEBANG.match(text)):
        return None
    nested = replace(run, where=(*run.where, _Where(path, 1, word)), args=tuple(args),
                     scripts=run.scripts + 1)
    return _shell_boot(text, nested, script=path)


# --- Servers: uvicorn, gunicorn, the fastapi CLI --------------------------------------------

# Options that take no value (every other option does), from uvicorn 0.54, gunicorn 27 and
# fastapi-cli 0.0.34 (`--debug` is an older uvicorn's).
_UVICORN_FLAGS = frozenset({
    "--reload", "--factory", "--use-colors", "--no-use-colors", "--access-log",
    "--no-access-log", "--proxy-headers", "--no-proxy-headers", "--server-header",
    "--no-server-header", "--date-header", "--no-date-header", "--http2", "--reset-contextvars",
    "--version", "--debug", "--help",
})
_GUNICORN_FLAGS = frozenset({
    "--capture-output", "--check-config", "--daemon", "-D", "--enable-stdio-inheritance",
    "--initgroups", "--log-syslog", "--no-sendfile", "--preload", "--print-config", "--reload",
    "-R", "--reuse-port", "--spew", "--strip-header-spaces", "--suppress-ragged-eofs",
    "--casefold-http-method", "--disable-redirect-access-to-syslog",
    "--do-handshake-on-connect", "--enable-backlog-metric", "--no-control-socket",
    "--permit-obsolete-folding", "--permit-unconventional-http-method",
    "--permit-unconventional-http-version", "--version", "-v", "--help", "-h",
})
_FASTAPI_FLAGS = frozenset({
    "--reload", "--no-reload", "--proxy-headers", "--no-proxy-headers", "--verbose", "-v",
    "--help",
})
_GUNICORN_TARGET = re.compile(r"(?P<module>[A-Za-z_][\w.]*)(:(?P<attribute>[A-Za-z_][\w.]*)"
                              r"(?P<call>\(.*\))?)?")
# What `fastapi run` tries when given no path, in its order.
_FASTAPI_DEFAULT_PATHS = ("main.py", "app.py", "api.py", "app/main.py", "app/app.py",
                          "app/api.py")
Root = Union[str, Path]


def _options(args: Sequence[str], flags: frozenset) -> Tuple[List[str], Dict[str, str]]:
    """Positional arguments and the last value of each option (`--opt v`, `--opt=v`, `-kv`)."""
    positional: List[str] = []
    values: Dict[str, str] = {}
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            positional.extend(args[index + 1:])
            break
        if word.startswith("--") or (word.startswith("-") and len(word) == 2):
            name, equals, value = word.partition("=")
            if not equals and name not in flags and index + 1 < len(args):
                index += 1
                value = args[index]
            values[name] = value
        elif word.startswith("-") and len(word) > 2 and word[:2] not in flags:
            values[word[:2]] = word[2:]
        else:
            positional.append(word)
        index += 1
    return positional, values


def _server_boot(server: str, args: List[str], run: _Run, python_m: bool) -> Optional[_Boot]:
    readers = {"uvicorn": _uvicorn_boot, "gunicorn": _gunicorn_boot, "fastapi": _fastapi_boot}
    return readers[server](args, run, python_m)


def _uvicorn_boot(args: List[str], run: _Run, python_m: bool) -> Optional[_Boot]:
    """uvicorn puts `--app-dir` (default: the working dir) first on `sys.path`; `python -m`
    adds the working dir after it. Options may also come from `UVICORN_*` variables."""
    positional, options = _options(args, _UVICORN_FLAGS)
    env = run.environ
    app = next((word for word in positional if TARGET_PATTERN.fullmatch(word)),
               env.get("UVICORN_APP"))
    if app is None or not TARGET_PATTERN.fullmatch(app):
        return None
    module, _, attribute = app.partition(":")
    factory = "--factory" in options or env.get("UVICORN_FACTORY", "").lower() in ("1", "true")
    app_dir = options.get("--app-dir", env.get("UVICORN_APP_DIR")) or "."
    env_file = options.get("--env-file", env.get("UVICORN_ENV_FILE"))
    roots: List[Root] = [app_dir, "."] if python_m else [app_dir]
    return _boot(run, module, attribute, factory, roots, [env_file] if env_file else [])


def _gunicorn_boot(args: List[str], run: _Run, python_m: bool) -> Optional[_Boot]:
    """gunicorn changes to `--chdir` and puts it first on `sys.path` (the starting dir stays
    after it), then each `--pythonpath` entry before them; `module:factory()` is a factory."""
    positional, options = _options(args, _GUNICORN_FLAGS)
    settings = _gunicorn_settings(options.get("--config", options.get("-c")), run)
    settings.update({key: value for key, value in (
        ("chdir", options.get("--chdir")), ("pythonpath", options.get("--pythonpath"))) if value})
    app = next((word for word in positional if _GUNICORN_TARGET.fullmatch(word)),
               settings.get("wsgi_app"))
    match = _GUNICORN_TARGET.fullmatch(app or "")
    if match is None:
        return None
    start = run.place.cwd
    chdir = settings.get("chdir")
    if chdir:
        run = replace(run, place=run.place.cd(chdir))
    paths = [entry for entry in settings.get("pythonpath", "").split(",") if entry]
    roots: List[Root] = [*reversed(paths), ".", str(start)]
    return _boot(run, match["module"], match["attribute"] or "application", bool(match["call"]),
                 roots, [])


def _gunicorn_settings(config: Optional[str], run: _Run) -> Dict[str, str]:
    """String settings of a gunicorn config file (`-c`, default `./gunicorn.conf.py`)."""
    if config and config.startswith("python:"):
        return {}
    path = run.local(config[5:] if config and config.startswith("file:") else
                     config or "gunicorn.conf.py")
    tree = _parse_python(path) if path is not None else None
    settings: Dict[str, str] = {}
    for statement in tree.body if tree else []:
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            value = statement.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                settings[statement.targets[0].id] = value.value
            elif isinstance(value, (ast.List, ast.Tuple)) and all(
                    isinstance(item, ast.Constant) and isinstance(item.value, str)
                    for item in value.elts):
                settings[statement.targets[0].id] = ",".join(item.value for item in value.elts)
    return settings


def _fastapi_boot(args: List[str], run: _Run, python_m: bool) -> Optional[_Boot]:
    """`fastapi run|dev [PATH] [--app NAME] [--entrypoint module:app]`: the module is named
    from the file up through the folders holding `__init__.py`, and the folder above them goes
    first on `sys.path`; with no path, `[tool.fastapi] entrypoint` or the default files."""
    positional, options = _options(args, _FASTAPI_FLAGS)
    if not positional or positional[0] not in ("run", "dev"):
        return None
    extra: List[Root] = ["."] if python_m else []
    entrypoint = options.get("--entrypoint", options.get("-e"))
    if entrypoint is None and len(positional) < 2:
        configured = _pyproject_entrypoint(run.working_dir() or run.place.home)
        entrypoint = configured[0] if configured else None
    if entrypoint is not None:
        if not TARGET_PATTERN.fullmatch(entrypoint):
            return None
        module, _, attribute = entrypoint.partition(":")
        return _boot(run, module, attribute, False, ["."], [])
    paths = positional[1:2] or [path for path in _FASTAPI_DEFAULT_PATHS if run.local(path)]
    found = run.local(paths[0]) if paths else None
    if found is None:
        return None
    module, folder, source = _cli_module(found)
    tree = _parse_python(source) if module else None
    attribute = options.get("--app") or (_cli_app_name(tree) if tree else None)
    if module is None or attribute is None:
        return None
    return _boot(run, module, attribute, False, [folder, *extra], [])


def _cli_module(path: Path) -> Tuple[Optional[str], Path, Path]:
    """As fastapi-cli names it: (module, the folder put on `sys.path`, the module's file)."""
    module_path = path.parent if path.name == "__init__.py" else path
    source = module_path / "__init__.py" if _is_dir(module_path) else module_path
    parts = [module_path.stem if _is_file(module_path) else module_path.name]
    folder = module_path.parent
    while _is_file(folder / "__init__.py") and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    module = ".".join(parts)
    return (module if all(_is_identifier(part) for part in parts) else None), folder, source


def _cli_app_name(tree: ast.Module) -> Optional[str]:
    """The app fastapi-cli picks: `app`, else `api`, else the first FastAPI instance by name."""
    apps = [name for name, _, factory, _ in _asgi_apps(tree) if not factory]
    for preferred in ("app", "api"):
        if preferred in apps:
            return preferred
    return min(apps) if apps else None


def _boot(run: _Run, module: str, attribute: str, factory: bool, roots: Sequence[Root],
          env_files: Sequence[str]) -> _Boot:
    """The boot of a server command: container paths mapped to the repository, with what
    could not be mapped said in the target's origin."""
    notes = list(run.notes)
    working_dir = run.working_dir()
    if working_dir is None:
        working_dir = run.place.home
        notes.append(f"the working dir {run.place.cwd} maps to no folder of the repository: "
                     f"assumed {_folder(working_dir, run.root)}")

    def mapped(entry: Root, what: str, must_exist: bool = True) -> Optional[Path]:
        if isinstance(entry, Path) or entry == ".":
            return working_dir if entry == "." else entry
        found = run.local(entry, must_exist)
        if found is None:
            notes.append(f"{what} {run.place.path(entry)} maps to no path of the repository: "
                         "left out")
        return found

    import_roots = [mapped(entry, "sys.path entry") for entry in roots]
    pythonpath = [mapped(entry, "PYTHONPATH entry")
                  for entry in run.environ.get("PYTHONPATH", "").split(":")
                  if entry and "$" not in entry]
    files = [mapped(entry, "env file", must_exist=False) for entry in env_files]
    origin = "; ".join([run.origin(), *dict.fromkeys(notes)])
    source = run.source(module)
    target = Target(module, attribute, factory, origin, source.path, source.line)
    kept = tuple(path for path in pythonpath if path is not None)
    return _Boot(target, working_dir,
                 tuple(dict.fromkeys(path for path in [*import_roots, *kept] if path)),
                 tuple(path for path in files if path is not None), kept)


# --- pyproject.toml: [tool.fastapi] entrypoint ----------------------------------------------


def _pyproject_entrypoint(folder: Path) -> Optional[Tuple[str, Path, Optional[int]]]:
    """fastapi-cli's `entrypoint` in `folder/pyproject.toml`, with the file and line."""
    path = folder / "pyproject.toml"
    text = _read_text(path)
    try:
        data = tomllib.loads(text) if text else {}
    except (tomllib.TOMLDecodeError, ValueError):
        return None
    tool = data.get("tool")
    table = tool.get("fastapi") if isinstance(tool, dict) else None
    entrypoint = table.get("entrypoint") if isinstance(table, dict) else None
    if not isinstance(entrypoint, str):
        return None
    return entrypoint.strip(), path, _toml_line(path, "tool.fastapi", "entrypoint")


def _entrypoint_boot(root: Path) -> Optional[_Boot]:
    """`fastapi run` in the root with `[tool.fastapi] entrypoint`: the root goes on
    `sys.path`."""
    configured = _pyproject_entrypoint(root)
    if configured is None or not TARGET_PATTERN.fullmatch(configured[0]):
        return None
    entrypoint, path, line = configured
    module, _, attribute = entrypoint.partition(":")
    target = Target(module, attribute, False, "[tool.fastapi] entrypoint in pyproject.toml "
                    "(fastapi run from the project root)", path, line)
    return _Boot(target, root, (root,))


# --- Files that hold a boot command ---------------------------------------------------------

_MAX_DEPTH = 3
_MAX_ENTRIES = 5000
# Their Dockerfiles and compose files describe something else than the project's own boot.
_NOT_BOOT_DIRS = frozenset({"tests", "test", "testing", "fixtures", "examples", "docs", "e2e"})


def _boot_files(root: Path) -> Dict[str, List[Tuple[int, Path]]]:
    """Dockerfiles, compose files and Procfiles at most three folders below the root, with
    their depth; virtual environments, caches, build outputs, tests and examples are not
    entered."""
    found: Dict[str, List[Tuple[int, Path]]] = {}
    queue = [(root, 0)]
    seen = 0
    while queue:
        folder, depth = queue.pop(0)
        for entry in _entries(folder):
            seen += 1
            if seen > _MAX_ENTRIES:
                return found
            path = Path(entry.path)
            kind = _boot_file_kind(entry.name)
            if _entry_is_dir(entry):
                if (depth < _MAX_DEPTH and entry.name.lower() not in _NOT_BOOT_DIRS
                        and not is_skipped_dir(path)):
                    queue.append((path, depth + 1))
            elif kind and _is_file(path):
                found.setdefault(kind, []).append((depth, path))
    return found


def _entries(folder: Path) -> List["os.DirEntry[str]"]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []


def _entry_is_dir(entry: "os.DirEntry[str]") -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _boot_file_kind(name: str) -> Optional[str]:
    lower = name.lower()
    if lower.endswith(".dockerignore"):
        return None
    if (lower in ("dockerfile", "containerfile") or lower.endswith(".dockerfile")
            or lower.startswith(("dockerfile.", "containerfile."))):
        return "Dockerfile"
    if re.fullmatch(r"(docker-)?compose([.\-_][\w.\-]*)?\.ya?ml", lower):
        return "compose file"
    return "Procfile" if name == "Procfile" else None


# --- Dockerfile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Instruction:
    keyword: str
    value: str
    line: int

    @property
    def text(self) -> str:
        return f"{self.keyword} {self.value}"

    def exec_form(self) -> Optional[List[str]]:
        """The JSON array of `CMD ["uvicorn", ...]`; None for the shell form."""
        try:
            value = json.loads(self.value) if self.value.startswith("[") else None
        except ValueError:
            return None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        return None

    def argv(self) -> List[str]:
        exec_form = self.exec_form()
        return exec_form if exec_form is not None else ["/bin/sh", "-c", self.value]


@dataclass
class _Stage:
    """The state of one build stage: what `FROM`, `WORKDIR`, `ENV`, `ARG`, `COPY`/`ADD`,
    `CMD` and `ENTRYPOINT` left."""

    workdir: PurePosixPath = PurePosixPath("/")
    env: Dict[str, str] = field(default_factory=dict)
    args: Dict[str, str] = field(default_factory=dict)
    mounts: List[Tuple[PurePosixPath, Path]] = field(default_factory=list)
    entrypoint: Optional[_Instruction] = None
    cmd: Optional[_Instruction] = None

    def copy(self) -> "_Stage":
        return _Stage(self.workdir, dict(self.env), dict(self.args), list(self.mounts),
                      self.entrypoint, self.cmd)

    def expand(self, text: str) -> str:
        return _expand(text, {**self.args, **self.env})


@dataclass(frozen=True)
class _Image:
    """What a container built from a Dockerfile starts with."""

    dockerfile: Path
    place: _Place
    env: Dict[str, str]
    entrypoint: Optional[_Instruction]
    cmd: Optional[_Instruction]
    notes: Tuple[str, ...]

    def command(self) -> Optional[Tuple[List[str], List[_Instruction]]]:
        """The argument vector the container runs, and the instructions it comes from."""
        if self.entrypoint is not None:
            if self.entrypoint.exec_form() is None or self.cmd is None:
                return self.entrypoint.argv(), [self.entrypoint]
            return [*self.entrypoint.argv(), *self.cmd.argv()], [self.entrypoint, self.cmd]
        return (self.cmd.argv(), [self.cmd]) if self.cmd is not None else None


def _dockerfile_boots(root: Path, path: Path) -> List[_Boot]:
    image = _image(root, path)
    command = image.command() if image is not None else None
    if image is None or command is None:
        return []
    argv, instructions = command
    wheres = tuple(_Where(path, instruction.line, instruction.text)
                   for instruction in instructions)
    run = _Run(root, wheres, image.place, tuple(image.env.items()), notes=image.notes)
    boot = _argv_boot(argv, run)
    return [boot] if boot is not None else []


def _image(root: Path, path: Path, context: Optional[Path] = None,
           stage_name: Optional[str] = None) -> Optional[_Image]:
    """Read a Dockerfile's final stage (or `stage_name`); the build context is `context`, else
    the nearest folder, from the Dockerfile's up to the root, holding what it copies."""
    text = _read_text(path)
    if text is None:
        return None
    instructions = _instructions(text)
    notes: Tuple[str, ...] = ()
    if context is None:
        context = _guess_context(path.parent, root, instructions)
        if context != path.parent:
            notes = (f"build context assumed to be {_folder(context, root)} (where the copied "
                     "files are)",)
    stage = _final_stage(instructions, context, stage_name)
    if stage is None:
        return None
    place = _Place(stage.workdir, tuple(stage.mounts), path.parent, root)
    return _Image(path, place, stage.env, stage.entrypoint, stage.cmd, notes)


def _instructions(text: str) -> List[_Instruction]:
    """Instructions with continuation lines joined, comments and heredoc bodies skipped."""
    escape = "`" if re.match(r"#\s*escape\s*=\s*`", text) else "\\"
    lines = text.splitlines()
    found: List[_Instruction] = []
    index = 0
    while index < len(lines):
        start, logical = index + 1, lines[index].strip()
        index += 1
        if not logical or logical.startswith("#"):
            continue
        while logical.endswith(escape) and index < len(lines):
            following = lines[index].strip()
            index += 1
            if not following.startswith("#"):
                logical = logical[:-1].rstrip() + " " + following
        keyword, value = (re.split(r"\s+", logical, maxsplit=1) + [""])[:2]
        found.append(_Instruction(keyword.upper(), value.strip(), start))
        heredoc = re.search(r"<<-?\s*[\"']?([A-Za-z_]\w*)[\"']?", value)
        if heredoc and keyword.upper() in ("RUN", "COPY", "ADD"):
            while index < len(lines) and lines[index].strip() != heredoc.group(1):
                index += 1
            index += 1
    return found


def _final_stage(instructions: List[_Instruction], context: Path,
                 stage_name: Optional[str]) -> Optional[_Stage]:
    """The state of the last stage, or of the stage named `stage_name` (compose's
    `build.target`); stages built `FROM` an earlier stage start from its state."""
    stages: Dict[str, _Stage] = {}
    global_args: Dict[str, str] = {}
    stage: Optional[_Stage] = None
    count = 0
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = [word for word in instruction.value.split() if not word.startswith("--")]
            base = words[0].lower() if words else ""
            stage = stages[base].copy() if base in stages else _Stage(args=dict(global_args))
            stages[str(count)] = stage
            count += 1
            if len(words) == 3 and words[1].lower() == "as":
                stages[words[2].lower()] = stage
        elif stage is None:
            if instruction.keyword == "ARG":
                global_args.update(_arg(instruction.value))
        else:
            _apply(stage, instruction, context, stages)
    if stage_name:
        return stages.get(stage_name.lower())
    return stage


def _arg(value: str) -> Dict[str, str]:
    """`ARG NAME=default` (an ARG without a default leaves the name unknown)."""
    found = {}
    for word in _words(value):
        name, equals, default = word.partition("=")
        if equals:
            found[name] = default
    return found


def _apply(stage: _Stage, instruction: _Instruction, context: Path,
           stages: Dict[str, _Stage]) -> None:
    keyword, value = instruction.keyword, instruction.value
    if keyword == "WORKDIR":
        stage.workdir = PurePosixPath(posixpath.normpath(
            posixpath.join(str(stage.workdir), stage.expand(value).strip("'\""))))
    elif keyword == "ENV":
        stage.env.update(_env(value, stage))
    elif keyword == "ARG":
        stage.args.update({name: stage.expand(default) for name, default in _arg(value).items()})
    elif keyword in ("COPY", "ADD"):
        stage.mounts.extend(_copied(value, stage, context, stages))
    elif keyword == "ENTRYPOINT":
        stage.entrypoint, stage.cmd = instruction, None
    elif keyword == "CMD":
        stage.cmd = instruction


def _env(value: str, stage: _Stage) -> Dict[str, str]:
    """`ENV A=1 B="two words"` or the legacy `ENV NAME value with spaces`."""
    words = _words(value)
    if words and "=" not in words[0]:
        return {words[0]: stage.expand(" ".join(words[1:]))}
    found: Dict[str, str] = {}
    for word in words:
        name, equals, text = word.partition("=")
        if equals:
            found[name] = _expand(text, {**stage.args, **stage.env, **found})
    return found


def _copied(value: str, stage: _Stage, context: Path,
            stages: Dict[str, _Stage]) -> List[Tuple[PurePosixPath, Path]]:
    """The container paths a `COPY`/`ADD` fills, with the repository paths they come from."""
    words = _copy_words(value)
    options = {word[2:].partition("=")[0]: word.partition("=")[2]
               for word in words if word.startswith("--")}
    paths = [stage.expand(word) for word in words if not word.startswith("--")]
    if len(paths) < 2:
        return []
    sources, destination = paths[:-1], paths[-1]
    target = PurePosixPath(posixpath.normpath(posixpath.join(str(stage.workdir), destination)))
    into_folder = destination.endswith("/") or len(sources) > 1 or destination in (".", "./")
    origin = options.get("from", "").lower()
    if origin:
        source_stage = stages.get(origin)
        return _from_stage(sources, target, source_stage) if source_stage else []
    mounts: List[Tuple[PurePosixPath, Path]] = []
    for source in sources:
        for local in _context_paths(context, source):
            at = target / local.name if into_folder and _is_file(local) else target
            mounts.append((at, local))
    return mounts


def _copy_words(value: str) -> List[str]:
    if value.startswith("["):
        try:
            words = json.loads(value)
        except ValueError:
            words = None
        if isinstance(words, list) and all(isinstance(word, str) for word in words):
            return words
    return value.split()


def _context_paths(context: Path, source: str) -> List[Path]:
    """The existing repository paths a `COPY` source names, inside the build context."""
    if "://" in source or source.startswith("<<"):
        return []
    relative = posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."
    if relative.startswith(".."):
        return []
    if not re.search(r"[*?\[]", relative):
        path = _absolute(context / relative)
        return [path] if _exists(path) else []
    try:
        return sorted(_absolute(path) for path in context.glob(relative))[:100]
    except (OSError, ValueError, NotImplementedError):
        return []


def _from_stage(sources: List[str], target: PurePosixPath,
                stage: _Stage) -> List[Tuple[PurePosixPath, Path]]:
    """`COPY --from=builder /app /app`: the builder's copies of the repository, moved."""
    mounts: List[Tuple[PurePosixPath, Path]] = []
    for source in sources:
        origin = PurePosixPath(posixpath.normpath(posixpath.join(str(stage.workdir), source)))
        for at, local in stage.mounts:
            if at == origin or origin in at.parents:
                mounts.append((target / at.relative_to(origin), local))
            elif at in origin.parents:
                mounts.append((target, local.joinpath(*origin.relative_to(at).parts)))
    return mounts


def _guess_context(folder: Path, root: Path, instructions: List[_Instruction]) -> Path:
    """The nearest folder (the Dockerfile's, then up to the root) holding every copied path."""
    sources = [word for instruction in instructions if instruction.keyword in ("COPY", "ADD")
               for word in _copy_words(instruction.value)[:-1]
               if not word.startswith("--") and "$" not in word
               and "--from" not in instruction.value]
    candidates = [folder, *[parent for parent in folder.parents if _within(parent, root)]]
    if not sources:
        return folder
    scores = [sum(bool(_context_paths(candidate, source)) for source in sources)
              for candidate in candidates]
    return candidates[scores.index(max(scores))]


# --- Procfile -------------------------------------------------------------------------------


def _procfile_boots(root: Path, path: Path) -> List[_Boot]:
    """`web: command`, run by a shell in the app's folder (`/app` on Heroku)."""
    for number, line in enumerate((_read_text(path) or "").splitlines(), 1):
        process, _, command = line.partition(":")
        if process.strip() == "web" and command.strip():
            place = _Place(PurePosixPath("/app"), ((PurePosixPath("/app"), path.parent),),
                           path.parent, root)
            boot = _shell_boot(command, _Run(root, (_Where(path, number, line.strip()),), place))
            return [boot] if boot is not None else []
    return []


# --- Compose files: a reader for the block YAML they are written in --------------------------


@dataclass(frozen=True)
class _Node:
    """A YAML value: text, a list or a mapping of nodes, with the line of its key (or item)."""

    line: int
    value: Union[str, List["_Node"], Dict[str, "_Node"]]

    def get(self, key: str) -> Optional["_Node"]:
        return self.value.get(key) if isinstance(self.value, dict) else None

    def text(self) -> Optional[str]:
        return self.value if isinstance(self.value, str) else None

    def texts(self) -> List[str]:
        """A text or a list of texts, as a list."""
        if isinstance(self.value, str):
            return [self.value] if self.value else []
        if isinstance(self.value, list):
            return [item.value for item in self.value if isinstance(item.value, str)]
        return []


_KEY = re.compile(r"""(?:"([^"]*)"|'([^']*)'|([^\s"'#\[\]{},&*!|>%@`-][^#:]*?|-[^\s:][^#:]*?))"""
                  r"""\s*:(?:\s+|$)""")


class _Yaml:
    """Block mappings and sequences, plain and quoted scalars, flat flow sequences and
    mappings, block scalars (`|`, `>`); anchors and tags are dropped, aliases read as text.
    Enough for compose files; anything else reads as something, never raises."""

    def __init__(self, text: str) -> None:
        self.raw = text.splitlines()
        self.rows: List[Tuple[int, int, str]] = []
        for number, line in enumerate(self.raw, 1):
            content = _strip_comment(line.strip())
            if content and content not in ("---", "..."):
                self.rows.append((number, len(line) - len(line.lstrip(" ")), content))
        self.index = 0

    def parse(self) -> Optional[_Node]:
        return self._block(self.rows[0][1]) if self.rows else None

    def _block(self, indent: int) -> _Node:
        return self._sequence(indent) if _is_item(self.rows[self.index][2]) else \
            self._mapping(indent)

    def _mapping(self, indent: int) -> _Node:
        node = _Node(self.rows[self.index][0], {})
        while self.index < len(self.rows):
            number, level, content = self.rows[self.index]
            if level < indent or (level == indent and _is_item(content)):
                break
            self.index += 1
            match = _KEY.match(content) if level == indent else None
            if match:
                key = next(group for group in match.groups() if group is not None)
                node.value[key.strip()] = self._value(content[match.end():], indent, number)
        return node

    def _sequence(self, indent: int) -> _Node:
        node = _Node(self.rows[self.index][0], [])
        while self.index < len(self.rows):
            number, level, content = self.rows[self.index]
            if level < indent or (level == indent and not _is_item(content)):
                break
            if level > indent:
                self.index += 1
                continue
            rest = content[1:].lstrip()
            if rest and _KEY.match(rest):
                column = indent + len(content) - len(rest)
                self.rows[self.index] = (number, column, rest)
                node.value.append(self._mapping(column))
            else:
                self.index += 1
                node.value.append(self._value(rest, indent, number))
        return node

    def _value(self, rest: str, indent: int, number: int) -> _Node:
        rest = re.sub(r"^(?:[&!]\S*\s*)+", "", rest.strip())
        following = self.rows[self.index] if self.index < len(self.rows) else None
        if rest[:1] in ("|", ">"):
            return _Node(number, self._block_scalar(indent, number, folded=rest[0] == ">"))
        if rest.startswith("["):
            return _Node(number, [_Node(number, item) for item in self._flow(rest, "]")])
        if rest.startswith("{"):
            pairs = (item.partition(":") for item in self._flow(rest, "}"))
            return _Node(number, {_unquote(key.strip()): _Node(number, _unquote(value.strip()))
                                  for key, _, value in pairs})
        if not rest:
            if following and following[1] > indent:
                return replace(self._block(following[1]), line=number)
            if following and following[1] == indent and _is_item(following[2]):
                return replace(self._sequence(indent), line=number)
            return _Node(number, "")
        text = _unquote(rest)
        while self.index < len(self.rows) and self.rows[self.index][1] > indent:
            text += " " + self.rows[self.index][2]
            self.index += 1
        return _Node(number, text)

    def _block_scalar(self, indent: int, number: int, folded: bool) -> str:
        lines: List[str] = []
        for line in self.raw[number:]:
            if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
                break
            lines.append(line.strip())
        last = number + len(lines)
        while self.index < len(self.rows) and self.rows[self.index][0] <= last:
            self.index += 1
        kept = [line for line in lines if line] if folded else lines
        return (" " if folded else "\n").join(kept).strip()

    def _flow(self, rest: str, end: str) -> List[str]:
        """The items of a flow sequence (`end` "]") or mapping (`end` "}"), as text."""
        text = rest
        while end not in text and self.index < len(self.rows):
            text += " " + self.rows[self.index][2]
            self.index += 1
        inner = text[1:text.rfind(end)] if end in text else text[1:]
        items = re.findall(r'\s*("(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[^,]+)', inner)
        return [_unquote(item.strip()) for item in items if item.strip()]


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _strip_comment(text: str) -> str:
    """The text before a ` #` comment that is not inside quotes."""
    quote = None
    for index, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'" and (index == 0 or text[index - 1] in " [,:-"):
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t"):
            return text[:index].rstrip()
    return text


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            value = json.loads(text)
        except ValueError:
            return text[1:-1]
        return value if isinstance(value, str) else text[1:-1]
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def _compose_boots(root: Path, path: Path) -> List[_Boot]:
    """A boot per service whose command (its own, or its image's) runs a server."""
    document = _Yaml(_read_text(path) or "").parse()
    services = document.get("services") if document else None
    if services is None or not isinstance(services.value, dict):
        return []
    boots = []
    for name, service in services.value.items():
        boot = _service_boot(root, path, name, service)
        if boot is not None:
            boots.append(boot)
    return boots


def _service_boot(root: Path, path: Path, name: str, service: _Node) -> Optional[_Boot]:
    image = _service_image(root, path, service)
    place = image.place if image else _Place(PurePosixPath("/"), (), path.parent, root)
    place = _with_volumes(place, path.parent, service.get("volumes"))
    working_dir = _compose_text(service.get("working_dir"))
    place = place.cd(working_dir) if working_dir else place
    env = {**(image.env if image else {}), **_compose_environment(service.get("environment"))}
    argv, wheres = _service_command(path, name, service, image)
    if argv is None:
        return None
    run = _Run(root, wheres, place, tuple(env.items()), notes=image.notes if image else ())
    boot = _argv_boot(argv, run)
    if boot is None:
        return None
    env_files = [_absolute(path.parent / entry) for entry in _env_file_entries(service)]
    return replace(boot, env_files=tuple(dict.fromkeys([*boot.env_files, *env_files])))


def _service_image(root: Path, path: Path, service: _Node) -> Optional[_Image]:
    build = service.get("build")
    if build is None:
        return None
    context = _compose_text(build) if isinstance(build.value, str) else \
        _compose_text(build.get("context")) or "."
    dockerfile = (_compose_text(build.get("dockerfile")) or "Dockerfile") \
        if isinstance(build.value, dict) else "Dockerfile"
    stage = _compose_text(build.get("target")) if isinstance(build.value, dict) else None
    folder = _absolute(path.parent / (context or "."))
    return _image(root, _absolute(folder / dockerfile), folder, stage)


def _service_command(path: Path, name: str, service: _Node,
                     image: Optional[_Image]) -> Tuple[Optional[List[str]], Tuple[_Where, ...]]:
    """The service's argument vector: its `entrypoint:`/`command:` over the image's."""
    entrypoint, command = service.get("entrypoint"), service.get("command")
    image_command = image.command() if image else None
    own = [node for node in (entrypoint, command) if node is not None]
    if not own:
        if image_command is None:
            return None, ()
        argv, instructions = image_command
        return argv, (_Where(path, service.line, f"service {name}"),
                      *(_Where(image.dockerfile, instruction.line, instruction.text)
                        for instruction in instructions))
    entry = _compose_argv(entrypoint) if entrypoint is not None else (
        image.entrypoint.argv() if image and image.entrypoint else [])
    argv = [*entry, *(_compose_argv(command) if command is not None else [])]
    shown = own[-1]
    key = "command" if shown is command else "entrypoint"
    written = shown.value if isinstance(shown.value, str) else json.dumps(shown.texts())
    return argv, (_Where(path, shown.line, f"service {name} {key}: {written}"),)


def _compose_argv(node: _Node) -> List[str]:
    """A compose `command:`: a list, or a string split as a shell would (not run by one)."""
    if isinstance(node.value, list):
        return [_expand(text, {}) for text in node.texts()]
    return [_expand(word, {}) for word in _words(node.value)] if isinstance(node.value, str) \
        else []


def _compose_text(node: Optional[_Node]) -> Optional[str]:
    text = node.text() if node is not None else None
    return _expand(text, {}) if text else None


def _compose_environment(node: Optional[_Node]) -> Dict[str, str]:
    if node is None:
        return {}
    if isinstance(node.value, dict):
        return {key: _expand(value.text() or "", {}) for key, value in node.value.items()}
    return {name: _expand(value, {})
            for name, _, value in (text.partition("=") for text in node.texts())}


def _env_file_entries(service: _Node) -> List[str]:
    node = service.get("env_file")
    if node is None:
        return []
    if isinstance(node.value, list):
        return [_expand(item.text() or _compose_text(item.get("path")) or "", {})
                for item in node.value if item.text() or item.get("path")]
    return [_expand(text, {}) for text in node.texts()]


def _with_volumes(place: _Place, folder: Path, node: Optional[_Node]) -> _Place:
    """Bind mounts (`./backend:/app`, or `type: bind` with `source`/`target`)."""
    for item in node.value if node is not None and isinstance(node.value, list) else []:
        if isinstance(item.value, dict):
            source, target = _compose_text(item.get("source")), _compose_text(item.get("target"))
        else:
            source, _, rest = _expand(item.text() or "", {}).partition(":")
            target = rest.partition(":")[0]
        if source and target and source.startswith((".", "/")) and target.startswith("/"):
            local = _absolute(folder / source)
            if _within(local, place.limit):
                place = place.mount(PurePosixPath(posixpath.normpath(target)), local)
    return place


# --- Convention: a module-level FastAPI() in a conventional file -----------------------------

_CONVENTION = ("main.py", "app.py", "api.py", "server.py", "app/main.py", "app/app.py",
               "app/api.py", "src/main.py", "src/app.py", "src/*/main.py", "src/*/app.py",
               "api/main.py", "backend/main.py", "backend/app/main.py", "backend/src/main.py",
               "backend/src/*/main.py")
_APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI",
                          "starlette.applications.Starlette"})


def _convention_boot(root: Path, config: Config, notes: List[str]) -> Optional[_Boot]:
    """The first conventional file holding an app (or, lacking one, an app factory), run
    from the folder its own imports resolve from (or the configured one)."""
    base = None
    if config.working_dir or config.app_dir:
        base = _configured_import_root(_configured_dir(root, config, []), config, [])
    for pattern in _CONVENTION:
        found = [(path, tree, apps) for path in _convention_paths(root, base, pattern)
                 for tree in [_parse_python(path)] if tree is not None
                 for apps in [_asgi_apps(tree)] if apps]
        if len(found) > 1:
            shown = ", ".join(_relative(path, root) for path, _, _ in found)
            notes.append(f"target unknown: several files define an app ({shown})")
            return None
        if found:
            return _convention_target(root, base, *found[0])
    return None


def _convention_paths(root: Path, base: Optional[Path], pattern: str) -> List[Path]:
    folders = [root] if base is None else [base]
    paths = []
    for folder in folders:
        try:
            matches = sorted(folder.glob(pattern)) if "*" in pattern else [folder / pattern]
        except (OSError, ValueError):
            matches = []
        paths.extend(_absolute(path) for path in matches
                     if _is_file(path) and not is_skipped_dir(path.parent))
    return paths


def _convention_target(root: Path, base: Optional[Path], path: Path, tree: ast.Module,
                       apps: List[Tuple[str, int, bool, str]]) -> Optional[_Boot]:
    name, line, factory, shown = _preferred(apps)
    reading, why = (base, "") if base is not None else _reading(root, path, tree)
    module = _dotted(path, reading) if reading is not None else None
    if reading is None or module is None:
        return None
    src_layout = reading.name == "src" and reading != root
    working_dir = reading.parent if src_layout else reading
    run_as = f"{module}:{name}" + (" --factory" if factory else "")
    app_dir = f" --app-dir {_relative(reading, working_dir)}" if src_layout else ""
    origin = (f"convention: {_relative(path, root)} defines {shown}; assumed run as "
              f"`uvicorn {run_as}{app_dir}` from {_folder(working_dir, root)}"
              + (f" ({why})" if why else ""))
    return _Boot(Target(module, name, factory, origin, path, line), working_dir, (reading,))


def _preferred(apps: List[Tuple[str, int, bool, str]]) -> Tuple[str, int, bool, str]:
    """An app named `app`, else `api`, else the first; a factory only when there is no app."""
    instances = [app for app in apps if not app[2]] or apps
    for preferred in ("app", "api", "create_app"):
        for app in instances:
            if app[0] == preferred:
                return app
    return instances[0]


def _asgi_apps(tree: ast.Module) -> List[Tuple[str, int, bool, str]]:
    """(name, line, factory, as shown) of the module-level `NAME = FastAPI(...)` (or
    `Starlette(...)`, or a call of a module-level function returning one), else of those
    functions (factories)."""
    aliases = _app_aliases(tree)
    factories = {statement.name: statement for statement in tree.body
                 if isinstance(statement, ast.FunctionDef) and _returns_app(statement, aliases)}
    apps = []
    for statement in tree.body:
        value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(value, ast.Call):
            continue
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        call = _app_call(value, aliases) or (
            f"{value.func.id}()" if isinstance(value.func, ast.Name) and value.func.id in
            factories else None)
        apps.extend((target.id, statement.lineno, False, f"{target.id} = {call}")
                    for target in targets if call and isinstance(target, ast.Name))
    return apps or [(name, function.lineno, True, f"{name}() returning an app (a factory)")
                    for name, function in factories.items()]


def _app_aliases(tree: ast.Module) -> Dict[str, str]:
    """Local names of the app classes and of the modules holding them."""
    aliases: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                aliases[local] = alias.name if alias.asname else local
    return aliases


def _app_call(call: ast.Call, aliases: Dict[str, str]) -> Optional[str]:
    """`FastAPI()` as written, when `call` creates an app; else None."""
    parts: List[str] = []
    func: ast.expr = call.func
    while isinstance(func, ast.Attribute):
        parts.insert(0, func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id not in aliases:
        return None
    dotted = ".".join([aliases[func.id], *parts])
    return f"{'.'.join([func.id, *parts])}()" if dotted in _APP_CLASSES else None


def _returns_app(function: ast.FunctionDef, aliases: Dict[str, str]) -> bool:
    """Whether the function returns an app it creates (`return FastAPI()`, or a name it
    assigned one to)."""
    names = {target.id for node in ast.walk(function) if isinstance(node, ast.Assign)
             and isinstance(node.value, ast.Call) and _app_call(node.value, aliases)
             for target in node.targets if isinstance(target, ast.Name)}
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if (isinstance(value, ast.Call) and _app_call(value, aliases)) or (
                    isinstance(value, ast.Name) and value.id in names):
                return True
    return False


def _reading(root: Path, path: Path, tree: ast.Module) -> Tuple[Optional[Path], str]:
    """The folder to import `path` from (its import root), decided by the file's own imports:
    the folder from which every top-level name it imports from the project resolves."""
    folders = [folder for folder in [path.parent, *path.parent.parents] if _within(folder, root)]
    names, level = _imported_names(tree)
    readings = [folder for folder in folders if _fits(path, folder, level)]
    if not readings:
        return None, ""
    own = sorted(name for name in names if any(_holds(folder, name) for folder in folders))
    cli = _cli_module(path)[1]
    if not own:
        chosen = cli if cli in readings else readings[0]
        return chosen, ("no import of the project's own modules decides; assumed as `fastapi "
                        "dev` reads the __init__.py files")
    resolved = {folder: [name for name in own if _holds(folder, name)] for folder in readings}
    best = max(len(found) for found in resolved.values())
    tied = [folder for folder in readings if len(resolved[folder]) == best]
    chosen = cli if cli in tied else tied[0]
    missing = [name for name in own if name not in resolved[chosen]]
    if missing:
        return chosen, (f"assumed: its imports of {', '.join(missing)} do not resolve from "
                        "there, nor from any other folder together with the rest")
    return chosen, f"its imports of {', '.join(own)} resolve from there"


def _imported_names(tree: ast.Module) -> Tuple[List[str], int]:
    """Top-level names of the file's absolute imports, and its deepest relative import."""
    names: List[str] = []
    level = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                level = max(level, node.level)
            elif node.module and node.module != "__future__":
                names.append(node.module.split(".")[0])
    return list(dict.fromkeys(names)), level


def _fits(path: Path, folder: Path, level: int) -> bool:
    """Whether `path` imported from `folder` has a name, and a package deep enough for its
    relative imports."""
    name = _dotted(path, folder)
    return name is not None and name.count(".") >= level


def _holds(folder: Path, name: str) -> bool:
    return _is_dir(folder / name) or _is_file(folder / f"{name}.py")


# --- Source roots ---------------------------------------------------------------------------


def _source_roots(root: Path, boot: _Boot) -> Tuple[Path, ...]:
    """The import roots, a src-layout's `src/`, the folder the target module is found in, and
    the root itself: project folders only, never skipped ones."""
    roots = list(boot.import_roots)
    src = root / "src"
    if _is_src_layout(src, boot.target):
        roots.append(src)
    if boot.target is not None:
        roots.extend(_target_folders(root, boot, boot.target.module)[:1])
    roots.append(root)
    return tuple(folder for folder in dict.fromkeys(roots)
                 if _is_dir(folder) and _inside(folder, root))


def _is_src_layout(src: Path, target: Optional[Target]) -> bool:
    """`src/` holding packages imported by their own names (`src/shop/__init__.py`, no
    `src/__init__.py`, no loose modules, and no target named `src.*`)."""
    if not _is_dir(src) or _exists(src / "__init__.py"):
        return False
    if target is not None and target.module.split(".")[0] == "src":
        return False
    children = [Path(entry.path) for entry in _entries(src)]
    if any(child.suffix == ".py" for child in children):
        return False
    return any(_is_file(child / "__init__.py") for child in children
               if _is_dir(child) and not is_skipped_dir(child))


def _target_folders(root: Path, boot: _Boot, module: str) -> List[Path]:
    """Folders from which `module` is a file: the import roots, the root, `src/`, and the
    root's folders (and their `src/`), in that order."""
    children = [Path(entry.path) for entry in _entries(root) if _entry_is_dir(entry)
                and not is_skipped_dir(Path(entry.path))]
    candidates = [*boot.import_roots, root, root / "src",
                  *[folder for child in children for folder in (child, child / "src")]]
    relative = Path(*module.split("."))
    return [folder for folder in candidates if _is_file(folder / relative.with_suffix(".py"))
            or _is_file(folder / relative / "__init__.py")]


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _inside(folder: Path, root: Path) -> bool:
    """Inside the root and in no skipped folder."""
    if not _within(folder, root):
        return False
    return not any(is_skipped_dir(parent) for parent in [folder, *folder.parents]
                   if root in parent.parents)
