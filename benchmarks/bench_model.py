"""What building the project model costs, against the floor of parsing the same files.

Generates a FastAPI + SQLModel backend (the generator of bench_flake8.py, each module padded
with realistic service functions to the requested size) under benchmarks/generated-model/,
then runs, each in a fresh interpreter, best of N:

* the floor: read and `ast.parse` every `.py` file of the project, keeping the trees (cyclic
  GC paused, as in the model);
* the model: layout discovery, every module read, parsed, named and summarised, and the
  import-order simulation from the ASGI target (what SBA602 does);

and prints both times, their ratio (goal: <= 1.5x) and each run's peak memory.

    python benchmarks/bench_model.py [--modules 2000] [--lines 200000] [--repeat 3]
"""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import padded_backend  # noqa: E402
from measure import PARSE_FLOOR, best  # noqa: E402

MODEL = textwrap.dedent('''
    import json, resource, sys, time
    from pathlib import Path
    from flake8_stability.context import ProjectContext
    from flake8_stability.project.import_order import simulate
    project = ProjectContext(Path(sys.argv[1]))
    project.environment  # the interpreter probe is not part of the model
    start = time.perf_counter()
    model = project.model
    summaries = [info.summary for info in model]
    entry = model.modules[project.layout.target.module]
    result = simulate(model, entry)
    print(json.dumps({"seconds": time.perf_counter() - start, "files": len(summaries),
                      "reached": len(result.order),
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
''')


def main() -> None:
    args, files, lines = padded_backend(__doc__.splitlines()[0], HERE / "generated-model")
    floor = best(PARSE_FLOOR, [str(args.output)], args.python, args.repeat)
    model = best(MODEL, [str(args.output)], args.python, args.repeat)
    print(f"{files} files, {lines} lines under {args.output} (best of {args.repeat})")
    print(f"  ast.parse floor        {floor['seconds']:7.2f}s  peak {floor['peak_mib']:6.0f} MiB")
    print(f"  project model + SBA602 {model['seconds']:7.2f}s  peak {model['peak_mib']:6.0f} MiB"
          f"  ({model['reached']} modules reached from the target)")
    print(f"  model / floor:         {model['seconds'] / floor['seconds']:.2f}x")


if __name__ == "__main__":
    main()
