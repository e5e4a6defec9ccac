"""Run flake8 the way users do (a subprocess) and parse what it prints."""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<text>.*)$")


@dataclass(frozen=True)
class Reported:
    path: str
    line: int
    col: int
    code: str
    text: str


@dataclass
class Flake8Run:
    returncode: int
    results: List[Reported]
    stderr: str

    def codes(self, path_suffix: str = "") -> List[str]:
        return [r.code for r in self.results if r.path.endswith(path_suffix)]

    def lines_of(self, code: str, path_suffix: str = "") -> List[int]:
        return sorted(r.line for r in self.results
                      if r.code == code and r.path.endswith(path_suffix))


def run_flake8(args: Sequence[str], cwd: Optional[Path] = None, stdin: Optional[str] = None,
               select: Optional[str] = "SBA", driver: Optional[str] = None) -> Flake8Run:
    """`select=None` keeps flake8's default selection; `driver` is a script run with
    `python -c` instead of `python -m flake8`, that ends by calling flake8 on `sys.argv[1:]`."""
    entry = ["-c", driver] if driver else ["-m", "flake8"]
    command = [sys.executable, *entry, *(["--select", select] if select else []), *args]
    done = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=600)
    results = []
    for line in done.stdout.splitlines():
        match = _LINE.match(line)
        if match:
            results.append(Reported(match["path"], int(match["line"]), int(match["col"]),
                                    match["code"], match["text"]))
    if done.returncode not in (0, 1) or (done.stdout and not results):
        raise AssertionError(f"flake8 failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return Flake8Run(done.returncode, results, done.stderr)
