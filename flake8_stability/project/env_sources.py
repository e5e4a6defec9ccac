"""Every place a variable of the app's environment can come from at boot, with file and line:
`.env*` files (read with python-dotenv's own parser) and what loads each of them
(`load_dotenv()`, uvicorn's `--env-file`, compose `env_file:`), compose `environment:`,
Dockerfile `ENV`, GitHub Actions `env:` blocks, and `os.environ[...] = ...` in the project's
code. Values of `.env` files are secrets: they are kept for the checks that parse them and
never shown (`EnvEntry.where()` names the key and the place only).

Limits: the CI files are read with the layout's small block-YAML reader (`env:` mappings at
any depth of `.github/workflows/*.yml`, no anchors or expressions evaluated); the order in
which `load_dotenv()` and a read of the variable run is not compared (a file loaded anywhere
counts as loaded)."""
from __future__ import annotations

import ast
import io
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, List, Optional, Tuple

from .layout import (_boot_files, _env, _env_file_entries, _instructions, _Node, _read_text,
                     _Stage, _Yaml)

if TYPE_CHECKING:
    from ..context import ModuleContext, ProjectContext
    from .model import ProjectModel

DOTENV = ".env file"
COMPOSE = "compose environment"
DOCKERFILE = "Dockerfile ENV"
CI = "CI workflow env"
CODE = "assignment in code"

_MAX_BYTES = 1_000_000
_TEMPLATE_WORDS = ("example", "sample", "template", "dist", "tmpl")
_LOADERS = frozenset({"dotenv.load_dotenv", "dotenv.main.load_dotenv"})
_FINDERS = frozenset({"dotenv.find_dotenv", "dotenv.main.find_dotenv"})


@dataclass(frozen=True)
class EnvEntry:
    """One variable set somewhere: `value` is None when it is not a literal (or passed through
    from the host); a `.env` value is a secret, never shown."""

    key: str
    path: Path
    line: int
    kind: str
    value: Optional[str] = None

    def where(self, root: Path) -> str:
        return f"{_relative(self.path, root)}:{self.line}"


@dataclass(frozen=True)
class EnvFile:
    """A `.env*` file parsed as python-dotenv parses it (bindings without a key are skipped);
    `problem` says why python-dotenv itself would fail to read it."""

    path: Path
    entries: Tuple[EnvEntry, ...]
    problem: Optional[str] = None

    @property
    def template(self) -> bool:
        return is_template(self.path)

    def get(self, key: str, case_sensitive: bool = False,
            delimiter: Optional[str] = None) -> Optional[EnvEntry]:
        """The last binding of `key` (python-dotenv keeps the last one), or of a nested
        `key<delimiter>...` one."""
        found = None
        for entry in self.entries:
            if matches(entry.key, key, case_sensitive, delimiter):
                found = entry
        return found


@dataclass(frozen=True)
class Loader:
    """Something that loads a `.env` file into the process environment at boot."""

    path: Path  # the file it loads
    how: str  # e.g. "load_dotenv() in app/main.py:3"


def matches(written: str, key: str, case_sensitive: bool = False,
            delimiter: Optional[str] = None) -> bool:
    """Whether the variable `written` sets `key` (or a part of it, with a nested delimiter)."""
    if not case_sensitive:
        written, key = written.lower(), key.lower()
    return written == key or bool(delimiter) and written.startswith(f"{key}{delimiter}")


def is_template(path: Path) -> bool:
    """`.env.example` and its kind: a list of what to set, not meant to be loaded."""
    return any(word in path.name.lower() for word in _TEMPLATE_WORDS)


def read_env_file(path: Path) -> Optional[EnvFile]:
    """The parsed file, or None when it is missing or unreadable."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    if not path.is_file():
        return None
    return _parsed(path, stat.st_size, stat.st_mtime)


@lru_cache(maxsize=128)
def _parsed(path: Path, size: int, mtime: float) -> Optional[EnvFile]:
    del mtime  # part of the cache key only
    if size > _MAX_BYTES:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    from dotenv.parser import parse_stream

    text = data.decode("utf-8", "replace")
    entries = tuple(EnvEntry(binding.key, path, binding.original.line, DOTENV, binding.value)
                    for binding in parse_stream(io.StringIO(text))
                    if binding.key and not binding.error)
    return EnvFile(path, entries, _not_text(data))


def _not_text(data: bytes) -> Optional[str]:
    """Why python-dotenv and pydantic-settings (which read `.env` files as UTF-8) cannot read
    `data`, if they cannot."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}): loading it at "
                f"boot raises UnicodeDecodeError; its keys were read with replacement characters")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return f"holds a NUL byte (line {line}): binary content, its keys may be misread"
    return None


