"""The requirement-file driver: the `TextEdit`s that text codemods planned for one file,
applied together to its text.

A rewrite finds the requirement it names on its line again (so edits of one requirement by
several codemods compose: `sqlalchemy>=1.4` -> `sqlalchemy[asyncio]>=1.4,<2`); an edit that no
longer finds it, or whose rewrite `packaging` refuses, skips its finding ("conflicts with
<codemod>" when another codemod changed the line). A finding's edits are applied all or none.
New requirements go right after the requirement they belong to (after its continuation lines),
each added once. Everything else stays byte for byte: the BOM, comments, markers, options,
line endings (a new line takes the file's) and a missing final newline. A requirement file in
pip's hash-checking mode (`--hash`) is not edited: a changed or added requirement has no hash."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence, Tuple, Type

from ..findings import Finding
from ..project.sources import read_file
from .codemod import Codemod
from .file_fix import BOM, Applied, FileFix, Skip
from .requirement_text import REQUIREMENTS, TOML, Span, entry_line, find
from .text_codemod import Plan, TextCodemod, TextEdit

if TYPE_CHECKING:
    from ..context import ProjectContext

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


@dataclass(frozen=True)
class Planned:
    """A finding, the text codemod that planned its fix, and the plan (edits in this file)."""

    codemod: str
    safe: bool
    finding: Finding
    plan: Plan


class _Text:
    """The file's lines (text and line ending) as edited so far, the lines added after each
    original line, and which codemod last changed each line."""

    def __init__(self, text: str, form: str) -> None:
        lines = [match.group() for match in _LINE.finditer(text)]
        self.bodies = [line.rstrip("\r\n") for line in lines]
        self.endings = [line[len(body):] for line, body in zip(lines, self.bodies)]
        self.eol = "\r\n" if "\r\n" in self.endings else "\n"
        self.form = form
        self.added: Dict[int, List[str]] = {}
        self.owner: Dict[int, str] = {}

    def copy(self) -> "_Text":
        other = _Text.__new__(_Text)
        other.__dict__.update(self.__dict__)
        other.bodies = list(self.bodies)
        other.added = {index: list(lines) for index, lines in self.added.items()}
        other.owner = dict(self.owner)
        return other

    def edit(self, edit: TextEdit, codemod: str) -> Optional[str]:
        """Apply one edit; why not, when it cannot be."""
        index = edit.line - 1
        if not 0 <= index < len(self.bodies):
            return f"line {edit.line} is not in the file any more"
        body = self.bodies[index]
        span = find(body, edit.name, self.form)
        if span is None:
            return self._lost(index, f"line {edit.line} does not hold one plain {edit.name} "
                                     "requirement (a URL, an editable or an option line)",
                              codemod)
        if edit.rewrite is not None:
            new = edit.rewrite.apply(span.text(body))
            if new is None:
                return self._lost(index, f"cannot {edit.rewrite.describe()} to "
                                         f"{span.text(body)!r} safely", codemod)
            self._set(index, body[:span.start] + new + body[span.end:], codemod)
        if edit.insert is not None:
            self._insert(index, span, edit.insert, codemod)
        return None

    def _lost(self, index: int, reason: str, codemod: str) -> str:
        owner = self.owner.get(index)
        return f"conflicts with {owner}" if owner not in (None, codemod) else reason

    def _set(self, index: int, body: str, codemod: str) -> None:
        if body != self.bodies[index]:
            self.bodies[index] = body
            self.owner[index] = codemod

    def _insert(self, index: int, span: Span, requirement: str, codemod: str) -> None:
        if self.form == TOML:
            line, inline = entry_line(self.bodies[index], span, requirement)
            if line is None:
                self._set(index, inline, codemod)
                return
        else:
            line = requirement
            while index + 1 < len(self.bodies) and self.bodies[index].endswith("\\"):
                index += 1  # after the requirement's continuation lines
        added = self.added.setdefault(index, [])
        if line not in added:
            added.append(line)

    def text(self) -> str:
        out = []
        for index, (body, ending) in enumerate(zip(self.bodies, self.endings)):
            added = self.added.get(index, [])
            out.append(body + (ending or (self.eol if added else "")))
            out += [line + self.eol for line in added]
        joined = "".join(out)
        if self.endings and not self.endings[-1] and self.added.get(len(self.bodies) - 1):
            joined = joined[:-len(self.eol)]  # the file had no final newline: still none
        return joined


def fix_text_file(path: Path, planned: Sequence[Planned]) -> Tuple[FileFix, List[Skip]]:
    """The file with every plan's edits applied, and the findings skipped (each skip belongs
    to its finding's own file, which is usually not this one)."""
    data, problem = read_file(path)
    fix = FileFix(str(path), data, data)
    if problem is None:
        problem = _refused(path, data)
    if problem is not None:
        return fix, [Skip(p.finding, p.codemod, f"{path.name} {problem}") for p in planned]
    bom = data.startswith(BOM)
    text = _Text(data[len(BOM) if bom else 0:].decode("utf-8"),
                 TOML if path.suffix == ".toml" else REQUIREMENTS)
    skipped: List[Skip] = []
    done: Dict[str, List[Finding]] = {}
    notes: Dict[str, List[str]] = {}
    safe: Dict[str, bool] = {}
    for item in sorted(planned, key=lambda p: (min(e.line for e in p.plan.edits), p.codemod)):
        trial = text.copy()
        why = next(filter(None, (trial.edit(e, item.codemod) for e in item.plan.edits)), None)
        if why is not None:
            skipped.append(Skip(item.finding, item.codemod, why))
            continue
        text = trial
        done.setdefault(item.codemod, []).append(item.finding)
        notes.setdefault(item.codemod, []).extend(item.plan.notes)
        safe[item.codemod] = safe.get(item.codemod, True) and item.safe
    fix.after = (BOM if bom else b"") + text.text().encode("utf-8")
    fix.applied = [Applied(name, safe[name], tuple(found), tuple(dict.fromkeys(notes[name])))
                   for name, found in done.items()]
    return fix, skipped


