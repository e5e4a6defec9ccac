"""Put a real excerpt of `stability-audit examples/async-shop` into the README, between the
`audit-excerpt` markers, or (`--check`) fail when the README's excerpt is not what the tool
prints today. Paths are shown relative to the repository; the interpreter line, which names this
machine's venv, is left out.

    python scripts/readme_excerpt.py [--check]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
START = "<!-- audit-excerpt:start (scripts/readme_excerpt.py) -->"
END = "<!-- audit-excerpt:end -->"
LINES = 24


def excerpt() -> str:
    """The first lines of the text report on the example, as the installed command prints it."""
    command = Path(sys.executable).parent / "stability-audit"
    done = subprocess.run([str(command), "examples/async-shop"], cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"stability-audit failed ({done.returncode}): {done.stderr.strip()}")
    lines = [line.replace(f"{REPO}/", "") for line in done.stdout.splitlines()
             if not line.startswith("  interpreter  ")]
    shown = "\n".join(lines[:LINES])
    return f"{START}\n```console\n$ stability-audit examples/async-shop\n{shown}\n...\n```\n{END}"


def current() -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0:
        raise SystemExit(f"{README}: the audit-excerpt markers are missing")
    return text[start:end + len(END)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    fresh, old = excerpt(), current()
    if parser.parse_args().check:
        if fresh != old:
            print("README.md: the audit excerpt is stale; run python scripts/readme_excerpt.py")
            return 1
        return 0
    README.write_text(README.read_text(encoding="utf-8").replace(old, fresh), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
