"""`stability-fix [PATH ...] [--diff | --write] [--select/--ignore CODES] [--unsafe] [--verify]`:
apply the mechanical fixes the audit's findings name.

`--diff` (the default) prints a unified diff and writes nothing: exit 1 when a diff was printed,
0 when there is nothing to fix. `--write` writes each changed file atomically. `--verify` applies
the fixes in a scratch copy of the project and audits (and, when possible, boots) it again; the
real tree is never touched. Usage errors exit 2 with one line.

Secrets: the diff shows the changed lines as the source has them (a password written in a URL
literal appears in that line; masking it would make the diff unappliable). Everything else the
CLI prints — headers, notes, skipped findings, the verify report — carries no source text but
the findings' own, already redacted, messages; `.env` files are never edited or printed."""
from __future__ import annotations

import argparse
import difflib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO, List, NoReturn, Optional, Sequence, Set, Tuple

from ..config import TARGET_PATTERN, find_root
from ..engine import ProjectAudit, Selection, audit
from ..findings import Finding
from ..pipes import reader_went_away
from .apply import FileFix, applied_codes, fix_files, write_atomically

USAGE_ERROR = 2
NO_NEWLINE = b"\\ No newline at end of file\n"
_BOOT_FAILURES = ("failed", "timeout", "exited")  # the probe's outcomes that mean no boot


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        options = _parser().parse_args(argv)
        return _run(options)
    except _UsageError as exc:
        print(f"stability-fix: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        return reader_went_away()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stability-fix",
                     description="Apply the mechanical fixes for the findings of stability-audit.")
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH",
                        help="project folders or files (default: the current folder)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true",
                      help="print a unified diff and write nothing (the default)")
    mode.add_argument("--write", action="store_true", help="write the fixes to the files")
    mode.add_argument("--verify", action="store_true",
                      help="apply the fixes in a scratch copy, audit (and boot) it again and "
                           "report which findings are gone")
    parser.add_argument("--select", default="SBA", metavar="CODES",
                        help="comma-separated codes or prefixes to fix (default: SBA)")
    parser.add_argument("--ignore", default="", metavar="CODES",
                        help="comma-separated codes or prefixes to leave alone")
    parser.add_argument("--unsafe", action="store_true",
                        help="also apply fixes that can change behaviour beyond the fix")
    parser.add_argument("--target", metavar="MODULE:ATTR",
                        help="the ASGI app as uvicorn is given it, e.g. src.main:app")
    parser.add_argument("--python", metavar="INTERPRETER",
                        help="the project's interpreter, whose installed versions are judged")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not reuse the findings stability-audit cached "
                             "(stability-fix only reads the cache, it never writes it)")
    return parser


def _run(options: argparse.Namespace) -> int:
    for path in options.paths:
        if not os.path.exists(path):
            raise _UsageError(f"{path}: no such file or folder")
    if options.target and not TARGET_PATTERN.fullmatch(options.target):
        raise _UsageError(f"--target must look like 'package.module:attribute', not "
                          f"{options.target!r}")
    selection = Selection(_codes(options.select) or ("SBA",), _codes(options.ignore))
    if options.verify:
        return _verify(options, selection)
    results = audit(list(options.paths), selection, python=options.python,
                    target=options.target, cache=not options.no_cache, store=False)
    fixes = fix_files(_findings(results), unsafe=options.unsafe,
                      projects=[result.project for result in results])
    if options.write:
        return _write(fixes, results)
    return _diff(fixes, results)


def _codes(text: str) -> Tuple[str, ...]:
    return tuple(code.strip().upper() for code in text.split(",") if code.strip())


def _findings(results: Sequence[ProjectAudit]) -> List[Finding]:
    return [finding for result in results for finding in result.findings]


def _shown(path: str, results: Sequence[ProjectAudit]) -> str:
    """The path relative to the current folder when under it, else to its project root."""
    absolute = Path(os.path.abspath(path))
    for base in (Path.cwd(), *(result.root for result in results)):
        try:
            return absolute.relative_to(Path(os.path.abspath(base))).as_posix()
        except ValueError:
            continue
    return absolute.as_posix()


def _diff(fixes: Sequence[FileFix], results: Sequence[ProjectAudit]) -> int:
    out = sys.stdout.buffer
    printed = False
    for fix in fixes:
        if fix.changed:
            sys.stdout.flush()
            _print_diff(out, fix, _shown(fix.path, results))
            printed = True
    out.flush()
    _report_skipped(fixes, results)
    return 1 if printed else 0


def _print_diff(out: BinaryIO, fix: FileFix, shown: str) -> None:
    """A header comment naming the codemods and notes, then the diff in the file's own bytes."""
    labels = ", ".join(applied.codemod + ("" if applied.safe else " (unsafe)")
                       for applied in fix.applied)
    out.write(_bytes(f"# stability-fix: {shown}: {labels}\n"))
    for note in _notes(fix):
        out.write(_bytes(f"# note: {note}\n"))
    lines = difflib.diff_bytes(difflib.unified_diff, fix.before.splitlines(True),
                               fix.after.splitlines(True), _bytes(f"a/{shown}"),
                               _bytes(f"b/{shown}"))
    for line in lines:
        out.write(line if line.endswith(b"\n") else line + b"\n" + NO_NEWLINE)
    for created in fix.created:
        new = _shown(created.path, ())
        out.write(_bytes(f"# stability-fix: create {new}"
                         f"{'' if created.content else ' (empty)'}\n--- /dev/null\n+++ b/{new}\n"))
        body = created.content.splitlines(True)
        if body:
            out.write(f"@@ -0,0 +1,{len(body)} @@\n".encode())
            out.write(b"".join(b"+" + line.encode() for line in body))


