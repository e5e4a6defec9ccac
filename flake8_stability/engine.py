"""The engine every door but flake8 runs: all selected rules over every Python file of the
projects under the given paths, each project read once, with the same configuration
(`[tool.flake8-stability]`) the flake8 plugin uses. Findings whose fix belongs in a file that is
not Python (a requirement line, a `.env` key) are kept, not mirrored.

Never raises for bad input: unreadable or unparsable files become `FileProblem`s, a rule that
fails becomes one line in `errors`, and the other rules still report."""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .cache.audit import AuditRecord, read_audit, write_audit
from .cache.project import ProjectCache
from .config import NO_MARKER, find_root, has_marker, load_config
from .context import ModuleContext, ProjectContext
from .findings import Finding
from .project.files import python_files
from .project.gc_pause import paused_gc
from .project.sources import read_source
from .rules import Rule, all_rules
from .rules.base import ProjectRule

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
                   re.IGNORECASE)
Progress = Callable[[int, int], None]  # (files done, files in all)


@dataclass(frozen=True)
class Selection:
    """Which codes run, as flake8 reads `--select`/`--ignore`: prefixes, the longest match
    wins; a rule that is off by default runs only when a prefix longer than `SBA` names it."""

    select: Tuple[str, ...] = ("SBA",)
    ignore: Tuple[str, ...] = ()

    def wants(self, rule: Rule) -> bool:
        chosen = _longest(rule.code, self.select)
        if chosen is None or len(_longest(rule.code, self.ignore) or "") >= len(chosen):
            return False
        return rule.enabled_by_default or len(chosen) > len("SBA")


def _longest(code: str, prefixes: Iterable[str]) -> Optional[str]:
    matching = [prefix for prefix in prefixes if code.startswith(prefix)]
    return max(matching, key=len) if matching else None


@dataclass(frozen=True)
class FileProblem:
    path: str
    message: str


@dataclass
class ProjectAudit:
    """The result for one project root."""

    root: Path
    project: ProjectContext
    files: List[str] = field(default_factory=list)  # the Python files audited
    findings: List[Finding] = field(default_factory=list)
    problems: List[FileProblem] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)  # rules that failed, one line each
    cache: Optional[ProjectCache] = None  # None when the cache is off


def audit(paths: Sequence[Path], selection: Selection = Selection(), *,
          python: Optional[str] = None, target: Optional[str] = None,
          progress: Optional[Progress] = None, cache: bool = False,
          store: bool = True) -> List[ProjectAudit]:
    """Audit every project under `paths` (folders or files); one result per project root.
    With `cache` (the doors' default, not the API's: a caller that patches a rule must not be
    given the unpatched rule's findings), a project whose inputs are unchanged since an earlier
    run is not analysed again, unless its configuration says `cache = false`; with `store`,
    what this run computes is kept for the next one."""
    groups = _group_by_root(paths)
    rules = [rule() for rule in all_rules() if selection.wants(rule)]
    total = sum(len(files) for files in groups.values())
    done = 0
    results = []
    warn = _warn_once()
    for root, files in groups.items():
        config = load_config(root).merged(python=python, target=target,
                                          cache=None if cache else False)
        project = ProjectContext(root, config)
        result = ProjectAudit(root, project, [str(path) for path in files],
                              cache=ProjectCache.open(project, warn, read_only=not store))
        pyproject = root / "pyproject.toml"
        result.problems.extend(FileProblem(str(pyproject), _without_prefix(problem, pyproject))
                               for problem in config.problems)
        if not has_marker(root):
            result.problems.append(FileProblem(str(root), NO_MARKER))
        codes = [rule.code for rule in rules]
        record = read_audit(result.cache, codes, result.files) if result.cache else None
        if record is None:
            start = len(result.problems)
            with paused_gc():  # the analyses build many objects that live until the report
                _run_project(result, files, rules, _ticker(progress, done, total))
            if result.cache and not result.errors:
                write_audit(result.cache, codes, result.files, AuditRecord(
                    result.findings, [(p.path, p.message) for p in result.problems[start:]]))
        else:
            result.findings = record.findings
            result.problems.extend(FileProblem(path, message) for path, message in record.problems)
        done += len(files)
        if progress:
            progress(done, total)
        results.append(result)
    return results


def _without_prefix(problem: str, path: Path) -> str:
    """The configuration's problem without the path it starts with (the report shows it)."""
    prefix = f"{path}: "
    return problem[len(prefix):] if problem.startswith(prefix) else problem


def _ticker(progress: Optional[Progress], done: int, total: int) -> Callable[[], object]:
    """Reports one more file done to `progress` on each call, counting on from `done`."""
    count = [done]

    def tick() -> None:
        count[0] += 1
        if progress:
            progress(count[0], total)

    return tick


def _warn_once() -> Callable[[str], None]:
    """One line on stderr for the first message of a run, nothing for the others."""
    said: List[str] = []

    def warn(message: str) -> None:
        if not said:
            said.append(message)
            sys.stderr.write(f"flake8-stability: {message}\n")

    return warn


