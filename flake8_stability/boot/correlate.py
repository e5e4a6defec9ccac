"""Join what the boot probe saw with what the static rules predicted.

The failure is located at its innermost project frame (a file under the project root, outside
any virtualenv or site-packages). A static finding there, or in a file of the traceback with a
code the failure's message is known to come from, is `confirmed: true`. Blocking findings in
modules the app imported, when the app booted past startup, are `confirmed: false`. Routers said
to be unreachable (SBA403) are checked against the real route list. A failure no finding explains
becomes SBA001 (import), SBA002 (startup), SBA003 (timeout) or SBA004 (OpenAPI)."""
from __future__ import annotations

import ast
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, Set, Tuple

from ..analysis.urls import redact
from ..findings import Category, Finding, Fix, Location, Severity
from ..probes import boot as boot_script
from . import known
from .result import EXITED, FAILED, NOT_RUN, TIMEOUT, BootResult, Frame

if TYPE_CHECKING:
    from ..audit.report import ProjectReport

_OUTSIDE = frozenset({"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox",
                      "__pypackages__", "node_modules"})
_UNREACHABLE_ROUTER = "SBA403"
_MAX_SHOWN = 300
Place = Tuple[str, int, str]  # relative path, line, function


def correlate(report: "ProjectReport", result: BootResult) -> List[Finding]:
    """The report's findings with `confirmed` set from the boot, plus an SBA0xx finding for a
    failure no static finding explains (worst first, as the engine orders them)."""
    findings = list(report.findings)
    if result.outcome == NOT_RUN:
        return findings
    root = Path(os.path.abspath(report.root))
    places = _project_places(_failure_frames(result), root)
    texts = _texts(result)
    confirmed = _confirmed(findings, places, texts) if _failed(result) else set()
    for index in confirmed:
        findings[index] = replace(findings[index], confirmed=True)
    if result.reached("startup"):
        _contradict(findings, result, root)
    if result.routes is not None:
        _check_routers(findings, result, root)
    if _failed(result) and not confirmed:
        extra = _unexplained(result, places, texts, root)
        if extra is not None:
            findings.append(extra)
    findings.sort(key=lambda f: (f.severity.rank, f.path, f.line, f.col, f.code))
    return findings


def _failed(result: BootResult) -> bool:
    return result.outcome in (FAILED, TIMEOUT, EXITED)


def _failure_frames(result: BootResult) -> Tuple[Frame, ...]:
    """The frames of the failure, outermost first: the raised exception's, then its chain's."""
    if result.outcome == FAILED and result.error is not None:
        frames: List[Frame] = []
        for link in reversed(result.error.every()):
            frames.extend(link.frames)
        return tuple(frames)
    return result.frames


def _in_project(file: str, root: Path) -> bool:
    if not file or file.startswith("<") or os.path.abspath(file) == boot_script.__file__:
        return False
    path = Path(os.path.abspath(file))
    try:
        inside = path.relative_to(root).parts
    except ValueError:
        return False
    return not _OUTSIDE.intersection(inside)


def _project_places(frames: Sequence[Frame], root: Path) -> List[Place]:
    places: List[Place] = []
    for frame in frames:
        if _in_project(frame.file, root):
            relative = Path(os.path.abspath(frame.file)).relative_to(root).as_posix()
            places.append((relative, frame.line, frame.function))
    return places


def _texts(result: BootResult) -> List[str]:
    if result.error is None:
        return []
    return [f"{link.type}: {link.message}" for link in result.error.every()]


def _confirmed(findings: Sequence[Finding], places: Sequence[Place],
               texts: Sequence[str]) -> Set[int]:
    """Indexes of the findings the failure bears out."""
    if not places:
        return set()
    hinted = {code for entry in known.matches(texts) for code in entry.codes}
    at = {(path, line) for path, line, _ in places}
    files = {path for path, _, _ in places}
    innermost = places[-1][:2]
    found = set()
    for index, finding in enumerate(findings):
        spots = {(finding.path, finding.line)} | {(loc.path, loc.line) for loc in finding.related}
        if finding.code in hinted and (spots & at or finding.path in files):
            found.add(index)
        elif innermost in spots and finding.severity is not Severity.WARNING:
            found.add(index)
    return found


def _contradict(findings: List[Finding], result: BootResult, root: Path) -> None:
    """Blocking findings in modules the app imported, though it booted past startup."""
    loaded = {Path(path).resolve() for path in result.loaded}
    for index, finding in enumerate(findings):
        if finding.severity is not Severity.BLOCKING or finding.confirmed is not None:
            continue
        if finding.path.endswith(".py") and (root / finding.path).resolve() in loaded:
            findings[index] = replace(finding, confirmed=False)


def _check_routers(findings: List[Finding], result: BootResult, root: Path) -> None:
    """An SBA403 router is mounted when one of its endpoints is in the real route list."""
    endpoints = {(os.path.realpath(r.file), r.line) for r in result.routes or () if r.file}
    for index, finding in enumerate(findings):
        if finding.code != _UNREACHABLE_ROUTER or finding.confirmed is not None:
            continue
        path = root / finding.path
        mine = _router_endpoints(path, finding.line)
        if mine:
            real = os.path.realpath(path)
            mounted = any((real, line) in endpoints for line in mine)
            findings[index] = replace(finding, confirmed=not mounted)


