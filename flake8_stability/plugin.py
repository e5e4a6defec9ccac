"""The flake8 door: `flake8 --select SBA`. Never raises: an internal error in one rule is one
line on stderr, and every other rule still reports."""
from __future__ import annotations

import ast
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, FrozenSet, Iterator, List, Optional, Sequence, Tuple

from . import __version__
from .cache.lint import LintEntry, Reported
from .cache.project import ProjectCache
from .config import NO_MARKER, find_root, has_marker, load_config
from .context import ModuleContext, ProjectContext
from .project.gc_pause import paused_gc
from .rules import Rule, all_rules

Result = Tuple[int, int, str, type]


@lru_cache(maxsize=32)
def project_for(root: Path, python: Optional[str]) -> Tuple[ProjectContext,
                                                            Optional[ProjectCache]]:
    """One project context per root and interpreter, shared by every file of the process, and
    its on-disk cache (silent: an unwritable folder just means no cache)."""
    config = load_config(root).merged(python=python)
    for problem in config.problems:
        _warn(problem)
    if not has_marker(root):
        _warn(f"{root}: {NO_MARKER}")
    project = ProjectContext(root, config)
    cache = ProjectCache.open(project)
    if config.python and project.environment.error:
        _warn(f"{root}: the configured interpreter is unusable, versions are unknown: "
              f"{project.environment.error}")
    return project, cache


class StabilityChecker:
    name = "flake8-stability"
    version = __version__

    python_option: ClassVar[Optional[str]] = None
    # Off-by-default rules the user named (`--extend-select SBA603`; a bare `SBA` is not enough).
    opted_in: ClassVar[FrozenSet[str]] = frozenset()

    def __init__(self, tree: ast.Module, filename: str, lines: Sequence[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option(
            "--stability-python",
            parse_from_config=True,
            default=None,
            help="Interpreter of the project's environment, whose installed versions the "
            "SBA rules judge (default: .venv/bin/python under the project root, else "
            "$VIRTUAL_ENV, else the interpreter running flake8).",
        )
        parser.extend_default_ignore([r.code for r in all_rules() if not r.enabled_by_default])

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls.python_option = getattr(options, "stability_python", None)
        named = [*(getattr(options, "select", None) or ()),
                 *(getattr(options, "extend_select", None) or ())]
        cls.opted_in = frozenset(
            rule.code for rule in all_rules() if not rule.enabled_by_default
            and any(len(prefix) > len("SBA") and rule.code.startswith(prefix) for prefix in named))

    def run(self) -> Iterator[Result]:
        rules = [rule for rule in _instances()
                 if rule.enabled_by_default or rule.code in self.opted_in]
        entry = self._cache_entry(rules)
        reported = entry.read() if entry is not None else None
        if reported is None:
            with paused_gc():  # the analyses build many objects that live on with the model
                reported, complete = self._check(rules)
            if entry is not None and complete:
                entry.write(reported)
        for line, col, text in reported:
            yield line, col, text, type(self)

    def _cache_entry(self, rules: List[Rule]) -> Optional[LintEntry]:
        try:
            cache = project_for(find_root(Path(self.filename)), self.python_option)[1]
            if cache is None:
                return None
            return LintEntry(cache, [rule.code for rule in rules], self.filename,
                             "".join(self.lines))
        except Exception as exc:  # noqa: BLE001 - the plugin must never break a lint run
            _warn(f"{self.filename}: the cache is not used ({type(exc).__name__}: {exc})")
            return None

    def _check(self, rules: List[Rule]) -> Tuple[List[Reported], bool]:
        """What the rules report on this file, and whether every rule could run."""
        module = self._module()
        if module is None:
            return [], False
        reported: List[Reported] = []
        complete = True
        for rule in rules:
            if rule.applies_to(module):
                found = self._run_rule(rule, module)
                complete = complete and found is not None
                reported.extend(found or ())
        return reported, complete

    def _module(self) -> Optional[ModuleContext]:
        try:
            root = find_root(Path(self.filename))
            project = project_for(root, self.python_option)[0]
            return project.context_for(self.filename, self.lines, self.tree)
        except Exception as exc:  # noqa: BLE001 - the plugin must never break a lint run
            _warn(f"{self.filename}: could not prepare the file ({type(exc).__name__}: {exc})")
            return None

    def _run_rule(self, rule: Rule, module: ModuleContext) -> Optional[List[Reported]]:
        """The rule's findings in this file; None when it failed."""
        try:
            findings = list(rule.check_module(module))
        except (Exception, RecursionError) as exc:  # noqa: BLE001
            _warn(f"{self.filename}: internal error in {rule.code} ({rule.name}), its findings "
                  f"for this file are missing: {type(exc).__name__}: {exc}")
            return None
        return [(finding.line, finding.col, finding.flake8_text()) for finding in findings
                if module.is_file(finding.path)]


@lru_cache(maxsize=1)
def _instances() -> List[Rule]:
    return [rule() for rule in all_rules()]


def _warn(message: str) -> None:
    # One write per line: flake8's --jobs workers share stderr.
    sys.stderr.write(f"flake8-stability: {message}\n")
