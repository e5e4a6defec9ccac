"""Regenerate the codemod golden files (`tests/fixtures/golden/codemods/<id>/`): `expected.diff`,
`expected.skipped` and `after/` are rewritten from what `stability-fix` does to `before/` today.
Read every regenerated diff line by line before committing it (`git diff tests/fixtures/golden`):
a golden that encodes a wrong fix is a bug.

    PYTHONPATH=. python scripts/regen_golden.py [CODEMOD ...]   (default: every golden)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from golden_files import codemod_goldens, regenerate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("codemods", nargs="*", metavar="CODEMOD",
                        help="codemod ids to regenerate (default: every golden folder)")
    known = codemod_goldens()
    names = parser.parse_args().codemods or known
    for name in names:
        if name not in known:
            parser.error(f"no golden folder with a before/ tree for {name!r}")
        regenerate(name)
        print(f"regenerated {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