def _router_endpoints(path: Path, line: int) -> Set[int]:
    """Lines (decorator and `def`) of the functions decorated `@<router>.<verb>(...)`, where
    `<router>` is the name assigned on `line`."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return set()
    names = {target.id for node in ast.walk(tree)
             if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.lineno == line
             for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
             if isinstance(target, ast.Name)}
    lines: Set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            call = decorator.func if isinstance(decorator, ast.Call) else decorator
            owner = call.value if isinstance(call, ast.Attribute) else None
            if isinstance(owner, ast.Name) and owner.id in names:
                lines |= {node.lineno, node.decorator_list[0].lineno}
    return lines


# --- Unexplained failures --------------------------------------------------------------------

_CODES = {"import": "SBA001", "attribute": "SBA001", "startup": "SBA002", "openapi": "SBA004"}


def _code(result: BootResult) -> Optional[Tuple[str, Severity]]:
    """The SBA0xx code and severity for a failure no finding explains; None for a request."""
    phase = result.phase
    booted = phase not in ("import", "attribute", "startup")
    if result.outcome == TIMEOUT:
        return "SBA003", Severity.RUNTIME if booted else Severity.BLOCKING
    if phase == "openapi":
        return "SBA004", Severity.RUNTIME
    if phase in ("routes", "shutdown"):
        return "SBA002", Severity.WARNING
    code = _CODES.get(phase)
    return (code, Severity.BLOCKING) if code else None


def _unexplained(result: BootResult, places: Sequence[Place], texts: Sequence[str],
                 root: Path) -> Optional[Finding]:
    chosen = _code(result)
    if chosen is None:
        return None
    code, severity = chosen
    path, line = places[-1][:2] if places else _fallback_place(result, root)
    related = tuple(Location(p, n, 0, f"in {function}") for p, n, function in places[:-1])
    return Finding(code=code, severity=severity, category=Category.BOOT, path=path, line=line,
                   col=0, message=_message(result, code), root_cause=_root_cause(result, places),
                   fix=Fix(_fix(result, texts, places)), related=related)


def _fallback_place(result: BootResult, root: Path) -> Tuple[str, int]:
    """The target module at its attribute's assignment, else the project's pyproject.toml."""
    if result.target_file and _in_project(result.target_file, root):
        relative = Path(os.path.abspath(result.target_file)).relative_to(root).as_posix()
        attribute = (result.target or ":").split(":", 1)[1].split(".")[0]
        return relative, _assignment_line(Path(result.target_file), attribute)
    return "pyproject.toml", 1


def _assignment_line(path: Path, name: str) -> int:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return 1
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return node.lineno
    return 1


def _error_line(result: BootResult) -> str:
    if result.error is None:
        return ""
    first = (result.error.message.strip().splitlines() or [""])[0]
    text = f"{result.error.short_type}: {first}" if first else result.error.short_type
    return redact(text)[:_MAX_SHOWN]


def _message(result: BootResult, code: str) -> str:
    target = result.target or "the app"
    if result.outcome == TIMEOUT:
        return f"{target} did not finish {result.phase} within {result.timeout:g}s"
    if result.outcome == EXITED:
        code_text = f" with code {result.exit_code}" if result.exit_code is not None else ""
        how = f" ({result.exit_how})" if result.exit_how else ""
        return f"{target} exited{code_text} during {result.phase}{how}"
    if code == "SBA004":
        return f"building the OpenAPI schema of {target} failed: {_error_line(result)}"
    doing = {"import": "importing", "attribute": "resolving", "startup": "starting"}.get(
        result.phase, f"{result.phase} of")
    return f"{doing} {target} failed: {_error_line(result)}"


def _root_cause(result: BootResult, places: Sequence[Place]) -> str:
    where = (f" The innermost project frame is {places[-1][0]}:{places[-1][1]} in "
             f"{places[-1][2]}." if places else " No frame of the project is involved.")
    ran = (f"The boot probe ran {result.target} with {result.interpreter} from "
           f"{result.working_dir} and stopped during {result.phase}: {result.describe()}.")
    if result.error is not None:
        chain = " <- ".join(redact(f"{link.short_type}: {link.message.strip()}")[:_MAX_SHOWN]
                            for link in result.error.every())
        ran += f" Raised: {chain}."
    if result.outcome == TIMEOUT:
        ran += " The frames show where it was waiting when the deadline passed."
    return ran + where + " No static rule of this report predicted it."


def _fix(result: BootResult, texts: Sequence[str], places: Sequence[Place]) -> str:
    hint = known.hint_for(texts)
    if hint:
        return hint[0].upper() + hint[1:] + "."
    if result.outcome == TIMEOUT:
        return ("Do not block at import or in the lifespan: give network calls a timeout "
                "(e.g. connect_args={'timeout': 5}), move waiting work to a background task, "
                "and keep loops out of module level.")
    if result.outcome == EXITED:
        return ("Do not call sys.exit()/os._exit() while the app is imported or started: raise "
                "an exception with the reason instead, so the server reports it.")
    where = f" at {places[-1][0]}:{places[-1][1]}" if places else ""
    module, _, attribute = (result.target or "main:app").partition(":")
    steps = {"import": f"import {module}", "attribute": f"from {module} import {attribute}",
             "openapi": f"from {module} import {attribute}; {attribute}.openapi()"}
    step = steps.get(result.phase, f"import {module}")
    return (f"Fix the exception raised{where}; reproduce it with `python -c \"{step}\"` from "
            f"{result.working_dir}.")
