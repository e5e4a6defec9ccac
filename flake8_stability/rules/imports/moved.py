"""Imports the installed version of their package moved, removed or does not have yet: SBA103."""
from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterator, List, Optional, Pattern, Set, Tuple, Union

from packaging.version import Version

from ...analysis.import_guards import import_guard
from ...context import ModuleContext
from ...dependencies.declared import DeclaredDependencies
from ...findings import Category, Finding, Fix, Severity
from ...knowledge.symbols import (ANY_NAME, DEPRECATED, MISSING, REMOVED, Symbol, module_rows,
                                  name_row, symbols)
from ..base import Invalid, Rule, Valid

ImportNode = Union[ast.Import, ast.ImportFrom]


@dataclass(frozen=True)
class _Hit:
    """One import (or attribute use) that the table knows about."""

    node: ast.AST
    symbol: Symbol
    name: Optional[str]  # the imported name; None when the module itself is the problem
    old: str  # the code as the user wrote it, for messages
    runs: Optional[ast.AST] = None  # the statement whose execution evaluates it, if not `node`


def _module_hit(node: ast.AST, dotted: str, old: str) -> Optional[_Hit]:
    """A row about `dotted` or one of the packages it sits in."""
    parts = dotted.split(".")
    for end in range(2, len(parts) + 1):
        rows = module_rows(".".join(parts[:end]))
        if rows:
            return _Hit(node, rows[0], None, old)
    return None


def _fix_data(hit: _Hit, declared: DeclaredDependencies) -> Dict[str, str]:
    """What the `moved-import` codemod needs: the module, the moved name (none when the module
    itself is the problem), the form of the use (`from module import name`, `module.name`), and
    the distribution the new import comes from when the project does not declare it (`needs`:
    the fix's note asks to add it)."""
    if hit.name is None:
        data = {"module": hit.symbol.module}
    elif isinstance(hit.node, ast.ImportFrom) and hit.node.module:
        data = {"module": hit.node.module, "name": hit.name, "form": "import"}
    else:
        data = {"module": hit.symbol.module, "name": hit.name, "form": "attribute"}
    if hit.symbol.needs and not declared.declares(hit.symbol.needs):
        data["needs"] = hit.symbol.needs
    return data


def _import_hits(node: ImportNode) -> Iterator[_Hit]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            hit = _module_hit(node, alias.name, f"import {alias.name}")
            if hit:
                yield hit
        return
    if node.level or not node.module:
        return  # the project's own code
    listed = ", ".join(alias.name for alias in node.names)
    hit = _module_hit(node, node.module, f"from {node.module} import {listed}")
    if hit:
        yield hit  # judged first: when the module itself fails, its names are not reported
    for alias in node.names:
        if alias.name == ANY_NAME:
            continue
        old = f"from {node.module} import {alias.name}"
        row = name_row(node.module, alias.name)
        found = _Hit(node, row, alias.name, old) if row else None
        yield from filter(None, [found or _module_hit(node, f"{node.module}.{alias.name}", old)])


@lru_cache(maxsize=1)
def _attribute_rows() -> Tuple[Dict[str, Tuple[Symbol, str]], Pattern[str]]:
    """Dotted name -> (row, name) of the rows that fail on attribute use, and a pattern that
    finds any of their names as a whole word (how an attribute's name is written)."""
    wanted = {f"{s.module}.{name}": (s, name) for s in symbols() if s.attribute
              for name in s.names if name != ANY_NAME}
    names = sorted({name for _, name in wanted.values()})
    return wanted, re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, names)))


def _attribute_hits(module: ModuleContext) -> Iterator[_Hit]:
    """`pydantic.BaseSettings` after `import pydantic`, for rows that fail on attribute use."""
    wanted, written = _attribute_rows()
    attributes = {name for _, name in wanted.values()}
    if not any(name in module.text for name in attributes) or not written.search(module.text):
        return
    unevaluated = _unevaluated_annotations(module.tree)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Attribute) and node.attr in attributes and node not in unevaluated:
            found = wanted.get(module.qualname(node) or "")
            if found:
                yield _Hit(node, found[0], found[1], f"{found[0].module}.{found[1]}",
                           _evaluated_by(module, node))


def _evaluated_by(module: ModuleContext, node: ast.AST) -> ast.AST:
    """A function's signature (annotations, defaults, decorators) runs with its `def`."""
    child, point = node, node
    for ancestor in module.scopes.ancestors(node):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            body = ancestor.body if isinstance(ancestor.body, list) else [ancestor.body]
            if not any(child is stmt for stmt in body):
                point = ancestor
        child = ancestor
    return point


