"""What every rule of a run shares: the project (root, settings, installed versions) and,
per file, one parsed tree with its scopes, imports and value resolvers, computed lazily once."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

from packaging.version import Version

from .analysis.imports import ImportMap
from .analysis.scopes import Scopes
from .config import Config
from .environment import Environment, Listings, load_environment
from .findings import Finding
from .knowledge.names import canonical

if TYPE_CHECKING:
    from .dependencies.declared import DeclaredDependencies
    from .project.env_sources import EnvSources
    from .project.layout import Layout
    from .project.model import ProjectModel
    from .project.sources import Source
    from .rules.base import ProjectRule
    from .analysis.engines import EngineCall
    from .analysis.lifecycle import Lifecycle
    from .analysis.models import ModelIndex
    from .analysis.objects import ObjectResolver
    from .analysis.values import ValueResolver


@dataclass
class ProjectContext:
    """The project a file belongs to: its root, configuration and interpreter."""

    root: Path
    config: Config = field(default_factory=Config)
    # Where the interpreter's listing is kept between runs (set by the on-disk cache).
    listings: Optional[Listings] = field(default=None, repr=False)
    _findings: Dict[Tuple[str, int], List[Finding]] = field(default_factory=dict, repr=False)
    _buffers: Dict[Tuple[str, str], "ProjectModel"] = field(default_factory=dict, repr=False)
    _failed: Set[str] = field(default_factory=set, repr=False)
    _by_file: Dict[int, Dict[Path, List[Finding]]] = field(default_factory=dict, repr=False)

    @cached_property
    def environment(self) -> Environment:
        return load_environment(self.config.interpreter(self.root), self.listings)

    def version(self, distribution: str) -> Optional[Version]:
        return self.environment.version(distribution)

    @cached_property
    def layout(self) -> "Layout":
        from .project.layout import discover_layout

        return discover_layout(self.root, self.config)

    @cached_property
    def env_files(self) -> Tuple[Path, ...]:
        """`.env*` files at the root and in the boot working directory that may be loaded (not
        templates such as `.env.example`), and those the boot command names."""
        from .project.env_sources import env_file_candidates, is_template

        layout = self.layout
        found = env_file_candidates((self.root, layout.working_dir), layout.env_files)
        return tuple(path for path in found if not is_template(path) or path in layout.env_files)

    @cached_property
    def env_sources(self) -> "EnvSources":
        """Every source of the app's environment at boot (`.env` files and their loaders,
        compose, Dockerfiles, CI, assignments in code), read on first use."""
        from .project.env_sources import EnvSources

        return EnvSources(self)

    @cached_property
    def declared(self) -> "DeclaredDependencies":
        """The dependencies the project declares (requirement files are also looked for in
        the boot working dir and the source roots)."""
        from .dependencies.declared import declared_in

        return declared_in(self.layout)

    @cached_property
    def model(self) -> "ProjectModel":
        """Every module of the project, read once per process (built on first use)."""
        from .project.model import ProjectModel

        return ProjectModel(self.layout, self.environment, project=self)

    def source_of(self, path: Path) -> "Source":
        """A file's text and tree: the model's when the file is one of the project's modules
        (each file is read and parsed once per process), else read now. A model that cannot
        be built is reported by `context_for`; the file is then read on its own."""
        from .project.sources import read_source

        try:
            info = self.model.module_at(path)
        except Exception:  # noqa: BLE001 - context_for raises it again, where it is reported
            info = None
        return info.source if info is not None else read_source(path)

    def context_for(self, path: str, lines: Sequence[str], tree: ast.Module) -> "ModuleContext":
        """The analysis context of a linted file: the model's own when the text is the file's
        on disk (analyses then run once for per-file and project rules alike), else a new one
        (an editor's unsaved buffer)."""
        info = self.model.module_at(Path(path))
        if info is not None and info.tree is not None and info.source.text == "".join(lines):
            return self.model.context(info)
        return ModuleContext(path, lines, tree, self, info.name if info else None)

    def model_for(self, module: "ModuleContext") -> "ProjectModel":
        """The model, with the linted file's text in place when it differs from the disk
        (an editor's unsaved buffer, linted through stdin)."""
        if self.model.owns(module):
            return self.model
        info = self.model.module_at(Path(module.path))
        if info is None or info.source.text == module.text:
            return self.model
        key = (module.path, module.text)
        if key not in self._buffers:
            self._buffers.clear()
            self._buffers[key] = self.model.with_buffer(Path(module.path), module.text)
        return self._buffers[key]

    def project_findings(self, rule: "ProjectRule", module: "ModuleContext") -> List[Finding]:
        """The findings of a project-wide rule, computed once per model. A rule that failed
        raises once (the door reports it) and then has no findings in this process."""
        if rule.code in self._failed:
            return []
        try:
            model = self.model_for(module)
            key = (rule.code, id(model))
            if key not in self._findings:
                self._findings[key] = list(rule.check_project(model))
        except Exception:
            self._failed.add(rule.code)
            raise
        return self._findings[key]

    def findings_in(self, rule: "ProjectRule", module: "ModuleContext") -> List[Finding]:
        """The findings of a project-wide rule that belong to `module`'s file: the rule's
        findings are grouped by file once, not scanned again for every file linted."""
        found = self.project_findings(rule, module)
        if not found:
            return []
        if id(found) not in self._by_file:  # `found` lives in self._findings: its id is stable
            by_file: Dict[Path, List[Finding]] = {}
            for finding in found:
                by_file.setdefault(Path(finding.path).resolve(), []).append(finding)
            self._by_file[id(found)] = by_file
        return self._by_file[id(found)].get(module.resolved_path, [])

    def why_unknown(self, distribution: str) -> str:
        """Why `distribution`'s version is unknown, as a clause for root causes."""
        if self.environment.error:
            return f"the installed {distribution} could not be read ({self.environment.error})"
        return f"{distribution} is not installed in the project's interpreter"

    @property
    def sqlalchemy_version(self) -> Optional[Version]:
        return self.version("sqlalchemy")

    @property
    def pydantic_version(self) -> Optional[Version]:
        return self.version("pydantic")


class ModuleContext:
    """One Python file, parsed once; analyses are built on first use and shared by all rules."""

    def __init__(self, path: str, lines: Sequence[str], tree: ast.Module,
                 project: ProjectContext, module_name: Optional[str] = None) -> None:
        self.path = path
        self.lines = list(lines)
        self.tree = tree
        self.project = project
        self.module_name = module_name
        self._qualnames: Dict[ast.AST, Optional[str]] = {}  # every rule asks for the same calls

    @cached_property
    def text(self) -> str:
        return "".join(self.lines)

    @cached_property
    def resolved_path(self) -> Path:
        return Path(self.path).resolve()

    def is_file(self, path: str) -> bool:
        """Whether `path` names this file (findings of project rules carry absolute paths)."""
        return path == self.path or Path(path).resolve() == self.resolved_path

    def segment(self, node: ast.AST) -> Optional[str]:
        """The source text of `node`, as `ast.get_source_segment` gives it, without splitting
        the whole file again on every call."""
        first, last = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if None in (first, last, start, end) or not 0 < first <= last <= len(self.lines):
            return None
        rows = [line.encode("utf-8") for line in self.lines[first - 1:last]]
        if len(rows) == 1:
            return rows[0][start:end].decode("utf-8", "replace")
        text = b"".join([rows[0][start:], *rows[1:-1], rows[-1][:end]])
        return text.decode("utf-8", "replace")

    def mentions(self, words: Sequence[str]) -> bool:
        """Whether the file's text contains any of `words` (a pre-filter, not an analysis)."""
        return any(word in self.text for word in words)

    @cached_property
    def scopes(self) -> Scopes:
        return Scopes(self.tree)

    @cached_property
    def imports(self) -> ImportMap:
        """Import bindings; relative imports resolve against the module's package (a package's
        `__init__.py` is its own package)."""
        package = None
        if self.module_name:
            is_init = Path(self.path).name == "__init__.py"
            package = self.module_name if is_init else self.module_name.rpartition(".")[0]
        return ImportMap(self.scopes.imports, package)

    @cached_property
    def values(self) -> "ValueResolver":
        from .analysis.values import ValueResolver

        return ValueResolver(self)

    @cached_property
    def objects(self) -> "ObjectResolver":
        from .analysis.objects import ObjectResolver

        return ObjectResolver(self)

    @property
    def calls(self) -> List[ast.Call]:
        """Every call of the file, in source order."""
        return self.scopes.calls

    @cached_property
    def engine_calls(self) -> "List[EngineCall]":
        from .analysis.engines import find_engine_calls

        return find_engine_calls(self)

    @cached_property
    def models(self) -> "ModelIndex":
        from .analysis.models import ModelIndex

        return ModelIndex(self)

    @cached_property
    def lifecycle(self) -> "Lifecycle":
        """When this module's code runs, counting calls from the project's other modules that
        run at boot (for a file of the project)."""
        from .analysis.lifecycle import Lifecycle

        if self.module_name is None:
            return Lifecycle(self)
        from .project.startup import boot_seeds

        model = self.project.model
        info = model.module_at(Path(self.path))
        return Lifecycle(self, boot_seeds(model).get(info.path, ()) if info else ())

    def qualname(self, expr: ast.AST) -> Optional[str]:
        """The canonical dotted name `expr` stands for where it is used, through the import
        bindings in scope (`sa.ext.asyncio.create_async_engine` -> `sqlalchemy.ext.asyncio.
        create_async_engine`); None for local names, parameters and shadowed imports."""
        if expr in self._qualnames:
            return self._qualnames[expr]
        name = self._qualnames[expr] = self._qualname(expr)
        return name

    def _qualname(self, expr: ast.AST) -> Optional[str]:
        parts = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name) or expr.id not in self.imports.local_names:
            return None
        bindings = self.scopes.lookup(expr.id, expr)
        if not bindings or any(b.kind != "import" for b in bindings):
            return None
        dotted = {self.imports.bound(b.node, expr.id) for b in bindings}
        if len(dotted) != 1:
            return None
        base = dotted.pop()
        return canonical(".".join([base] + parts[::-1])) if base else None

    def call_name(self, call: ast.Call) -> Optional[str]:
        return self.qualname(call.func)


def keyword(call: ast.Call, name: str) -> Optional[ast.keyword]:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def argument(call: ast.Call, position: int, name: str) -> Optional[ast.expr]:
    """The expression passed as parameter `name`, by keyword or at `position`."""
    kw = keyword(call, name)
    if kw is not None:
        return kw.value
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    if len(positional) == len(call.args) and position < len(positional):
        return positional[position]
    return None
