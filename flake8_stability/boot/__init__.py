"""`stability-audit --boot`: boot the app for real (opt-in: it executes project code) and join
what happened with the static findings.

    result = probe(project, timeout=30.0, get_path="/health")   # BootResult, redacted
    report.findings = correlate(report, result)                 # confirmed + SBA0xx findings
    data["boot"] = result.to_dict()
"""
from .correlate import correlate
from .result import BootResult
from .runner import probe

__all__ = ["BootResult", "correlate", "probe"]
