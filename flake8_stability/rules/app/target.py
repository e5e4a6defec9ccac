"""The ASGI target the server imports: SBA401 (its module does not resolve under the boot
import roots) and SBA402 (the module has no such attribute at module level)."""
from __future__ import annotations

import ast
import difflib
from typing import Iterator, List, Optional, Tuple

from ...analysis.values import returned_values
from ...context import ModuleContext
from ...findings import Category, Finding, Location, Severity
from ...project.layout import Target
from ...project.model import ModuleInfo, ProjectModel
from ...project.reach import boot_name
from ...project.resolve import MISSING, PROJECT, UNKNOWN
from ...project.routers import APP_CLASSES, is_test, module_apps
from ..base import Invalid, ProjectRule, Valid

_WHY_MIRRORED = ("flake8 only reports on Python files, so the finding is shown on the app's "
                 "module (or its first line) and names the file and line that declare the "
                 "target.")

_MAIN = '''
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/health")
    def health():
        return {"status": "ok"}
'''


def _declared(target: Target) -> Tuple[Location, ...]:
    if target.path is None:
        return ()
    return (Location(str(target.path), target.line or 1, 0, f"target declared: {target.origin}"),)


def _declaring(model: ProjectModel, target: Target) -> str:
    """`Procfile line 1` (or the origin when there is no file)."""
    if target.path is None:
        return target.origin
    try:
        shown = target.path.relative_to(model.layout.root).as_posix()
    except ValueError:
        shown = str(target.path)
    return f"{shown} line {target.line}" if target.line else shown


def _spelled(target: Target) -> str:
    return f"{target.module}:{target.attribute}" + (" --factory" if target.factory else "")


def _roots(model: ProjectModel) -> str:
    shown = []
    for root in model.layout.import_roots:
        try:
            text = root.relative_to(model.layout.root).as_posix()
        except ValueError:
            text = str(root)
        shown.append("the project root" if text == "." else f"{text}/")
    return ", ".join(shown)


def _missing(model: ProjectModel, module: str) -> Optional[Tuple[str, str]]:
    """(the first part of `module` that does not resolve, its kind: MISSING or UNKNOWN);
    None when the module is found."""
    parts = module.split(".")
    for index in range(1, len(parts) + 1):
        name = ".".join(parts[:index])
        kind = model.resolve(name).kind
        if kind in (MISSING, UNKNOWN):
            return name, kind
        if kind != PROJECT:
            return None  # an installed or stdlib module: not the project's business here
    return None


def _app_modules(model: ProjectModel) -> List[Tuple[ModuleInfo, str, ast.stmt]]:
    """Module-level apps of the project's (non-test) modules."""
    found = []
    for info in sorted(model, key=lambda i: str(i.path)):
        if info.tree is None or is_test(info):
            continue
        for name, statement in module_apps(model, info):
            if statement in info.tree.body:
                found.append((info, name, statement))
    return found


