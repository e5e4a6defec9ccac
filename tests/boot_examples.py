"""Probe-only rules (SBA0xx) are not reported by flake8: their examples are booted with the boot
probe and correlated with the static audit, as `stability-audit --boot` does."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

import example_projects
from flake8_stability.audit.report import build_report
from flake8_stability.boot import correlate, probe
from flake8_stability.engine import audit
from flake8_stability.rules.base import Invalid, Valid


def is_probe_only(rule: type) -> bool:
    return bool(getattr(rule, "probe_only", False))


def boot_report(folder: Path, timeout: float,
                get_path: Optional[str] = None) -> Dict[str, Dict[str, List[int]]]:
    """code -> file (relative) -> lines of the findings after booting the project at `folder`."""
    results = audit([folder])
    report = build_report(results, graph=False).projects[0]
    findings = correlate(report, probe(results[0].project, timeout=timeout, get_path=get_path))
    found: Dict[str, Dict[str, List[int]]] = {}
    for finding in findings:
        found.setdefault(finding.code, {}).setdefault(finding.path, []).append(finding.line)
    return found


def reported(rule: type, example: "Valid | Invalid", folder: Path) -> Dict[str, List[int]]:
    """File -> lines the probe reports with the rule's code for the example."""
    example_projects.write(example, folder)
    found = boot_report(folder, rule.probe_timeout)
    return {path: sorted(lines) for path, lines in found.get(rule.code, {}).items()}
