"""The rule base class: a rule is one small class that documents itself and checks a module."""
from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, ClassVar, Dict, Iterator, List, Mapping, Optional, Tuple,
                    Type, Union)

from ..context import ModuleContext
from ..findings import Category, Finding, Fix, Location, Severity

if TYPE_CHECKING:
    from ..project.model import ModuleInfo, ProjectModel  # noqa: F401

_CODE = re.compile(r"^SBA\d{3}$")
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>SBA\d{3}(?:\s*,\s*SBA\d{3})*)")
_PIN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?==[A-Za-z0-9][A-Za-z0-9.+!_-]*$")


SNIPPET = "snippet.py"
Source = Union[str, Mapping[str, str]]  # one module, or a project: {"app/main.py": "...", ...}


@dataclass(frozen=True)
class _Example:
    """`env`: environment variables the example's app reads at import (the proofs set them);
    `needs`: distributions beyond the test stack it needs to run (unproven without them);
    `installed`: exact pins (`"sqlmodel==0.0.8"`, ...) of the interpreter the example is
    judged with instead of the test stack. The test suite builds a venv holding exactly these
    distributions and names it as the example's `python`; its proof and boot run with that
    venv's site-packages ahead of the test stack's (pure-Python pins, or wheels for the test
    Python). The docs list the pins, never a path."""

    source: Source
    note: str = ""
    env: Optional[Mapping[str, str]] = None
    needs: Tuple[str, ...] = ()
    installed: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        inexact = [pin for pin in self.installed if not _PIN.match(pin)]
        if inexact:
            raise ValueError(f"`installed` takes exact pins like 'sqlmodel==0.0.8': {inexact}")

    @property
    def files(self) -> Dict[str, str]:
        """Relative path -> code; a single snippet is the module `snippet.py`."""
        if isinstance(self.source, str):
            return {SNIPPET: _clean(self.source)}
        return {path: _clean(code) for path, code in self.source.items()}

    @property
    def code(self) -> str:
        """All the code, files headed by their path (for the docs)."""
        files = self.files
        if list(files) == [SNIPPET]:
            return files[SNIPPET]
        return "\n".join(f"# {path}\n{code}" for path, code in files.items())


@dataclass(frozen=True)
class Valid(_Example):
    """Healthy code the rule must stay silent on; the test suite also boots it (imports the
    ASGI target, or every module of a project without one) to prove it is healthy."""


@dataclass(frozen=True)
class Invalid(_Example):
    """Broken code. Lines the rule must report end with `# expect: SBAxxx`.

    `raises` is the failure the real libraries produce (`Type: message start`), proven by the
    test suite: a single snippet is imported, then `run` executed in its namespace; a project's
    `run` (e.g. `import app.main`) is executed from the project's folder.
    """

    raises: Optional[str] = None
    run: Optional[str] = None

    def expected(self, code: str) -> Dict[str, List[int]]:
        """File -> the lines marked `# expect: <code>`."""
        found: Dict[str, List[int]] = {}
        for path, text in self.files.items():
            for number, line in enumerate(text.splitlines(), start=1):
                match = _EXPECT.search(line)
                if match and code in re.split(r"\s*,\s*", match.group("codes")):
                    found.setdefault(path, []).append(number)
        return found


def _clean(code: str) -> str:
    return textwrap.dedent(code).strip("\n") + "\n"


class Rule:
    """Subclasses set the class attributes and implement `check_module`."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    category: ClassVar[Category]
    summary: ClassVar[str]
    what: ClassVar[str]
    why: ClassVar[str]
    how_to_fix: ClassVar[str]
    fix_safety: ClassVar[str] = "No automatic fix yet; the fix text says what to change."
    # The library (or Python) versions the failure happens with, as far as the catalog and the
    # rule's proofs back them ("SQLAlchemy >= 1.4 (...)", "Any FastAPI version.").
    versions: ClassVar[str]
    codemod: ClassVar[Optional[str]] = None
    references: ClassVar[Tuple[str, ...]] = ()
    enabled_by_default: ClassVar[bool] = True
    # A cheap pre-filter: the rule only runs on files whose text contains one of these words.
    triggers: ClassVar[Tuple[str, ...]] = ()
    valid: ClassVar[Tuple[Valid, ...]] = ()
    invalid: ClassVar[Tuple[Invalid, ...]] = ()

    _registry: ClassVar[Dict[str, Type["Rule"]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            return  # an intermediate base class
        if not _CODE.match(cls.code):
            raise ValueError(f"{cls.__name__}: bad code {cls.code!r}")
        if cls.code in Rule._registry:
            first = Rule._registry[cls.code].__name__
            raise ValueError(f"{cls.code} defined twice: {first}, {cls.__name__}")
        Rule._registry[cls.code] = cls

    def applies_to(self, module: ModuleContext) -> bool:
        return not self.triggers or module.mentions(self.triggers)

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        raise NotImplementedError

    def severity_at(self, module: ModuleContext, node: ast.AST) -> Severity:
        """Blocking only where the failing code runs while the module is imported; a failure
        inside a function shows when the function is first called."""
        if self.severity is Severity.BLOCKING and not module.scopes.runs_at_import(node):
            return Severity.RUNTIME
        return self.severity

    def report(self, module: ModuleContext, node: ast.AST, message: str, root_cause: str, fix: str,
               **options: Any) -> Finding:
        return self.finding_at(module.path, node, message, root_cause, fix, **options)

    def finding_at(self, path: str, node: ast.AST, message: str, root_cause: str, fix: str, *,
                   severity: Optional[Severity] = None, related: Tuple[Location, ...] = (),
                   codemod: Optional[str] = None, safe: bool = True,
                   data: Optional[Mapping[str, str]] = None) -> Finding:
        return Finding(
            code=self.code,
            severity=severity or self.severity,
            category=self.category,
            path=path,
            line=getattr(node, "lineno", 1),
            col=getattr(node, "col_offset", 0),
            message=message,
            root_cause=root_cause,
            fix=Fix(fix, codemod if codemod is not None else self.codemod, safe, data or {}),
            related=related,
        )


class ProjectRule(Rule):
    """A rule that judges the whole project at once (across files). It runs once per project
    and process; each file is given the findings that belong to it."""

    def check_project(self, model: "ProjectModel") -> Iterator[Finding]:
        raise NotImplementedError

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        yield from module.project.findings_in(self, module)

    def report_in(self, info: "ModuleInfo", node: ast.AST, message: str, root_cause: str,
                  fix: str, **options: Any) -> Finding:
        """A finding in one module of the project."""
        return self.finding_at(str(info.path), node, message, root_cause, fix, **options)
