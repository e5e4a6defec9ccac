"""Which imports of a module load the project's own code: relative imports, and absolute
imports whose top-level name is a module or package of the project (under its root, `src/`,
or a folder between the file and the root, where scripts and `uvicorn` find them). Dynamic
imports (`importlib.import_module`, `__import__`) count unless their target is known and
is not the project's."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, List, Tuple

if TYPE_CHECKING:
    from ..context import ModuleContext

_DYNAMIC = frozenset({"importlib.import_module", "builtins.__import__", "__import__"})


def project_imports(module: "ModuleContext") -> List[ast.AST]:
    """Import statements and dynamic-import calls of `module` that may load project code."""
    folders = _search_folders(module)
    found: List[ast.AST] = []
    for node in [*module.scopes.imports, *module.calls]:
        if isinstance(node, ast.ImportFrom):
            if node.level or _is_project_name(node.module or "", folders):
                found.append(node)
        elif isinstance(node, ast.Import):
            if any(_is_project_name(alias.name, folders) for alias in node.names):
                found.append(node)
        elif isinstance(node, ast.Call) and _is_dynamic(module, node):
            target = module.values.string(node.args[0]) if node.args else None
            if target is None or not target.complete or _is_project_name(target.text, folders):
                found.append(node)
    return found


def _is_dynamic(module: "ModuleContext", call: ast.Call) -> bool:
    if isinstance(call.func, ast.Name) and call.func.id == "__import__":
        return True
    return module.call_name(call) in _DYNAMIC


def _search_folders(module: "ModuleContext") -> Tuple[Path, ...]:
    root = module.project.root
    folders = [root, root / "src"]
    try:
        here = Path(module.path).resolve().parent
    except (OSError, RuntimeError):
        return tuple(folders)
    if here == root or root in here.parents:
        while here != root:
            folders.append(here)
            here = here.parent
    return tuple(folders)


def _is_project_name(dotted: str, folders: Tuple[Path, ...]) -> bool:
    top = dotted.lstrip(".").split(".")[0]
    return bool(top) and any(_holds_module(folder, top) for folder in folders)


def _holds_module(folder: Path, name: str) -> bool:
    return (folder / name).is_dir() or (folder / f"{name}.py").is_file()
