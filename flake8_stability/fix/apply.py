"""The stability-fix driver: the engine's findings that name a codemod, grouped by file and
codemod, applied to each Python file parsed once with libcst.

Codemods run one after the other on the previous one's result, each on a freshly wrapped tree.
The targets' lines are carried through every earlier edit by a line map (the diff of the text
before and after it); a target on a line an earlier codemod changed, or a codemod whose edit
touches such a line, is not applied: its targets are skipped with "conflicts with <codemod>".
A file that cannot be read, decoded or parsed is skipped with a message; nothing else is
affected. The file's encoding (BOM, coding cookie), line endings and final newline are kept.

Findings whose codemod is a text codemod (requirement-file fixes, SBA2xx) go to the
requirement-file driver (`text_apply.py`): their edits land in the file that declares the
dependency, and their skips are reported at the finding's own place. Both kinds of fix come back
as `FileFix`es, shown in one diff and written the same way."""
from __future__ import annotations

import difflib
import io
import os
import tempfile
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Type

import libcst as cst
from libcst.metadata import MetadataWrapper

from ..findings import Finding
from ..project.sources import read_file
from .codemod import Codemod, Target, registry
from .file_fix import BOM, Applied, FileFix, Skip, skip_all
from .text_apply import fix_requirement_files, is_text_codemod

if TYPE_CHECKING:
    from ..context import ProjectContext


def fixable(findings: Iterable[Finding]) -> Dict[str, Dict[str, List[Finding]]]:
    """path -> codemod name -> its findings, for findings that name a codemod."""
    grouped: Dict[str, Dict[str, List[Finding]]] = {}
    for finding in findings:
        if finding.fix.codemod:
            grouped.setdefault(finding.path, {}).setdefault(finding.fix.codemod, []).append(finding)
    return grouped


def fix_files(findings: Iterable[Finding], *, unsafe: bool = False,
              projects: Sequence["ProjectContext"] = ()) -> List[FileFix]:
    """Every file with a finding that names a codemod, fixed in memory (nothing is written);
    requirement-file fixes need the `projects` the findings come from (the engine's results)."""
    codemods = registry()
    text: List[Finding] = []
    python: List[Finding] = []
    for finding in findings:
        if finding.fix.codemod:
            kind = is_text_codemod(codemods.get(finding.fix.codemod))
            (text if kind else python).append(finding)
    fixes = {path: fix_file(Path(path), by_codemod, codemods, unsafe=unsafe)
             for path, by_codemod in fixable(python).items()}
    requirement_fixes, skipped = fix_requirement_files(text, codemods, projects, unsafe=unsafe)
    fixes.update((fix.path, fix) for fix in requirement_fixes)
    for skip in skipped:
        if skip.finding.path not in fixes:  # a file with nothing but skips: left as it is
            data, _ = read_file(Path(skip.finding.path))
            fixes[skip.finding.path] = FileFix(skip.finding.path, data, data)
        fixes[skip.finding.path].skipped.append(skip)
    return [fixes[path] for path in sorted(fixes)]


def fix_file(path: Path, by_codemod: Dict[str, List[Finding]],
             codemods: Dict[str, Type[Codemod]], *, unsafe: bool = False) -> FileFix:
    """One file's fixes, codemods ordered by their first target (by name when they tie); each
    codemod sees the previous one's result."""
    data, problem = read_file(path)
    fix = FileFix(str(path), data, data)
    if problem is not None:
        return skip_all(fix, by_codemod, problem)
    if path.suffix != ".py":
        return skip_all(fix, by_codemod, "not a Python file, and its codemods edit Python code")
    try:
        return _fix_python(fix, by_codemod, codemods, unsafe)
    except RecursionError:  # libcst parses deeper trees than it can print or visit
        reason = "too deeply nested for libcst (RecursionError)"
        return skip_all(FileFix(fix.path, data, data, problem=reason), by_codemod, reason)


def _fix_python(fix: FileFix, by_codemod: Dict[str, List[Finding]],
                codemods: Dict[str, Type[Codemod]], unsafe: bool) -> FileFix:
    """`fix_file` for a readable Python file: parse, run each codemod, encode the result."""
    try:
        encoding, bom, text = _decode(fix.before)
        module = cst.parse_module(text)
    except (SyntaxError, UnicodeDecodeError, LookupError, cst.ParserSyntaxError) as exc:
        fix.problem = f"cannot be parsed by libcst: {str(exc).splitlines()[0]}"
        return skip_all(fix, by_codemod, fix.problem)
    state = _State(module)
    for name, findings in _ordered(by_codemod):
        _run_one(fix, state, name, findings, codemods.get(name), unsafe)
    if state.module.code != text:
        try:
            fix.after = (BOM if bom else b"") + state.module.code.encode(encoding)
        except UnicodeEncodeError as exc:
            fix.applied.clear()
            fix.skipped.clear()
            return skip_all(fix, by_codemod, f"the fix cannot be written in {encoding}: {exc}")
    return fix


