"""Measuring helpers shared by the benchmarks: scripts run in a fresh interpreter that print
one JSON object (seconds, peak memory, counts), best of N; CPU time of child processes."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import textwrap
from typing import Dict, List, Optional, Sequence

# The floor: read and `ast.parse` every `.py` file of the project (argv[1]), keeping the trees,
# with the cyclic GC paused as in the model: with it on, keeping 2,000 trees alive costs more
# than parsing them, and the ratio would flatter the model.
PARSE_FLOOR = textwrap.dedent('''
    import ast, gc, json, resource, sys, time
    gc.disable()
    from pathlib import Path
    from flake8_stability.project.files import python_files
    start, cpu = time.perf_counter(), time.process_time()
    files, _ = python_files(Path(sys.argv[1]))
    trees = [ast.parse(path.read_bytes()) for path in files]
    print(json.dumps({"seconds": time.perf_counter() - start, "files": len(trees),
                      "cpu": time.process_time() - cpu,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
''')


def run_json(script: str, args: Sequence[str], python: str,
             path: Optional[str] = None) -> Dict[str, float]:
    """Run `script` in a fresh `python` and return the JSON object it prints last; with
    `path`, that folder is first on the module path (another version of the package). It is
    also the working folder: `python -c` puts the working folder before PYTHONPATH, and from
    a checkout that would load the checkout's package instead."""
    env = dict(os.environ, PYTHONPATH=path) if path else None
    done = subprocess.run([python, "-c", script, *args], capture_output=True, text=True,
                          check=False, env=env, cwd=path)
    if done.returncode != 0:
        raise SystemExit(f"benchmark script failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def best(script: str, args: Sequence[str], python: str, repeat: int) -> Dict[str, float]:
    """The fastest of `repeat` runs of `script`, with the highest peak memory seen."""
    runs: List[Dict[str, float]] = [run_json(script, args, python) for _ in range(repeat)]
    fastest = dict(min(runs, key=lambda run: run["seconds"]))
    fastest["peak_mib"] = max(run["peak_mib"] for run in runs)
    return fastest


def children_cpu() -> float:
    """User + system CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
