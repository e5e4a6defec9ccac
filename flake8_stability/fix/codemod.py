"""The codemod base class: one mechanical fix, applied with libcst to one Python file, at the
places its findings point to. A codemod registers itself by its `name` (the id rules put in
`Fix.codemod`), like rules do by their code.

A codemod sees the parsed file (`cst.Module` inside a `MetadataWrapper`, positions available)
and the targets it must fix; it returns the new module. It must change nothing else, leave the
file as it is when a target cannot be fixed safely (say why in `skipped`), and be idempotent:
run on its own output it changes nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Dict, List, Optional, Sequence, Tuple, Type

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ..findings import Finding


@dataclass(frozen=True)
class Target:
    """Where a finding asks for the fix: its line and column (1-based line, 0-based column, as
    findings carry them), and the finding itself (message, root cause, code)."""

    line: int
    col: int
    finding: Finding

    @classmethod
    def of(cls, finding: Finding) -> "Target":
        return cls(finding.line, finding.col, finding)


@dataclass(frozen=True)
class FileCreation:
    """A new file a fix needs (an `__init__.py`): its absolute path and its text."""

    path: str
    content: str = ""


@dataclass
class Outcome:
    """What a codemod did to one file."""

    module: cst.Module
    fixed: List[Target] = field(default_factory=list)
    skipped: List[Tuple[Target, str]] = field(default_factory=list)  # (target, why not)
    notes: List[str] = field(default_factory=list)  # for the user, not the code (dependencies)
    created: List[FileCreation] = field(default_factory=list)  # files to write, unchanged module


class Codemod:
    """Subclasses set `name`, `codes`, `safe` and `summary`, and implement `apply`."""

    name: ClassVar[str]
    codes: ClassVar[Tuple[str, ...]]  # the rules whose findings name this codemod
    safe: ClassVar[bool] = True  # False: applied only with --unsafe
    summary: ClassVar[str]  # one line for the diff header and the docs

    _registry: ClassVar[Dict[str, Type["Codemod"]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return
        if cls.name in Codemod._registry:
            raise ValueError(f"codemod {cls.name} defined twice")
        Codemod._registry[cls.name] = cls

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        raise NotImplementedError


def positions(wrapper: MetadataWrapper) -> Dict[cst.CSTNode, CodeRange]:
    """Every node's position (1-based lines, 0-based columns)."""
    return dict(wrapper.resolve(PositionProvider))


def node_at(wrapper: MetadataWrapper, target: Target,
            kind: Type[cst.CSTNode]) -> Optional[cst.CSTNode]:
    """The node of type `kind` the target points at: starting on its line at its column (the
    outermost when several start there); the only one of that kind starting on the line when
    none matches the column (findings count columns in UTF-8 bytes, libcst in characters)."""
    spans = positions(wrapper)
    on_line = [node for node, where in spans.items()
               if isinstance(node, kind) and where.start.line == target.line]
    exact = [node for node in on_line if spans[node].start.column == target.col]
    if exact:
        return max(exact, key=lambda node: (spans[node].end.line, spans[node].end.column))
    return on_line[0] if len(on_line) == 1 else None


def apply_codemod(codemod: Codemod, source: str, findings: Sequence[Finding]) -> Outcome:
    """Run one codemod on source text (for tests and the driver)."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    return codemod.apply(wrapper, [Target.of(finding) for finding in findings])


def registry() -> Dict[str, Type[Codemod]]:
    """Every codemod, by name (the modules under `fix/codemods/` are imported)."""
    import importlib
    import pkgutil

    from . import codemods

    for info in pkgutil.walk_packages(codemods.__path__, prefix=codemods.__name__ + "."):
        importlib.import_module(info.name)
    return dict(Codemod._registry)