def _refused(path: Path, data: bytes) -> Optional[str]:
    """Why the file is not edited at all, if it is not."""
    try:
        text = data[len(BOM) if data.startswith(BOM) else 0:].decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    if path.suffix != ".toml" and "--hash" in text:
        return ("pins hashes (pip's hash-checking mode): a changed requirement needs new "
                "hashes, so regenerate it (pip-compile --generate-hashes)")
    return None


def fix_requirement_files(findings: Iterable[Finding], codemods: Dict[str, Type[Codemod]],
                          projects: Sequence["ProjectContext"], *, unsafe: bool = False
                          ) -> Tuple[List[FileFix], List[Skip]]:
    """Plan each finding's fix with its text codemod (in the project the finding belongs to)
    and apply the plans file by file; the findings skipped, each with its reason."""
    skipped: List[Skip] = []
    by_file: Dict[str, List[Planned]] = {}
    for finding in findings:
        name = finding.fix.codemod or ""
        codemod = codemods[name]
        safe = codemod.safe and finding.fix.safe
        if not safe and not unsafe:
            skipped.append(Skip(finding, name, "unsafe: applied only with --unsafe"))
            continue
        project = _project_of(finding.path, projects)
        if project is None:
            skipped.append(Skip(finding, name, "a requirement-file fix needs the project the "
                                               "finding comes from, and none was given"))
            continue
        plan = _plan(codemod(), finding, project)  # type: ignore[arg-type]
        if not plan.edits:
            skipped.append(Skip(finding, name, plan.reason))
            continue
        by_file.setdefault(plan.edits[0].path, []).append(Planned(name, safe, finding, plan))
    fixes = []
    for path, planned in sorted(by_file.items()):
        fix, lost = fix_text_file(Path(path), planned)
        fixes.append(fix)
        skipped += lost
    return fixes, skipped


def _plan(codemod: TextCodemod, finding: Finding, project: "ProjectContext") -> Plan:
    try:
        plan = codemod.plan(finding, project)
    except Exception as exc:  # noqa: BLE001 - one codemod must not stop the others
        return Plan.skip(f"{codemod.name} failed: {type(exc).__name__}: {exc}")
    if len({edit.path for edit in plan.edits}) > 1:
        return Plan.skip(f"{codemod.name} planned edits in several files")
    return plan


def _project_of(path: str, projects: Sequence["ProjectContext"]) -> Optional["ProjectContext"]:
    """The project with the deepest root holding `path`."""
    absolute = Path(os.path.abspath(path))
    holding = [p for p in projects if _under(absolute, Path(os.path.abspath(p.root)))]
    return max(holding, key=lambda p: len(Path(p.root).parts), default=None)


def _under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def is_text_codemod(codemod: Optional[Type[Codemod]]) -> bool:
    return codemod is not None and issubclass(codemod, TextCodemod)
