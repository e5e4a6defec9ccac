"""Where an import would be found at boot, in Python's order: built-in modules, then the
project's import roots (sys.path[0] is the app dir, so a local module shadows a package),
then the standard library and installed packages of the project's interpreter.

Project files are found with importlab's resolver over the import roots, with no source
lookup, so nothing is ever imported; folders without `__init__.py` are namespace packages."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

from importlab import fs, parsepy, resolve

from ..environment import Environment

PROJECT = "project"
BUILTIN = "builtin"
STDLIB = "stdlib"
INSTALLED = "installed"
MISSING = "missing"
UNKNOWN = "unknown"  # the project's interpreter could not be asked


@dataclass(frozen=True)
class Resolved:
    kind: str
    module: str  # the module found (for `from a.b import c`: `a.b.c` if it is a module, else `a.b`)
    path: Optional[Path] = None  # the project file (None for a namespace package or elsewhere)


class _RootFileSystem(fs.OSFileSystem):
    """importlab's OS file system, without the temporary file its constructor leaves behind."""

    def __init__(self, root: str) -> None:  # noqa: D107 - deliberately not calling super()
        self.root = root
        upper = root.upper()
        self._is_case_insensitive = upper != root and os.path.exists(upper)


class ModuleResolver:
    def __init__(self, import_roots: Sequence[Path], environment: Environment) -> None:
        self.import_roots = tuple(import_roots)
        self.environment = environment
        self._filesystems = [_RootFileSystem(str(root)) for root in self.import_roots]
        self._cache: Dict[Tuple[str, bool], Resolved] = {}

    def resolve(self, name: str, is_from: bool = False) -> Resolved:
        """Resolve an absolute module name; with `is_from`, the last part may be an attribute."""
        key = (name, is_from)
        if key not in self._cache:
            self._cache[key] = self._resolve(name, is_from)
        return self._cache[key]

    def _resolve(self, name: str, is_from: bool) -> Resolved:
        top = name.split(".")[0]
        if top in self.environment.builtin:
            return Resolved(BUILTIN, name)
        found = self._in_project(name, is_from)
        if found is not None:
            return found
        importable = self.environment.importable(top)
        if importable is None:
            return Resolved(UNKNOWN, name)
        if top in self.environment.stdlib:
            return Resolved(STDLIB, name)
        return Resolved(INSTALLED if importable else MISSING, name)

    def _in_project(self, name: str, is_from: bool) -> Optional[Resolved]:
        if not self._filesystems:
            return None
        anchor = resolve.Direct(str(self.import_roots[0] / "__stability_anchor__.py"), "")
        resolver = resolve.Resolver(self._filesystems, anchor)
        statement = parsepy.ImportStatement(name, is_from=is_from)
        try:
            found = resolver.resolve_import(statement)
        except resolve.ImportException:
            found = None
        if found is not None and not isinstance(found, resolve.Builtin):
            return Resolved(PROJECT, found.module_name, Path(found.path))
        return self._namespace_package(name, is_from)

    def _namespace_package(self, name: str, is_from: bool) -> Optional[Resolved]:
        """A folder (without `__init__.py`) on an import root is a namespace package."""
        candidates = [name] + ([name.rpartition(".")[0]] if is_from and "." in name else [])
        for candidate in candidates:
            if not candidate:
                continue
            relative = Path(*candidate.split("."))
            for root in self.import_roots:
                if (root / relative).is_dir():
                    return Resolved(PROJECT, candidate)
        return None