def _ordered(by_codemod: Dict[str, List[Finding]]) -> List[Tuple[str, List[Finding]]]:
    return sorted(by_codemod.items(),
                  key=lambda item: (min(f.line for f in item[1]), item[0]))


class _State:
    """The tree so far, the map from the file's original lines to the current ones, and which
    codemod changed each line that no longer maps."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.line_map: Dict[int, int] = {n: n for n in range(1, _line_count(module.code) + 1)}
        self.touched: Dict[int, str] = {}  # current line -> the codemod that wrote it
        self.lost: Dict[int, str] = {}  # original line -> the codemod that changed it

    def locate(self, finding: Finding) -> Tuple[Optional[Target], str]:
        """The finding's target in the current text, or the codemod whose edit took its line."""
        line = self.line_map.get(finding.line)
        if line is None:
            return None, f"conflicts with {self.lost.get(finding.line, 'an earlier fix')}"
        return Target(line, finding.col, finding), ""

    def advance(self, module: cst.Module, name: str) -> Optional[str]:
        """Take the codemod's result; the codemod it conflicts with, if its edit changes a line
        an earlier one wrote (the result is then dropped)."""
        old_lines = self.module.code.splitlines(True)
        new_lines = module.code.splitlines(True)
        moved: Dict[int, int] = {}
        changed: Set[int] = set()
        matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                moved.update({i1 + k + 1: j1 + k + 1 for k in range(i2 - i1)})
                continue
            earlier = [self.touched[old] for old in range(i1 + 1, i2 + 1) if old in self.touched]
            if earlier:
                return earlier[0]
            changed.update(range(j1 + 1, j2 + 1))
        self.touched = {moved[line]: owner for line, owner in self.touched.items()
                        if line in moved}
        self.touched.update({line: name for line in changed})
        self.lost.update({orig: name for orig, cur in self.line_map.items() if cur not in moved})
        self.line_map = {orig: moved[cur] for orig, cur in self.line_map.items() if cur in moved}
        self.module = module
        return None


def _run_one(fix: FileFix, state: _State, name: str, findings: List[Finding],
             codemod: Optional[Type[Codemod]], unsafe: bool) -> None:
    """Apply one codemod to the current tree, recording what it fixed and skipped."""
    if not unsafe:  # each finding may be unsafe on its own (its rule says so), or the codemod
        gated = [f for f in findings if not f.fix.safe or (codemod is not None
                                                           and not codemod.safe)]
        fix.skipped.extend(Skip(f, name, "unsafe: applied only with --unsafe") for f in gated)
        findings = [f for f in findings if f not in gated]
        if not findings:
            return
    safe = (codemod is None or codemod.safe) and all(f.fix.safe for f in findings)
    if codemod is None:
        fix.skipped.extend(Skip(f, name, f"no codemod named {name} exists yet") for f in findings)
        return
    targets: List[Target] = []
    for finding in findings:
        target, why = state.locate(finding)
        if target is None:
            fix.skipped.append(Skip(finding, name, why))
        else:
            targets.append(target)
    if not targets:
        return
    try:
        outcome = codemod().apply(MetadataWrapper(state.module), targets)
    except Exception as exc:  # noqa: BLE001 - one codemod must not stop the others
        fix.skipped.extend(Skip(t.finding, name, f"{name} failed: {type(exc).__name__}: {exc}")
                           for t in targets)
        return
    fix.skipped.extend(Skip(t.finding, name, why) for t, why in outcome.skipped)
    new_files = [c for c in outcome.created if not Path(c.path).exists()
                 and c.path not in {known.path for known in fix.created}]
    if new_files:  # a file to create (an `__init__.py`): the module itself is unchanged
        fix.created.extend(new_files)
        fix.applied.append(Applied(name, safe, tuple(t.finding for t in outcome.fixed),
                                   tuple(outcome.notes)))
    if outcome.module.code == state.module.code:
        return
    conflict = state.advance(outcome.module, name)
    if conflict:
        fix.skipped.extend(Skip(t.finding, name, f"conflicts with {conflict}")
                           for t in outcome.fixed)
        return
    fix.applied.append(Applied(name, safe, tuple(t.finding for t in outcome.fixed),
                               tuple(outcome.notes)))


def _decode(data: bytes) -> Tuple[str, bool, str]:
    """(encoding, whether a BOM starts the file, text without the BOM), as Python reads it."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    bom = data.startswith(BOM)
    text = data[len(BOM):].decode("utf-8") if bom else data.decode(encoding)
    return ("utf-8" if bom else encoding), bom, text


def _line_count(text: str) -> int:
    return len(text.splitlines()) + 1


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file's content by `data` through a temporary file in the same folder, keeping
    its permission bits; through a symbolic link, the file it points at (the link stays)."""
    path = Path(os.path.realpath(path))
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def applied_codes(fixes: Sequence[FileFix]) -> Set[Tuple[str, int, str]]:
    """(path, line, code) of every finding a codemod fixed (where the finding is, which for a
    requirement-file fix is not the file changed)."""
    return {(finding.path, finding.line, finding.code) for f in fixes
            for applied in f.applied for finding in applied.findings}