class AsgiModuleNotFound(ProjectRule):
    code = "SBA401"
    name = "asgi-module-not-found"
    severity = Severity.BLOCKING
    category = Category.APP
    versions = "Any uvicorn version."
    summary = "the ASGI target's module does not resolve from the boot working directory"
    references = ("E01",)
    what = ("The module of the ASGI target (read from `[tool.flake8-stability]`, a Dockerfile, "
            "compose file or Procfile command, or `[tool.fastapi] entrypoint`) is not found "
            "under the import roots the server starts with: `uvicorn main:app` run from the "
            "repository root while the app is `app/main.py`, or `src.main:app` in a container "
            "that only copied `app/`. " + _WHY_MIRRORED)
    why = ("uvicorn cannot import the target and exits before serving: `Error loading ASGI "
           "app. Could not import module \"main\".` when the module itself is missing, or "
           "`ModuleNotFoundError: No module named 'src'` when a parent package is missing.")
    how_to_fix = ("Spell the target as the module is named from the working directory "
                  "(`uvicorn app.main:app`), or start the server from the folder that holds the "
                  "module (`--app-dir src`, a `WORKDIR`, `PYTHONPATH`).")
    fix_safety = ("Changing the boot command is safe when the project's own imports are "
                  "written for the same root; check the Dockerfile's WORKDIR and COPY lines.")
    valid = (
        Valid({
            "Procfile": "web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n",
            "app/__init__.py": "",
            "app/main.py": _MAIN,
        }),
        Valid({
            "Dockerfile": '''
                FROM python:3.12-slim
                WORKDIR /code
                COPY ./src /code/src
                CMD ["uvicorn", "main:app", "--app-dir", "src", "--host", "0.0.0.0"]
            ''',
            "src/main.py": _MAIN,
        }, note="--app-dir puts src/ on sys.path"),
    )
    invalid = (
        Invalid({
            "Procfile": "web: uvicorn main:app --host 0.0.0.0 --port $PORT\n",
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                app = FastAPI()  # expect: SBA401


                @app.get("/health")
                def health():
                    return {"status": "ok"}
            ''',
        }, raises='uvicorn.importer.ImportFromStringError: Could not import module "main".',
           run="from uvicorn.importer import import_from_string\n"
               "import_from_string('main:app')"),
        Invalid({
            "Dockerfile": '''
                FROM python:3.12-slim
                WORKDIR /code
                COPY ./app /code/app
                CMD ["uvicorn", "src.main:app", "--host", "0.0.0.0", "--port", "80"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                app = FastAPI()  # expect: SBA401
            ''',
        }, raises="ModuleNotFoundError: No module named 'src'",
           run="from uvicorn.importer import import_from_string\n"
               "import_from_string('src.main:app')", note="a stale target after a move"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        target = model.layout.target
        if target is None:
            return
        missing = _missing(model, target.module)
        if missing is None:
            return
        apps = _app_modules(model)
        if not apps:
            return
        info, name, statement = self._nearest(apps, target)
        yield self._finding(model, target, missing, info, name, statement)

    @staticmethod
    def _nearest(apps: List[Tuple[ModuleInfo, str, ast.stmt]],
                 target: Target) -> Tuple[ModuleInfo, str, ast.stmt]:
        last = target.module.rpartition(".")[2]

        def score(app: Tuple[ModuleInfo, str, ast.stmt]) -> Tuple[int, int]:
            info, name, _ = app
            return (info.name.rpartition(".")[2] != last, name != target.attribute)

        return min(apps, key=score)

    def _finding(self, model: ProjectModel, target: Target, missing: Tuple[str, str],
                 info: ModuleInfo, name: str, statement: ast.stmt) -> Finding:
        part, kind = missing
        if part == target.module:
            error = f'Error loading ASGI app. Could not import module "{target.module}".'
        else:
            error = f"ModuleNotFoundError: No module named '{part}'"
        spelled = boot_name(model, info.path)
        if spelled:
            fix = (f"Start it as `{spelled}:{name}` in {_declaring(model, target)} (the app "
                   f"defined here, as named from the boot roots).")
        else:
            fix = (f"Start the server from the folder that holds {info.name.split('.')[0]} "
                   f"(`--app-dir`, WORKDIR or PYTHONPATH), or change the target in "
                   f"{_declaring(model, target)}.")
        sure = kind == MISSING
        assumed = "" if sure else (" The project's interpreter could not be asked, so it is "
                                   "assumed that no installed package provides it either.")
        return self.report_in(
            info, statement,
            f"ASGI target {_spelled(target)} ({_declaring(model, target)}) cannot be imported: "
            f"no module {part!r} under the boot roots ({_roots(model)})",
            f"The target comes from {target.origin}. With {_roots(model)} on sys.path, "
            f"{part!r} is neither a project module nor installed, so uvicorn fails: {error}"
            f"{assumed}",
            fix, severity=Severity.BLOCKING if sure else Severity.WARNING,
            related=_declared(target), safe=False,
        )


class _Bound:
    """Where module `info` binds a name: at module level, only under
    `if __name__ == "__main__":`, or only inside a function."""

    def __init__(self, info: ModuleInfo, name: str) -> None:
        assert info.tree is not None
        self.module_level: List[ast.stmt] = []
        self.main_only: List[ast.stmt] = []
        self._walk(info.tree.body, name, False)
        self.in_function = [node for node in ast.walk(info.tree)
                            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                            and _assigns(node, name)]

    def _walk(self, body: List[ast.stmt], name: str, main: bool) -> None:
        for statement in body:
            if name in _names(statement):
                (self.main_only if main else self.module_level).append(statement)
            if isinstance(statement, ast.If):
                inner = main or _is_main_guard(statement.test)
                self._walk(statement.body, name, inner)
                self._walk(statement.orelse, name, main)
            elif isinstance(statement, (ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor,
                                        ast.While)):
                for part in ("body", "orelse", "finalbody"):
                    self._walk(getattr(statement, part, []), name, main)
                for handler in getattr(statement, "handlers", []):
                    self._walk(handler.body, name, main)


def _names(statement: ast.stmt) -> List[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in statement.names]
    targets: List[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)) and (
            getattr(statement, "value", None) is not None):
        targets = [statement.target]
    elif isinstance(statement, (ast.For, ast.AsyncFor)):
        targets = [statement.target]
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in statement.items if i.optional_vars is not None]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _assigns(function: ast.AST, name: str) -> bool:
    return any(isinstance(node, (ast.Assign, ast.AnnAssign)) and name in _names(node)
               for node in ast.walk(function))


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _dynamic(info: ModuleInfo, name: str) -> bool:
    """Whether the module may bind names in ways not visible as statements."""
    text = info.source.text or ""
    summary = info.summary
    return (summary is None or summary.star_imports or summary.binds("__getattr__")
            or "globals()" in text or "setattr(" in text or any(
                isinstance(node, ast.Global) and name in node.names
                for node in ast.walk(info.tree)))  # type: ignore[arg-type]


class AsgiAttributeNotFound(ProjectRule):
    code = "SBA402"
    name = "asgi-attribute-not-found"
    severity = Severity.BLOCKING
    category = Category.APP
    versions = "Any uvicorn version."
    summary = "the ASGI target's module has no such attribute at module level"
    references = ("E02",)
    what = ("The ASGI target names an attribute its module does not bind at module level: the "
            "app is created only under `if __name__ == \"__main__\":` or inside a function, or "
            "the name is misspelled (`app.main:app` while the module has `api = FastAPI()`; "
            "the nearest app name is suggested). Also a target configured as a factory "
            "(`--factory`) that is an app instance, and (warning) a factory function started "
            "without `--factory`. " + _WHY_MIRRORED)
    why = ("uvicorn imports the module and looks the name up: `Error loading ASGI app. "
           "Attribute \"app\" not found in module \"app.main\".` and exits. With `--factory` "
           "on an app instance it fails calling it: `Error loading ASGI app factory: "
           "FastAPI.__call__() missing 3 required positional arguments`.")
    how_to_fix = ("Create the app at module level (`app = FastAPI()`), or start the name the "
                  "module defines (`uvicorn app.main:api`), or for a factory "
                  "`uvicorn app.main:create_app --factory`.")
    fix_safety = "Changing the boot command or renaming the app is safe; tests may import it."
    valid = (
        Valid({
            "Procfile": "web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n",
            "app/__init__.py": "",
            "app/main.py": '''
                import uvicorn
                from fastapi import FastAPI

                app = FastAPI()

                if __name__ == "__main__":
                    uvicorn.run(app, host="0.0.0.0", port=8000)
            ''',
        }),
        Valid({
            "Dockerfile": '''
                FROM python:3.12-slim
                WORKDIR /code
                COPY ./app /code/app
                CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI


                def create_app() -> FastAPI:
                    app = FastAPI()

                    @app.get("/health")
                    def health():
                        return {"status": "ok"}

                    return app
            ''',
        }, note="an app factory started with --factory"),
    )
    invalid = (
        Invalid({
            "Dockerfile": '''
                FROM python:3.12-slim
                WORKDIR /code
                COPY ./app /code/app
                CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "80"]
            ''',
            "app/__init__.py": "",
            "app/main.py": '''
                import uvicorn
                from fastapi import FastAPI

                if __name__ == "__main__":
                    app = FastAPI()  # expect: SBA402
                    uvicorn.run(app, host="0.0.0.0", port=8000)
            ''',
        }, raises='uvicorn.importer.ImportFromStringError: Attribute "app" not found in module '
                  '"app.main".',
           run="from uvicorn.importer import import_from_string\n"
               "import_from_string('app.main:app')",
           note="the app only exists when the file is run as a script"),
        Invalid({
            "Procfile": "web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n",
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI

                api = FastAPI(title="Shop")  # expect: SBA402


                @api.get("/health")
                def health():
                    return {"status": "ok"}
            ''',
        }, raises='uvicorn.importer.ImportFromStringError: Attribute "app" not found in module '
                  '"app.main".',
           run="from uvicorn.importer import import_from_string\n"
               "import_from_string('app.main:app')"),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        target = model.layout.target
        if target is None or _missing(model, target.module) is not None:
            return
        found = model.resolve(target.module)
        info = model.module_at(found.path) if found.kind == PROJECT and found.path else None
        if info is None or info.tree is None:
            return
        name = target.attribute.split(".")[0]
        if _dynamic(info, name) or (info.is_package and f"{info.name}.{name}" in model.modules):
            return
        bound = _Bound(info, name)
        if bound.module_level:
            yield from self._kind(model, target, info, name, bound.module_level)
        else:
            yield self._not_found(model, target, info, name, bound)

    def _not_found(self, model: ProjectModel, target: Target, info: ModuleInfo, name: str,
                   bound: _Bound) -> Finding:
        apps = [(n, s) for n, s in module_apps(model, info) if s in info.tree.body]
        node: ast.AST = info.tree
        if bound.main_only:
            node = bound.main_only[0]
            detail = (f"{name!r} is only bound under `if __name__ == \"__main__\":` (line "
                      f"{node.lineno}), which does not run when uvicorn imports the module")
            fix = (f"Move `{name} = ...` to module level, out of the `if __name__ == "
                   f"\"__main__\":` block.")
        elif bound.in_function:
            node = bound.in_function[0]
            detail = (f"{name!r} is only assigned inside {bound.in_function[0].name}() (line "
                      f"{node.lineno})")
            fix = (f"Create the app at module level, or start the factory: "
                   f"`uvicorn {target.module}:{bound.in_function[0].name} --factory`.")
        else:
            names = [n for n, _ in apps]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.0) if names else []
            if close:
                node = next(s for n, s in apps if n == close[0])
            detail = (f"the module binds no {name!r}"
                      + (f"; its app is named {close[0]!r}" if close else ""))
            fix = (f"Start `{target.module}:{close[0]}` in {_declaring(model, target)}, or "
                   f"rename the app to {name!r}." if close else
                   f"Define `{name} = FastAPI()` at module level in {info.name}.")
        return self.report_in(
            info, node,
            f"ASGI target {_spelled(target)} ({_declaring(model, target)}): attribute {name!r} "
            f"not found at module level of {info.name}",
            f"The target comes from {target.origin}; {detail}. uvicorn fails: Error loading "
            f"ASGI app. Attribute \"{name}\" not found in module \"{target.module}\".",
            fix, related=_declared(target), safe=False)

    def _kind(self, model: ProjectModel, target: Target, info: ModuleInfo, name: str,
              statements: List[ast.stmt]) -> Iterator[Finding]:
        """A factory started as an app (warning) or an app started as a factory."""
        if len(statements) != 1:
            return
        statement = statements[0]
        context = model.context(info)
        if isinstance(statement, ast.FunctionDef) and not target.factory \
                and _returns_app(context, statement):
            yield self.report_in(
                info, statement,
                f"ASGI target {_spelled(target)} ({_declaring(model, target)}) is an app "
                f"factory started without --factory",
                f"The target comes from {target.origin}; {name}() returns an app. uvicorn "
                f"calls it anyway and warns \"ASGI app factory detected. Using it, but please "
                f"consider setting the --factory flag explicitly.\"; other servers may not.",
                f"Add `--factory` to the command in {_declaring(model, target)} (or "
                f"`factory = true` in [tool.flake8-stability]).",
                severity=Severity.WARNING, related=_declared(target), safe=False)
        elif isinstance(statement, ast.Assign) and target.factory \
                and isinstance(statement.value, ast.Call) \
                and context.call_name(statement.value) in APP_CLASSES:
            yield self.report_in(
                info, statement,
                f"ASGI target {_spelled(target)} ({_declaring(model, target)}) is started as a "
                f"factory but {name} is an app instance",
                f"The target comes from {target.origin}; with --factory uvicorn calls {name}() "
                f"and fails: Error loading ASGI app factory: "
                f"{ast.unparse(statement.value.func)}.__call__() missing 3 required positional "
                f"arguments: 'scope', 'receive', and 'send'.",
                f"Remove `--factory` from the command in {_declaring(model, target)}.",
                related=_declared(target), safe=False)


def _returns_app(context: ModuleContext, function: ast.FunctionDef) -> bool:
    """Whether `function` returns an app it creates (`return FastAPI()` or a local name)."""
    names = {n.id for node in ast.walk(function) if isinstance(node, ast.Assign)
             and isinstance(node.value, ast.Call)
             and context.call_name(node.value) in APP_CLASSES
             for n in node.targets if isinstance(n, ast.Name)}
    for value in returned_values(function):
        if isinstance(value, ast.Name) and value.id in names:
            return True
        if isinstance(value, ast.Call) and context.call_name(value) in APP_CLASSES:
            return True
    return False
