"""The project model: every module of the backend read and parsed once, named as Python names
it at boot, summarised, and resolvable. Built once per process and project, shared by every
rule; static analysis never imports or runs project code."""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from ..environment import Environment
from .files import python_files
from .gc_pause import paused_gc
from .layout import Layout
from .resolve import ModuleResolver, Resolved
from .sources import Source, parse_text, read_source
from .summary import ImportRecord, ModuleSummary, summarize

if TYPE_CHECKING:
    from ..context import ModuleContext, ProjectContext


@dataclass
class ModuleInfo:
    name: str  # dotted name (relative to the first source root holding the file)
    path: Path
    source: Source
    importable: bool  # under an import root: `import name` works at boot

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def package(self) -> str:
        """What relative imports in this module are relative to."""
        return self.name if self.is_package else self.name.rpartition(".")[0]

    @property
    def tree(self) -> Optional[ast.Module]:
        return self.source.tree

    @cached_property
    def summary(self) -> Optional[ModuleSummary]:
        return summarize(self.source.tree) if self.source.tree is not None else None

    def absolute(self, record: ImportRecord) -> Optional[str]:
        return record.absolute(self.package)


class ProjectModel:
    def __init__(self, layout: Layout, environment: Environment,
                 overrides: Optional[Dict[Path, Tuple[str, ast.Module]]] = None,
                 project: Optional["ProjectContext"] = None) -> None:
        self.layout = layout
        self.environment = environment
        self.project = project
        self._contexts: Dict[Path, "ModuleContext"] = {}
        self._at: Dict[Path, Optional[ModuleInfo]] = {}  # path as asked -> module (resolved once)
        files, unreadable = python_files(layout.root)
        self.problems: List[Tuple[Path, str]] = list(unreadable)
        self.modules: Dict[str, ModuleInfo] = {}
        self.by_path: Dict[Path, ModuleInfo] = {}
        # Parsing a whole project creates millions of objects that all stay alive: the cyclic
        # collector would rescan them again and again (it doubled the build time).
        with paused_gc(freeze=True):
            self._read(files, overrides or {})
        self.resolver = ModuleResolver(layout.import_roots, environment)

    def _read(self, files: List[Path], overrides: Dict[Path, Tuple[str, ast.Module]]) -> None:
        layout = self.layout
        for path in files:
            name = layout.module_name(path)
            if name is None:
                continue
            resolved = Path(os.path.realpath(path))
            text_tree = overrides.get(resolved)
            source = (Source(path, text_tree[0], text_tree[1]) if text_tree
                      else read_source(path))
            if source.problem:
                self.problems.append((path, source.problem))
            info = ModuleInfo(name, path, source, layout.importable_at_boot(path))
            self.by_path[resolved] = info
            current = self.modules.get(name)
            if current is None or (info.importable and not current.importable):
                self.modules[name] = info

    def context(self, info: ModuleInfo) -> "ModuleContext":
        """The per-file analysis context of a parsed module, shared by every rule (and by the
        flake8 door when it lints this file as it is on disk)."""
        if info.path not in self._contexts:
            from ..context import ModuleContext, ProjectContext

            project = self.project or ProjectContext(self.layout.root)
            assert info.tree is not None
            self._contexts[info.path] = ModuleContext(str(info.path), info.source.lines,
                                                      info.tree, project, info.name)
        return self._contexts[info.path]

    def owns(self, context: "ModuleContext") -> bool:
        """Whether `context` is one of this model's own (the file as it is on disk)."""
        return self._contexts.get(Path(context.path)) is context

    def module_at(self, path: Path) -> Optional[ModuleInfo]:
        """The module read from `path` (any spelling of it); each spelling is resolved once."""
        if path not in self._at:
            self._at[path] = self.by_path.get(path.resolve())
        return self._at[path]

    def resolve(self, name: str, is_from: bool = False) -> Resolved:
        return self.resolver.resolve(name, is_from)

    def project_module(self, name: str) -> Optional[ModuleInfo]:
        """The project module imported as `name` at boot, if it is one of the project's files."""
        found = self.resolve(name)
        return None if found.path is None else self.module_at(found.path)

    def __iter__(self) -> Iterator[ModuleInfo]:
        return iter(self.by_path.values())

    def with_buffer(self, path: Path, text: str) -> "ProjectModel":
        """The same project with one file's unsaved text (an editor's buffer) in place."""
        source = parse_text(path, text)
        if source.tree is None:
            return self
        return ProjectModel(self.layout, self.environment, {path.resolve(): (text, source.tree)},
                            self.project)
