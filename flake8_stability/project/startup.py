"""Functions of one module that run while the app boots because another module calls them: the
lifespan in `app/main.py` calling `init_db()` of `app/db.py` makes `init_db` run at startup.

Only calls from the modules the ASGI target loads at boot are followed (a script calling
`init_db()` at module level does not make it run at boot); with no target, nothing is."""
from __future__ import annotations

from collections import deque
from functools import lru_cache
from pathlib import Path
from typing import Deque, Dict, Optional, Tuple

from ..analysis.lifecycle import IMPORT, STARTUP, Lifecycle, Reach
from .model import ProjectModel
from .reach import loaded_at_boot

Seeds = Tuple[Tuple[str, Reach], ...]  # (top-level function name, how other modules reach it)
_RANK = {IMPORT: 0, STARTUP: 1}
_MAX_HOPS = 20  # re-exports followed from one name to the module defining the function


@lru_cache(maxsize=8)
def boot_seeds(model: ProjectModel) -> Dict[Path, Seeds]:
    """Module path -> its functions that other boot-time modules call at import or startup."""
    loaded = loaded_at_boot(model)
    if not loaded:
        return {}
    seeds: Dict[str, Dict[str, Reach]] = {}
    pending: Deque[str] = deque(sorted(loaded))
    while pending:
        name = pending.popleft()
        info = model.modules.get(name)
        if info is None or info.tree is None:
            continue
        context = model.context(info)
        lifecycle = Lifecycle(context, tuple(seeds.get(name, {}).items()))
        for dotted, reach in lifecycle.external_calls:
            target = _defining_module(model, dotted)
            if target is None:
                continue
            module, function = target
            known = seeds.setdefault(module, {}).get(function)
            if known is not None and _RANK[known.phase] <= _RANK[reach.phase]:
                continue
            seeds[module][function] = _across(model, info.path, reach)
            pending.append(module)
    return {model.modules[name].path: tuple(found.items()) for name, found in seeds.items()}


def _defining_module(model: ProjectModel, dotted: str) -> Optional[Tuple[str, str]]:
    """(module, function name) of the project function `dotted` names, through re-exports
    (`from app.db import init_db` where `app/db/__init__.py` imports it from `.setup`)."""
    for _ in range(_MAX_HOPS):
        module, _, name = dotted.rpartition(".")
        info = model.project_module(module) if module else None
        if info is None or info.tree is None:
            return None
        context = model.context(info)
        bindings = context.scopes.bindings[context.tree].get(name, [])
        if len(bindings) != 1:
            return None
        if bindings[0].kind == "def":
            return info.name, name
        if bindings[0].kind != "import":
            return None
        following = context.imports.bound(bindings[0].node, name)
        if following is None:
            return None
        dotted = following
    return None


def _across(model: ProjectModel, caller: Path, reach: Reach) -> Reach:
    """`reach` as seen from the called module: where the chain begins is named by file."""
    try:
        where = caller.relative_to(model.layout.root).as_posix()
    except ValueError:
        where = caller.as_posix()
    entry = f"{reach.entry} in {where}" if reach.entry else f"the module body of {where}"
    return Reach(reach.phase, reach.start, entry, reach.calls)