def env_file_candidates(folders: Iterable[Path], listed: Iterable[Path] = ()) -> Tuple[Path, ...]:
    """`.env*` files directly in `folders`, and files a boot command names, each once."""
    found: List[Path] = []
    for folder in folders:
        try:
            found.extend(sorted(p for p in folder.glob(".env*") if p.is_file()))
        except OSError:
            continue
    found.extend(path for path in listed if path.is_file())
    return tuple(dict.fromkeys(found))


def setting_file(files: Tuple[Path, ...], variable: str) -> Optional[Path]:
    """The first file of `files` that sets `variable` (case-insensitively, as pydantic-settings
    reads it), if any."""
    for path in files:
        parsed = read_env_file(path)
        if parsed is not None and parsed.get(variable) is not None:
            return path
    return None


class EnvSources:
    """The project's environment sources, computed on first use."""

    def __init__(self, project: "ProjectContext") -> None:
        self.project = project
        self.root = project.root

    # -- queries -------------------------------------------------------------------------------
    @cached_property
    def files(self) -> Tuple[EnvFile, ...]:
        """Every `.env*` file found: the root, the boot working dir, the import roots, and the
        files loaders name."""
        layout = self.project.layout
        folders = (self.root, layout.working_dir, *layout.import_roots)
        paths = env_file_candidates(folders, [loader.path for loader in self.loaders])
        return tuple(found for found in map(read_env_file, paths) if found is not None)

    @cached_property
    def loaders(self) -> Tuple[Loader, ...]:
        return tuple(self._find_loaders())

    @cached_property
    def process(self) -> Tuple[EnvEntry, ...]:
        """Variables set in the process environment by compose, Dockerfiles, CI or code."""
        return (*_compose_entries(self.root), *_dockerfile_entries(self.root),
                *_ci_entries(self.root), *_code_entries(self.project.model))

    def loaded(self, path: Path) -> Optional[Loader]:
        """What loads `path` into the environment at boot, if anything."""
        wanted = _resolved(path)
        return next((loader for loader in self.loaders if _resolved(loader.path) == wanted), None)

    def in_environ(self, key: str, case_sensitive: bool = False,
                   delimiter: Optional[str] = None) -> Optional[EnvEntry]:
        """Where `key` (or a nested `key<delimiter>...`) is put into the process environment
        at boot, if anywhere."""
        for entry in self.process:
            if matches(entry.key, key, case_sensitive, delimiter):
                return entry
        for loader in self.loaders:
            parsed = read_env_file(loader.path)
            found = parsed.get(key, case_sensitive, delimiter) if parsed else None
            if found is not None:
                return found
        return None

    def unloaded(self, key: str, case_sensitive: bool = False) -> Optional[EnvEntry]:
        """A `.env*` file nothing loads that sets `key` (a real file before a template)."""
        candidates = sorted(self.files, key=lambda found: found.template)
        for parsed in candidates:
            found = parsed.get(key, case_sensitive)
            if found is not None and self.loaded(parsed.path) is None:
                return found
        return None

    def template_for(self, path: Path) -> Optional[EnvFile]:
        """`.env.example` (or the like) next to a missing `path`."""
        for parsed in self.files:
            if parsed.template and parsed.path.parent == path.parent:
                return parsed
        return None

    # -- loaders -------------------------------------------------------------------------------
    def _find_loaders(self) -> Iterator[Loader]:
        layout = self.project.layout
        for path in layout.env_files:
            yield Loader(path, "the boot command's env file "
                               f"({layout.target.origin if layout.target else 'compose'})")
        for path, compose in _compose_env_files(self.root):
            yield Loader(path, f"env_file: in {_relative(compose, self.root)}")
        for info in self.project.model:
            if info.tree is None or "dotenv" not in (info.source.text or ""):
                continue
            module = self.project.model.context(info)
            for call in module.calls:
                if module.call_name(call) in _LOADERS:
                    found = dotenv_target(module, call, layout.working_dir)
                    if found is not None:
                        where = f"{_relative(Path(module.path), self.root)}:{call.lineno}"
                        yield Loader(found, f"load_dotenv() in {where}")


