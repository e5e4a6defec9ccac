"""`stability-audit [PATH ...]`: the Audit Report of a backend. Exit codes: 1 when a blocking
finding remains (after --select/--ignore/--severity/--baseline), 0 otherwise, 2 for usage errors
or an unreadable PATH — each with a one-line message, never a traceback."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from ..config import TARGET_PATTERN
from ..engine import ProjectAudit, Selection, audit
from ..findings import Severity
from ..pipes import reader_went_away
from .baseline import BaselineError, apply_baseline, write_baseline
from .formats import FORMATS
from .formats.dot import render_dot
from .progress import ProgressBar
from .report import Report, build_report

USAGE_ERROR = 2


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    try:
        return _run(options)
    except _UsageError as exc:
        print(f"stability-audit: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BaselineError as exc:
        print(f"stability-audit: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        return reader_went_away()


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stability-audit",
        description="Audit a FastAPI + SQLModel/SQLAlchemy backend for everything that stops it "
                    "from booting: where, why, and the exact fix.")
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH",
                        help="project folders or files (default: the current folder)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text",
                        help="text (default), markdown, json, sarif (code scanning) or github "
                             "(GitHub Actions annotations)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument("--select", default="SBA", metavar="CODES",
                        help="comma-separated codes or prefixes to report (default: SBA)")
    parser.add_argument("--ignore", default="", metavar="CODES",
                        help="comma-separated codes or prefixes to leave out")
    parser.add_argument("--severity", choices=[s.value for s in Severity], default="warning",
                        help="the least severe findings to report (default: warning, i.e. all)")
    parser.add_argument("--target", metavar="MODULE:ATTR",
                        help="the ASGI app as uvicorn is given it, e.g. src.main:app")
    parser.add_argument("--python", metavar="INTERPRETER",
                        help="the project's interpreter, whose installed versions are judged")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="report only findings not recorded in FILE (recorded on first use)")
    parser.add_argument("--update-baseline", action="store_true",
                        help="record the current findings in the --baseline FILE")
    parser.add_argument("--graph-dot", type=Path, metavar="FILE",
                        help="also write the import graph as Graphviz DOT to FILE")
    parser.add_argument("--boot", action="store_true",
                        help="also boot the app in a subprocess (imports it and runs its "
                             "startup: this executes project code) to confirm the findings")
    parser.add_argument("--boot-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="time allowed for each boot phase (default: 30)")
    parser.add_argument("--boot-get", metavar="PATH",
                        help="with --boot, also send GET PATH to the app in-process, e.g. /health")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the cache of earlier runs "
                             "(.stability_cache/ under the project root)")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when blocking findings remain")
    return parser


def _run(options: argparse.Namespace) -> int:
    for path in options.paths:
        if not os.path.exists(path):
            raise _UsageError(f"{path}: no such file or folder")
        if not os.access(path, os.R_OK):
            raise _UsageError(f"{path}: not readable")
    if options.target and not TARGET_PATTERN.fullmatch(options.target):
        raise _UsageError(f"--target must look like 'package.module:attribute', not "
                          f"{options.target!r}")
    if options.boot_timeout <= 0:
        raise _UsageError(f"--boot-timeout must be a positive number of seconds, not "
                          f"{options.boot_timeout:g}")
    if options.boot_get and (not options.boot or not options.boot_get.startswith("/")):
        raise _UsageError("--boot-get needs --boot and a path starting with '/'")
    if options.update_baseline and not options.baseline:
        raise _UsageError("--update-baseline needs --baseline FILE")
    for output in (options.output, options.graph_dot):
        _check_writable(output)
    selection = Selection(_codes(options.select) or ("SBA",), _codes(options.ignore))
    bar = ProgressBar.for_stream(sys.stderr)
    try:
        results = audit([Path(p) for p in options.paths], selection, python=options.python,
                        target=options.target, progress=bar, cache=not options.no_cache)
    finally:
        if bar is not None:
            bar.close()
    report = build_report(results)
    if options.boot:
        _boot(report, results, options)
    _keep_severity(report, Severity(options.severity))
    _baseline(report, options)
    report.exit_code = 0 if options.exit_zero or report.boots else 1
    colour = options.output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    _write(FORMATS[options.format](report, colour), options.output)
    if options.graph_dot:
        _write(render_dot(report), options.graph_dot)
    return report.exit_code


def _boot(report: Report, results: Sequence[ProjectAudit], options: argparse.Namespace) -> None:
    """Boot each project's app and join what happened with its findings."""
    from ..boot import correlate, probe

    for project, result in zip(report.projects, results):
        booted = probe(result.project, timeout=options.boot_timeout, get_path=options.boot_get)
        project.findings = correlate(project, booted)
        project.boot = booted.to_dict()
    report.notes.append("--boot executed the project's code (import and startup) in a "
                        "subprocess")


def _codes(text: str) -> tuple:
    return tuple(code.strip().upper() for code in text.split(",") if code.strip())


def _keep_severity(report: Report, least: Severity) -> None:
    for project in report.projects:
        project.findings = [f for f in project.findings if f.severity.rank <= least.rank]


def _baseline(report: Report, options: argparse.Namespace) -> None:
    path: Optional[Path] = options.baseline
    if path is None:
        return
    if options.update_baseline or not path.exists():
        count = write_baseline(report, path)
        report.notes.append(f"baseline {path} records {count} finding(s); later runs report "
                            f"only new ones")
        for project in report.projects:
            project.findings = []
        return
    hidden, gone = apply_baseline(report, path)
    report.notes.append(f"baseline {path}: {hidden} known finding(s) not shown"
                        + (f"; {gone} recorded finding(s) are fixed" if gone else ""))


def _check_writable(path: Optional[Path]) -> None:
    """Fail before the audit, not after it, when an output file cannot be written."""
    if path is None:
        return
    if path.is_dir():
        raise _UsageError(f"cannot write {path}: it is a folder")
    if not path.resolve().parent.is_dir():
        raise _UsageError(f"cannot write {path}: no folder {path.parent}")


def _write(text: str, output: Optional[Path]) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        # surrogateescape: a file name that is not UTF-8 is written as its own bytes
        output.write_text(text, encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise _UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


if __name__ == "__main__":
    sys.exit(main())