def _bytes(text: str) -> bytes:
    """Text with paths in it, as bytes: a file name that is not UTF-8 keeps its own bytes."""
    return text.encode("utf-8", "surrogateescape")


def _notes(fix: FileFix) -> List[str]:
    return list(dict.fromkeys(note for applied in fix.applied for note in applied.notes))


def _report_skipped(fixes: Sequence[FileFix], results: Sequence[ProjectAudit]) -> None:
    """On stderr: files the audit could not read or parse, and findings left unfixed."""
    for result in results:
        for problem in result.problems:
            print(f"stability-fix: skipped {_shown(problem.path, results)}: {problem.message}",
                  file=sys.stderr)
    for fix in fixes:
        shown = _shown(fix.path, results)
        for skip in fix.skipped:
            print(f"stability-fix: skipped {skip.finding.code} at {shown}:{skip.finding.line} "
                  f"({skip.codemod}): {skip.reason}", file=sys.stderr)


def _write(fixes: Sequence[FileFix], results: Sequence[ProjectAudit]) -> int:
    written = 0
    for fix in fixes:
        if not fix.changed:
            continue
        shown = _shown(fix.path, results)
        if fix.after != fix.before:
            write_atomically(Path(fix.path), fix.after)
            written += 1
        for created in fix.created:
            if not Path(created.path).exists():
                write_atomically(Path(created.path), created.content.encode("utf-8"))
                written += 1
                print(f"created {_shown(created.path, results)}")
        fixed = sum(len(applied.findings) for applied in fix.applied)
        codemods = ", ".join(applied.codemod for applied in fix.applied)
        print(f"fixed {shown}: {fixed} finding(s) by {codemods}")
        for note in _notes(fix):
            print(f"  note: {note}")
    _report_skipped(fixes, results)
    print(f"{written} file(s) written" if written else "nothing to fix")
    return 0


def _verify(options: argparse.Namespace, selection: Selection) -> int:
    """Fix a scratch copy of each project, then audit (and boot) the copy again."""
    roots = sorted({find_root(Path(path)) for path in options.paths})
    status = 0
    for root in roots:
        with tempfile.TemporaryDirectory(prefix="stability-fix-") as scratch:
            copy = Path(scratch) / root.name
            shutil.copytree(root, copy, symlinks=True, ignore=_not_copied,
                            copy_function=_copy_if_readable)
            status = max(status, _verify_copy(copy, root, options, selection))
    return status


_NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "__pycache__")


def _not_copied(folder: str, names: List[str]) -> Set[str]:
    """What the scratch copy leaves out: VCS data, the virtualenv, caches, and FIFOs, sockets
    and devices (copying a FIFO fails, or blocks)."""
    left_out = set(_NOT_COPIED(folder, names))
    for name in names:
        path = os.path.join(folder, name)
        if not (os.path.islink(path) or os.path.isdir(path) or os.path.isfile(path)):
            left_out.add(name)
    return left_out


def _copy_if_readable(source: str, target: str) -> None:
    """Copy one file to the scratch copy; one that cannot be read is left out (the audit of the
    real tree reports it)."""
    try:
        shutil.copy2(source, target)
    except OSError:
        pass


def _verify_copy(copy: Path, root: Path, options: argparse.Namespace,
                 selection: Selection) -> int:
    before = audit([copy], selection, python=options.python, target=options.target)
    fixes = fix_files(_findings(before), unsafe=options.unsafe,
                      projects=[result.project for result in before])
    for fix in fixes:
        if fix.changed:
            write_atomically(Path(fix.path), fix.after)
    after = audit([copy], selection, python=options.python, target=options.target)
    fixed = applied_codes(fixes)
    remaining = {_key(f) for f in _findings(after)}
    gone = sorted(fixed - remaining)
    still = sorted(fixed & remaining)
    new = sorted(_new_findings(_findings(before), _findings(after), fixes))
    print(f"verify {root}: {len(fixed)} finding(s) fixed in a scratch copy")
    for path, line, code in gone:
        print(f"  gone: {code} {_relative(path, copy)}:{line}")
    for path, line, code in still:
        print(f"  still reported: {code} {_relative(path, copy)}:{line}")
    for code, path, message in new:
        print(f"  new: {code} {_relative(path, copy)}: {message}")
    booted = _boot(after)
    for line in booted:
        print(f"  boot: {line}")
    failed = any(line.startswith(_BOOT_FAILURES) for line in booted)
    return 1 if still or new or failed else 0


def _key(finding: Finding) -> Tuple[str, int, str]:
    return finding.path, finding.line, finding.code


def _new_findings(before: Sequence[Finding], after: Sequence[Finding],
                  fixes: Sequence[FileFix]) -> Set[Tuple[str, str, str]]:
    """Findings in a fixed file of a code that file did not have before the fix."""
    changed = {fix.path for fix in fixes if fix.changed}
    before_codes = {(f.path, f.code) for f in before}
    return {(f.code, f.path, f.message) for f in after
            if f.path in changed and (f.path, f.code) not in before_codes}


def _relative(path: str, copy: Path) -> str:
    try:
        return Path(path).relative_to(copy).as_posix()
    except ValueError:
        return path


def _boot(results: Sequence[ProjectAudit]) -> List[str]:
    """The boot probe's outcome for each fixed copy (redacted), when the probe is available."""
    try:
        from ..boot import probe
    except ImportError:
        return []
    outcomes = []
    for result in results:
        booted = probe(result.project, timeout=30.0)
        detail = f" ({booted.reason})" if booted.reason else ""
        error = f": {booted.error.short_type}: {booted.error.message}" if booted.error else ""
        outcomes.append(f"{booted.outcome} in phase {booted.phase}{detail}{error}")
    return outcomes


if __name__ == "__main__":
    sys.exit(main())
