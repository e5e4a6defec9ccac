"""Helpers for the codemod tests of tests/fix/: write a small project, audit it with the real
engine, apply one codemod to every file its findings point at, and import the result with the
real libraries in a clean subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple, Type

import libcst as cst

import example_projects

from flake8_stability.engine import Selection, audit
from flake8_stability.findings import Finding
from flake8_stability.fix.codemod import Outcome, apply_codemod, registry
from flake8_stability.rules.base import Rule


def write(root: Path, files: Dict[str, str]) -> Path:
    """The project `{relative path: source}` under `root` (sources are dedented)."""
    (root / "pyproject.toml").write_text("[project]\nname = 'fixture'\n")
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"))
    return root


def findings(root: Path, code: str) -> List[Finding]:
    """The findings of rule `code` on the project, from the real engine."""
    (result,) = audit([root], Selection(select=(code,)))
    return [f for f in result.findings if f.code == code]


@dataclass
class Applied:
    """One codemod run over a project: the outcome per file and the text before it."""

    outcomes: Dict[str, Outcome] = field(default_factory=dict)
    before: Dict[str, str] = field(default_factory=dict)

    @property
    def skipped(self) -> List[Tuple[int, str]]:
        return [(t.line, why) for o in self.outcomes.values() for t, why in o.skipped]

    @property
    def fixed(self) -> int:
        return sum(len(o.fixed) for o in self.outcomes.values())


def fix(root: Path, code: str, codemod: str, *, write_back: bool = True) -> Applied:
    """Audit, then apply `codemod` to each file with findings naming it; write the results
    (and the files the codemod creates) unless `write_back` is False."""
    by_file: Dict[str, List[Finding]] = defaultdict(list)
    for finding in findings(root, code):
        if finding.fix.codemod == codemod:
            by_file[finding.path].append(finding)
    applied = Applied()
    mod = registry()[codemod]()
    for path, found in by_file.items():
        source = Path(path).read_text()
        outcome = apply_codemod(mod, source, found)
        applied.before[path] = source
        applied.outcomes[path] = outcome
        if write_back:
            Path(path).write_text(outcome.module.code)
            for created in outcome.created:
                Path(created.path).write_text(created.content)
    return applied


def again(applied: Applied) -> Dict[str, str]:
    """Each fixed file's text after applying the same codemod, with the same findings, to it."""
    result = {}
    for path, outcome in applied.outcomes.items():
        findings_ = [target.finding for target in outcome.fixed] + [
            target.finding for target, _ in outcome.skipped]
        codemod = registry()[findings_[0].fix.codemod or ""]()
        result[path] = apply_codemod(codemod, outcome.module.code, findings_).module.code
    return result


def run(root: Path, code: str) -> subprocess.CompletedProcess:
    """`python -c code` from the project folder, as a fresh process with the real libraries."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def asgi_get(module: str, path: str) -> str:
    """Code that imports `module`, sends one GET `path` to its `app` through the ASGI interface
    (no test client needed) and prints the status and the body."""
    return textwrap.dedent(f'''
        import asyncio
        from {module} import app

        async def main():
            sent = []

            async def receive():
                return {{"type": "http.request", "body": b"", "more_body": False}}

            async def send(message):
                sent.append(message)

            scope = {{"type": "http", "method": "GET", "path": {path!r}, "headers": [],
                      "query_string": b"", "http_version": "1.1", "scheme": "http",
                      "server": ("test", 80), "client": ("test", 1), "root_path": ""}}
            await app(scope, receive, send)
            print(sent[0]["status"], sent[1]["body"].decode())

        asyncio.run(main())
    ''')


def fix_examples(rule: Type[Rule], codemod: str, folder: Path) -> List[Tuple[Applied, int]]:
    """Apply `codemod` to each Invalid example of `rule` (those judged with the test stack):
    (what it did, how many findings of the rule naming the codemod are left afterwards)."""
    results = []
    for index, example in enumerate(rule.invalid):
        if example.installed:
            continue
        project = folder / f"example{index}"
        project.mkdir(parents=True)
        example_projects.write(example, project)
        applied = fix(project, rule.code, codemod)
        for path in applied.outcomes:
            cst.parse_module(Path(path).read_text())  # still Python
        left = [f for f in findings(project, rule.code) if f.fix.codemod == codemod]
        results.append((applied, len(left)))
    return results