def _unevaluated_annotations(tree: ast.Module) -> Set[ast.AST]:
    """Every node inside an annotation, when `from __future__ import annotations` keeps them
    from being evaluated."""
    future = any(isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
                 and any(alias.name == "annotations" for alias in stmt.names)
                 for stmt in tree.body)
    if not future:
        return set()
    annotations: List[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.arg, ast.AnnAssign)) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            annotations.append(node.returns)
    return {inner for annotation in annotations for inner in ast.walk(annotation)}


def _short(new: str) -> str:
    """The replacement without its notes: `@field_validator('x') (classmethod; ...)`."""
    return new.split(" (")[0].split(" / ")[0]


def _floor(symbol: Symbol) -> str:
    """The requirement that brings a missing name: `<2.0` -> `>=2.0`."""
    spec = str(symbol.missing or "")
    return ">=" + spec[1:] if spec.startswith("<") and "," not in spec else f" outside {spec}"


def _assumed(symbol: Symbol, state: str) -> str:
    spec = symbol.removed if state == REMOVED else symbol.deprecated
    return f"{symbol.package}{spec}" if spec and str(spec) else f"any {symbol.package} version"


class MovedOrRemovedImport(Rule):
    code = "SBA103"
    name = "moved-or-removed-import"
    severity = Severity.BLOCKING
    category = Category.IMPORTS
    versions = ("The installed version of the imported library, from the shipped symbol table: "
                "e.g. `BaseSettings` left pydantic in 2.0, `async_sessionmaker` needs SQLAlchemy "
                ">= 2.0, `AsyncConnection` left sqlmodel.ext.asyncio in sqlmodel 0.0.12.")
    summary = "an import the installed version of its package moved, removed or does not have yet"
    references = ("I01", "I02", "I03", "I06")
    codemod = "moved-import"
    triggers = ("pydantic", "sqlalchemy", "sqlmodel", "starlette", "fastapi", "uvicorn")
    what = ("An import of a name or module that the installed version of its package moved "
            "elsewhere, removed, or does not have yet, looked up in a shipped table built from "
            "the libraries' release history: pydantic 2's moves (`BaseSettings` to "
            "pydantic-settings, `ConstrainedStr`, `pydantic.env_settings`, `ModelField`), "
            "SQLAlchemy 2.0 names on 1.4 (`async_sessionmaker`, `DeclarativeBase`), names sqlmodel "
            "and Starlette dropped, and deprecated spellings that still work (`@validator`). "
            "Also `pydantic.BaseSettings` used through `import pydantic`. Imports in a `try` that "
            "catches ImportError, under `if TYPE_CHECKING:` or behind a version check are "
            "compatibility code and are not reported.")
    why = ("The import raises while the module loads, so the app never boots: "
           "``pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
           "`pydantic-settings` package.`` on pydantic 2, "
           "`ImportError: cannot import name 'async_sessionmaker' from 'sqlalchemy.ext.asyncio'` "
           "on SQLAlchemy 1.4, `ImportError: cannot import name 'AsyncConnection' from "
           "'sqlmodel.ext.asyncio.session'` on sqlmodel 0.0.12 and later. Inside a function it "
           "fails at the first call. Deprecated spellings still work but warn "
           "(`PydanticDeprecatedSince20: Pydantic V1 style `@validator` validators are "
           "deprecated.`) and disappear in the next major version.")
    how_to_fix = ("Import the name from where the installed version has it (the finding gives the "
                  "exact import and any extra dependency, e.g. `pydantic-settings`), or, for a "
                  "name the installed version does not have yet, require the version that added "
                  "it.")
    fix_safety = ("Safe for the import line itself: the `moved-import` codemod imports the name "
                  "from where the table says it moved (splitting a multi-name import; "
                  "`pydantic.BaseSettings` becomes `pydantic_settings.BaseSettings` with "
                  "`import pydantic_settings`) and names the extra distribution in its output, not "
                  "in the code. Replacements that are not a plain import (`@validator`) are left "
                  "to you. A moved class may behave differently (pydantic-settings' "
                  "`BaseSettings` reads its options from `model_config`), so run the tests.")
    valid = (
        Valid('''
            from pydantic import field_validator
            from pydantic_settings import BaseSettings, SettingsConfigDict


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_file=".env")

                database_url: str = "sqlite+aiosqlite:///./app.db"

                @field_validator("database_url")
                @classmethod
                def strip(cls, value: str) -> str:
                    return value.strip()
        '''),
        Valid('''
            try:
                from pydantic_settings import BaseSettings
            except ImportError:  # pydantic 1
                from pydantic import BaseSettings


            class Settings(BaseSettings):
                database_url: str = "sqlite:///./app.db"
        ''', note="a version-compatibility shim"),
        Valid('''
            from pydantic.v1 import BaseSettings


            class LegacySettings(BaseSettings):
                database_url: str = "sqlite:///./app.db"
        ''', note="the pydantic 1 API kept inside pydantic 2"),
        Valid('''
            from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker, create_async_engine
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        '''),
    )
    invalid = (
        Invalid('''
            from pydantic import BaseSettings  # expect: SBA103


            class Settings(BaseSettings):
                database_url: str = "sqlite:///./app.db"
        ''', raises="pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
                    "`pydantic-settings` package."),
        Invalid('''
            import pydantic


            class Settings(pydantic.BaseSettings):  # expect: SBA103
                database_url: str = "sqlite:///./app.db"
        ''', raises="pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
                    "`pydantic-settings` package."),
        Invalid('''
            from sqlmodel.ext.asyncio.session import AsyncConnection, AsyncSession  # expect: SBA103
        ''', raises="ImportError: cannot import name 'AsyncConnection' from "
                    "'sqlmodel.ext.asyncio.session'"),
        Invalid('''
            from pydantic import BaseModel, validator  # expect: SBA103


            class Hero(BaseModel):
                name: str

                @validator("name")
                def strip(cls, value):
                    return value.strip()
        ''', raises="pydantic.warnings.PydanticDeprecatedSince20: Pydantic V1 style `@validator` "
                    "validators are deprecated.",
           run="import warnings\nwarnings.simplefilter('error')\n"
               "class Villain(BaseModel):\n    name: str\n"
               "    @validator('name')\n    def strip(cls, value):\n        return value\n",
           note="deprecated, still works: a warning"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        hits: List[_Hit] = [hit for node in module.scopes.imports for hit in _import_hits(node)]
        hits.extend(_attribute_hits(module))
        failed_modules: Set[ast.AST] = set()
        for hit in hits:
            if hit.node in failed_modules or import_guard(module.scopes, hit.node) is not None:
                continue
            finding = self._judge(module, hit)
            if finding:
                if hit.name is None:
                    failed_modules.add(hit.node)
                yield finding

    def _judge(self, module: ModuleContext, hit: _Hit) -> Optional[Finding]:
        version = module.project.version(hit.symbol.package)
        state = hit.symbol.state(version) if version else hit.symbol.assumed_state()
        if state is None:
            return None
        if version is None or state == DEPRECATED:
            severity = Severity.WARNING
        else:
            severity = self.severity_at(module, hit.runs or hit.node)
        finding = self.report(module, hit.node, self._message(hit, state, version),
                              self._root_cause(module, hit, state, version, severity),
                              self._fix(hit, state, version), severity=severity,
                              data=_fix_data(hit, module.project.declared))
        if state == MISSING:
            finding = dataclasses.replace(finding, fix=Fix(finding.fix.description, None))
        return finding

    def _message(self, hit: _Hit, state: str, version: Optional[Version]) -> str:
        symbol = hit.symbol
        installed = f"{symbol.package} {version}" if version else _assumed(symbol, state)
        if state == MISSING:
            return f"`{hit.old}` fails on {installed}: it needs {symbol.package}{_floor(symbol)}"
        verb = "is deprecated" if state == DEPRECATED else "fails"
        return f"`{hit.old}` {verb} on {installed}: use `{_short(symbol.new)}`"

    def _root_cause(self, module: ModuleContext, hit: _Hit, state: str,
                    version: Optional[Version], severity: Severity) -> str:
        symbol = hit.symbol
        text = symbol.text(hit.name)
        if version is None:
            why = module.project.why_unknown(symbol.package)
            return (f"The installed {symbol.package} version is unknown ({why}); assuming "
                    f"{_assumed(symbol, state)}, where this import gives: {text}")
        if state == DEPRECATED:
            return (f"{symbol.package} {version} still provides it but deprecates it "
                    f"({text.rstrip('.')}); a later major version removes it.")
        has = "no longer has it" if state == REMOVED else "does not have it yet"
        when = ("while the module is imported, so the app does not boot"
                if severity is Severity.BLOCKING else "when the enclosing function first runs")
        return f"{symbol.package} {version} {has}; the import raises {when}: {text}"

    def _fix(self, hit: _Hit, state: str, version: Optional[Version]) -> str:
        symbol = hit.symbol
        if state == MISSING:
            older = (f", or on {symbol.package} {version} write `{symbol.instead}`"
                     if symbol.instead and version else "")
            return (f"Require `{symbol.package}{_floor(symbol)}` in the project's "
                    f"dependencies{older}.")
        extra = (f" and add `{symbol.needs}` to the project's dependencies"
                 if symbol.needs else "")
        return f"Replace `{hit.old}` with `{symbol.new}`{extra}."
