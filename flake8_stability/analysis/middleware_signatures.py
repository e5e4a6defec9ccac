"""The keyword arguments a middleware class accepts: read from the source for the project's own
classes, asked from the project's interpreter for installed ones (a stdlib-only probe that
imports only the class's installed module, cached per interpreter and class), else taken from a
table of Starlette 1.x's middlewares when the interpreter cannot be asked."""
from __future__ import annotations

import ast
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from ..probes import signatures as probe
from ..project.resolve import INSTALLED, UNKNOWN
from .definitions import definition
from .middleware import MiddlewareUse

if TYPE_CHECKING:
    from ..context import ModuleContext

BASE_HTTP = "starlette.middleware.base.BaseHTTPMiddleware"
_MAX_DEPTH = 8

# Starlette 1.10's constructors, after `app` (starlette/middleware/*.py).
TABLE: Dict[str, Tuple[str, ...]] = {
    "starlette.middleware.cors.CORSMiddleware": (
        "allow_origins", "allow_methods", "allow_headers", "allow_credentials",
        "allow_origin_regex", "allow_private_network", "expose_headers", "max_age"),
    "starlette.middleware.gzip.GZipMiddleware": (
        "minimum_size", "compresslevel", "thread_minimum_size", "exclude_content_types"),
    "starlette.middleware.trustedhost.TrustedHostMiddleware": ("allowed_hosts", "www_redirect"),
    "starlette.middleware.httpsredirect.HTTPSRedirectMiddleware": (),
    "starlette.middleware.sessions.SessionMiddleware": (
        "secret_key", "session_cookie", "max_age", "path", "same_site", "https_only", "domain",
        "partitioned"),
}

_probed: Dict[Tuple[str, str], Optional[dict]] = {}


@dataclass(frozen=True)
class Accepted:
    """What a middleware's constructor takes after the app. `exact` is False for the table's
    Starlette 1.x signature, used when the installed version could not be read."""

    names: Tuple[str, ...]
    open: bool  # it takes **kwargs: any name is accepted
    init: str  # `CORSMiddleware.__init__`, as Python's TypeError names it
    source: str  # where the signature was read, for root causes
    exact: bool = True


def accepted_keywords(module: "ModuleContext",
                      uses: Sequence[MiddlewareUse]) -> List[Optional[Accepted]]:
    """The accepted keywords of each use's class (None where it cannot be told), asking the
    project's interpreter once for all the installed classes not asked before."""
    installed = [_installed_name(module, use) for use in uses]
    interpreter = _interpreter(module)
    if interpreter is not None:
        _probe(interpreter, [name for name in installed if name is not None])
    found = []
    for use, name in zip(uses, installed):
        if name is None:
            found.append(_from_project(module, use))
        elif interpreter is None:
            found.append(_from_table(module, use))
        else:
            found.append(_from_probe(module, name, _probed.get((interpreter, name))))
    return found


# -- installed classes ---------------------------------------------------------------------
def _installed_name(module: "ModuleContext", use: MiddlewareUse) -> Optional[str]:
    """The dotted name to ask the interpreter about, for a class of an installed package."""
    if use.qualname is None or "." not in use.qualname:
        return None
    kind = module.project.model.resolve(use.qualname.split(".", 1)[0]).kind
    return use.qualname if kind in (INSTALLED, UNKNOWN) else None


def _interpreter(module: "ModuleContext") -> Optional[str]:
    env = module.project.environment
    return None if env.error or not env.executable else env.executable


def _probe(interpreter: str, names: Sequence[str]) -> None:
    missing = sorted({name for name in names if (interpreter, name) not in _probed})
    if not missing:
        return
    data: Dict[str, dict] = {}
    try:
        done = subprocess.run([interpreter, "-I", probe.__file__, json.dumps(missing)],
                              capture_output=True, text=True, timeout=60, check=False,
                              cwd=tempfile.gettempdir())
        if done.returncode == 0:
            data = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        data = {}
    for name in missing:
        _probed[(interpreter, name)] = data.get(name)


def _from_probe(module: "ModuleContext", name: str, data: Optional[dict]) -> Optional[Accepted]:
    if not data or "accepts" not in data:
        return None
    env = module.project.environment
    top = (str(data.get("module") or "") or name).split(".", 1)[0]
    dist = next(iter(env.providers(top)), top)
    return Accepted(tuple(data["accepts"]), bool(data["var_keyword"]), str(data["init"]),
                    f"the signature in the installed {env.describe(dist)}")


def _from_table(module: "ModuleContext", use: MiddlewareUse) -> Optional[Accepted]:
    path = use.starlette_class
    if path is None:
        return None
    init = f"{path.rsplit('.', 1)[1]}.__init__"
    return Accepted(TABLE[path], False, init,
                    f"Starlette 1.x's signature, assumed because "
                    f"{module.project.why_unknown('starlette')}", exact=False)


# -- the project's own classes -------------------------------------------------------------
def _from_project(module: "ModuleContext", use: MiddlewareUse) -> Optional[Accepted]:
    found = _project_class(module, use.cls)
    return _from_class(found[0], found[1], 0) if found else None


def _project_class(module: "ModuleContext",
                   expr: ast.expr) -> Optional[Tuple["ModuleContext", ast.ClassDef]]:
    """The class definition `expr` names: in this module, or imported from a project module."""
    return definition(module, expr, "class")  # type: ignore[return-value]


def _from_class(module: "ModuleContext", cls: ast.ClassDef, depth: int) -> Optional[Accepted]:
    init = [node for node in cls.body
            if isinstance(node, ast.FunctionDef) and node.name == "__init__"]
    if init:
        return _from_init(module, cls, init[-1])
    if len(cls.bases) != 1 or depth > _MAX_DEPTH:
        return None
    base = cls.bases[0]
    if module.qualname(base) == BASE_HTTP:
        return Accepted(("dispatch",), False, "BaseHTTPMiddleware.__init__",
                        f"the constructor {cls.name} inherits from BaseHTTPMiddleware "
                        f"(app, dispatch=None)")
    parent = _project_class(module, base)
    return _from_class(parent[0], parent[1], depth + 1) if parent else None


def _from_init(module: "ModuleContext", cls: ast.ClassDef,
               init: ast.FunctionDef) -> Optional[Accepted]:
    args = init.args
    positional = [*args.posonlyargs, *args.args]
    if len(positional) < 2:
        return None if args.vararg is None else Accepted((), True, "", "")
    named = [a.arg for a in args.args[max(0, 2 - len(args.posonlyargs)):]]
    names = tuple(named + [a.arg for a in args.kwonlyargs])
    where = f"{_relative(module)}:{init.lineno}"
    return Accepted(names, args.kwarg is not None, f"{cls.name}.__init__",
                    f"{cls.name}.__init__ ({where})")


def _relative(module: "ModuleContext") -> str:
    try:
        return Path(module.path).resolve().relative_to(module.project.root.resolve()).as_posix()
    except ValueError:
        return module.path
