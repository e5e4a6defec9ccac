"""Baselines, for adopting the audit on an old codebase: record today's findings, then report
only new ones. A finding is recognised by a line-independent fingerprint: its code, file, message
(numbers left out, as line numbers appear in messages) and the text of its source line, so moving
code up or down does not make old findings new."""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

from ..findings import Finding
from .report import Report

VERSION = 1
_NUMBERS = re.compile(r"\d+")


class BaselineError(Exception):
    """The baseline file cannot be read or written."""


def fingerprint(finding: Finding, root: Path) -> str:
    line = _source_line(root / finding.path, finding.line).strip()
    parts = (finding.code, finding.path, _NUMBERS.sub("#", finding.message), line)
    # surrogateescape: a file name that is not UTF-8 hashes as its own bytes
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:20]


def write_baseline(report: Report, path: Path) -> int:
    """Record every finding of `report` in `path` (atomically); returns how many."""
    entries = [{"fingerprint": fingerprint(f, project.root), "code": f.code, "path": f.path,
                "message": f.message} for project in report.projects for f in project.findings]
    data = {"version": VERSION, "tool": "flake8-stability", "findings": entries}
    try:
        folder = path.resolve().parent
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2)
            stream.write("\n")
        os.replace(temporary, path)
    except OSError as exc:
        raise BaselineError(f"cannot write the baseline {path}: {exc.strerror or exc}") from exc
    return len(entries)


def apply_baseline(report: Report, path: Path) -> Tuple[int, int]:
    """Drop the findings `path` records (each recorded finding hides one current finding with
    its fingerprint); returns (hidden, recorded findings that are gone now)."""
    known = _read(path)
    remaining = Counter(known)
    hidden = 0
    for project in report.projects:
        kept: List[Finding] = []
        for finding in project.findings:
            key = fingerprint(finding, project.root)
            if remaining[key] > 0:
                remaining[key] -= 1
                hidden += 1
            else:
                kept.append(finding)
        project.findings = kept
    return hidden, sum(remaining.values())


def _read(path: Path) -> List[str]:
    try:
        data: Dict = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise BaselineError(f"{path}: baseline version {data.get('version')!r} is not "
                                f"{VERSION}; record it again with --update-baseline")
        return [str(entry["fingerprint"]) for entry in data["findings"]]
    except OSError as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BaselineError(f"{path} is not a flake8-stability baseline ({exc})") from exc


def _source_line(path: Path, number: int) -> str:
    try:
        with path.open("rb") as stream:
            for index, raw in enumerate(stream, start=1):
                if index == number:
                    return raw.decode("utf-8", "replace")
    except OSError:
        return ""
    return ""
