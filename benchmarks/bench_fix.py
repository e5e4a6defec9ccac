"""What `stability-fix --diff` costs, against the floor of parsing the files it touches with
libcst.

Generates the FastAPI + SQLModel backend of the other benchmarks under
benchmarks/generated-fix/ and adds job modules, each with three defects that have a codemod
(SBA304 sync sessionmaker over an async engine, SBA408 @on_event, SBA314 plain SQL string; the
first two are unsafe fixes, so the run passes --unsafe). Then, each in a fresh interpreter with
libcst imported before the clock starts, best of N:

* the fix: `stability-fix --diff --unsafe` in-process (the audit that finds the findings, the
  codemods, the diff);
* the floor: read and `libcst.parse_module` every file the diff touches;

and prints both times, their ratio and each run's peak memory (ru_maxrss).

    python benchmarks/bench_fix.py [--modules 500] [--jobs 50] [--repeat 2]
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from generate import add_jobs, generate
from measure import best

HERE = Path(__file__).resolve().parent

FIX = textwrap.dedent('''
    import contextlib, io, json, resource, sys, time
    import libcst
    from pathlib import Path
    from flake8_stability.config import load_config
    from flake8_stability.environment import load_environment
    from flake8_stability.fix.cli import main
    root = Path(sys.argv[1])
    load_environment(load_config(root).interpreter(root))
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(["--diff", "--unsafe", str(root)])
        out.flush()
    seconds = time.perf_counter() - start
    diff = out.buffer.getvalue().decode("utf-8").splitlines()
    touched = sorted({line[6:] for line in diff if line.startswith("--- a/")})
    print(json.dumps({"seconds": seconds, "status": status, "touched": touched,
                      "hunks": sum(line.startswith("@@") for line in diff),
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
''')

LIBCST_FLOOR = textwrap.dedent('''
    import json, resource, sys, time
    import libcst
    from pathlib import Path
    root = Path(sys.argv[1])
    start = time.perf_counter()
    modules = [libcst.parse_module((root / name).read_bytes()) for name in sys.argv[2:]]
    print(json.dumps({"seconds": time.perf_counter() - start, "files": len(modules),
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
''')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=500, help="modules of the backend")
    parser.add_argument("--jobs", type=int, default=50, help="job modules with fixable defects")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--output", type=Path, default=HERE / "generated-fix")
    args = parser.parse_args()
    files, lines = generate(args.output, args.modules)
    add_jobs(args.output, args.jobs)
    fix = best(FIX, [str(args.output)], args.python, args.repeat)
    if fix["status"] != 1 or len(fix["touched"]) < args.jobs:
        raise SystemExit(f"expected a diff touching every job module, got {fix}")
    floor = best(LIBCST_FLOOR, [str(args.output), *fix["touched"]], args.python, args.repeat)
    print(f"{files + args.jobs + 1} files under {args.output}, {len(fix['touched'])} touched by "
          f"{fix['hunks']} hunks (best of {args.repeat})")
    print(f"  libcst.parse_module of the touched files  {floor['seconds']:7.2f}s  "
          f"peak {floor['peak_mib']:6.0f} MiB")
    print(f"  stability-fix --diff --unsafe             {fix['seconds']:7.2f}s  "
          f"peak {fix['peak_mib']:6.0f} MiB")
    print(f"  fix / floor:                              {fix['seconds'] / floor['seconds']:.2f}x")


if __name__ == "__main__":
    main()