def _group_by_root(paths: Sequence[Path]) -> Dict[Path, List[Path]]:
    groups: Dict[Path, List[Path]] = {}
    for path in paths:
        root = find_root(path)
        files = python_files(path)[0] if path.is_dir() else [path]
        groups.setdefault(root, [])
        groups[root].extend(Path(os.path.abspath(file)) for file in files)
    return {root: sorted(set(files)) for root, files in groups.items()}


def _run_project(result: ProjectAudit, files: List[Path], rules: List[Rule],
                 tick: Callable[[], object]) -> None:
    project = result.project
    wanted = {str(path) for path in files}
    contexts: List[ModuleContext] = []
    for path in files:
        source = project.source_of(path)
        if source.tree is None:
            result.problems.append(FileProblem(str(path), source.problem or "cannot be parsed"))
            continue
        try:
            contexts.append(project.context_for(str(path), source.lines, source.tree))
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the audit
            result.problems.append(FileProblem(str(path), f"could not be prepared: {exc}"))
        tick()
    for info_path, problem in _model_problems(project, wanted):
        result.problems.append(FileProblem(info_path, problem))
    result.problems.extend(_dependency_problems(project))
    result.problems.extend(_env_problems(project))
    seen: Set[Tuple[str, int, int, str, str]] = set()
    for rule in rules:
        for finding in _findings_of(rule, contexts, wanted, result.errors):
            key = (finding.path, finding.line, finding.col, finding.code, finding.message)
            if key not in seen and not _suppressed(finding):
                seen.add(key)
                result.findings.append(finding)
    result.findings.sort(key=lambda f: (f.severity.rank, f.path, f.line, f.col, f.code))


def _findings_of(rule: Rule, contexts: List[ModuleContext], wanted: Set[str],
                 errors: List[str]) -> Iterable[Finding]:
    """A per-file rule on each file; a project rule once, keeping its findings in the audited
    files and in files that are not Python (requirement files, `.env`)."""
    if isinstance(rule, ProjectRule):
        if not contexts:
            return
        try:
            found = contexts[0].project.project_findings(rule, contexts[0])
        except (Exception, RecursionError) as exc:  # noqa: BLE001
            errors.append(_error(rule, "the project", exc))
            return
        for finding in found:
            path = os.path.abspath(finding.path)
            if path in wanted or not path.endswith(".py"):
                yield replace(finding, path=path)
        return
    for module in contexts:
        if not rule.applies_to(module):
            continue
        try:
            found = list(rule.check_module(module))
        except (Exception, RecursionError) as exc:  # noqa: BLE001
            errors.append(_error(rule, module.path, exc))
            continue
        yield from (finding for finding in found if module.is_file(finding.path))


def _model_problems(project: ProjectContext, wanted: Set[str]) -> Iterable[Tuple[str, str]]:
    """Files of the project model that could not be read, outside the audited files (those
    are reported already) — they still matter: the app may import them."""
    try:
        problems = project.model.problems
    except Exception:  # noqa: BLE001 - reported through the rules' errors instead
        return
    for path, problem in problems:
        if str(Path(os.path.abspath(path))) not in wanted:
            yield str(path), problem


def _dependency_problems(project: ProjectContext) -> Iterable[FileProblem]:
    """Requirement and pyproject.toml entries that could not be read: what they declare is
    missing from the manifest and from the dependency rules."""
    try:
        problems = project.declared.problems
    except Exception:  # noqa: BLE001 - reported through the rules' errors instead
        return
    for problem in problems:
        yield FileProblem(str(problem.path), f"line {problem.line}: {problem.message}")


def _env_problems(project: ProjectContext) -> Iterable[FileProblem]:
    """`.env` files the app's environment comes from that python-dotenv cannot read."""
    try:
        files = project.env_sources.files
    except Exception:  # noqa: BLE001 - reported through the rules' errors instead
        return
    yield from (FileProblem(str(found.path), found.problem) for found in files if found.problem)


def _error(rule: Rule, where: str, exc: BaseException) -> str:
    return (f"internal error in {rule.code} ({rule.name}) on {where}, its findings are missing: "
            f"{type(exc).__name__}: {exc}")


def _suppressed(finding: Finding) -> bool:
    """`# noqa` or `# noqa: SBA302` on the finding's line of a Python file, as flake8 reads it."""
    if not finding.path.endswith(".py"):
        return False
    line = _line_of(finding.path, finding.line)
    match = _NOQA.search(line) if line else None
    if match is None:
        return False
    codes = match.group("codes")
    return codes is None or any(finding.code.startswith(code.upper())
                                for code in re.split(r"[,\s]+", codes) if code)


def _line_of(path: str, number: int) -> str:
    source = read_source(Path(path))
    lines = source.lines
    return lines[number - 1] if 0 < number <= len(lines) else ""