def dotenv_target(module: "ModuleContext", call: ast.Call, working_dir: Path) -> Optional[Path]:
    """The file a `load_dotenv(...)` call loads: its path argument (relative paths from the
    working dir), or, without one, the nearest `.env` from the calling file's folder upwards
    (python-dotenv's `find_dotenv()`); None when it cannot be told."""
    from ..analysis.paths import file_path

    argument = call.args[0] if call.args else next(
        (kw.value for kw in call.keywords if kw.arg == "dotenv_path"), None)
    if any(kw.arg == "stream" for kw in call.keywords):
        return None
    if argument is None or (isinstance(argument, ast.Call)
                            and module.call_name(argument) in _FINDERS
                            and not argument.args and not argument.keywords):
        return _nearest(Path(module.path).resolve().parent, module.project.root.resolve())
    found = file_path(module, argument)
    if found is None:
        return None
    return found.path if found.anchored else working_dir / found.path


def _nearest(folder: Path, root: Path) -> Optional[Path]:
    for candidate in (folder, *folder.parents):
        if (candidate / ".env").is_file():
            return candidate / ".env"
        if candidate == root:
            break
    return None


# -- compose, Dockerfiles, CI, code ------------------------------------------------------------


def _compose_services(root: Path) -> Iterator[Tuple[Path, _Node]]:
    for _, path in _boot_files(root).get("compose file", []):
        document = _Yaml(_read_text(path) or "").parse()
        services = document.get("services") if document else None
        if services is not None and isinstance(services.value, dict):
            for service in services.value.values():
                yield path, service


def _compose_entries(root: Path) -> Iterator[EnvEntry]:
    for path, service in _compose_services(root):
        yield from _mapping_entries(service.get("environment"), path, COMPOSE)


def _compose_env_files(root: Path) -> Iterator[Tuple[Path, Path]]:
    for path, service in _compose_services(root):
        for entry in _env_file_entries(service):
            yield _resolved(path.parent / entry), path


def _mapping_entries(node: Optional[_Node], path: Path, kind: str) -> Iterator[EnvEntry]:
    """`KEY: value` mappings and `- KEY=value` lists (a bare `- KEY` passes the host's on)."""
    if node is None:
        return
    if isinstance(node.value, dict):
        for key, value in node.value.items():
            yield EnvEntry(key, path, value.line, kind, value.text())
    elif isinstance(node.value, list):
        for item in node.value:
            text = item.text()
            if text:
                key, equals, value = text.partition("=")
                yield EnvEntry(key.strip(), path, item.line, kind, value if equals else None)


def _dockerfile_entries(root: Path) -> Iterator[EnvEntry]:
    for _, path in _boot_files(root).get("Dockerfile", []):
        for instruction in _instructions(_read_text(path) or ""):
            if instruction.keyword == "ENV":
                for key, value in _env(instruction.value, _Stage()).items():
                    yield EnvEntry(key, path, instruction.line, DOCKERFILE, value)


def _ci_entries(root: Path) -> Iterator[EnvEntry]:
    try:
        workflows = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    except OSError:
        return
    for path in workflows:
        document = _Yaml(_read_text(path) or "").parse()
        if document is not None:
            for node in _env_blocks(document):
                yield from _mapping_entries(node, path, CI)


def _env_blocks(node: _Node) -> Iterator[_Node]:
    if isinstance(node.value, dict):
        for key, value in node.value.items():
            if key == "env":
                yield value
            else:
                yield from _env_blocks(value)
    elif isinstance(node.value, list):
        for item in node.value:
            yield from _env_blocks(item)


def _code_entries(model: "ProjectModel") -> Iterator[EnvEntry]:
    """`os.environ["X"] = ...`, `os.environ.setdefault("X", ...)` in the project's modules."""
    for info in model:
        if info.tree is None or "environ" not in (info.source.text or ""):
            continue
        module = model.context(info)
        for key, node in _assigned(module):
            yield EnvEntry(key, info.path, node.lineno, CODE)


def _assigned(module: "ModuleContext") -> Iterator[Tuple[str, ast.AST]]:
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) \
                and module.qualname(node.value) == "os.environ":
            key = _literal_key(node.slice)
            if key:
                yield key, node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("setdefault", "update") \
                and module.qualname(node.func.value) == "os.environ":
            yield from _call_keys(node, node.func.attr)


def _call_keys(call: ast.Call, method: str) -> Iterator[Tuple[str, ast.AST]]:
    if method == "setdefault" and call.args:
        key = _literal_key(call.args[0])
        if key:
            yield key, call
        return
    for kw in call.keywords:
        if kw.arg:
            yield kw.arg, call
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            for key_node in arg.keys:
                key = _literal_key(key_node) if key_node is not None else None
                if key:
                    yield key, call


def _literal_key(node: Optional[ast.AST]) -> Optional[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return path


def _relative(path: Path, root: Path) -> str:
    try:
        return _resolved(path).relative_to(_resolved(root)).as_posix()
    except ValueError:
        return str(path)
