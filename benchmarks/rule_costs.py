"""Where the static audit's time goes: a script (run in a fresh interpreter by
`bench_audit.py --per-rule`) that times every rule's `check_module` / `check_project` and the
shared analyses they trigger, then runs the audit as `bench_audit.py` does.

Each timed call's own time excludes the timed calls it makes (an analysis first built inside a
rule is charged to the analysis, not to the rule), so the rows add up to the audit's time; the
rest (file discovery, the report, the dependency manifest, the import graph) is `other`. The
wrappers cost time of their own: the total is slower than an untimed audit, the shares are
what to read."""
from __future__ import annotations

import textwrap

PER_RULE = textwrap.dedent('''
    import functools, inspect, json, resource, sys, tempfile, time
    from functools import cached_property
    from pathlib import Path
    from flake8_stability import context
    from flake8_stability.analysis import imports, lifecycle, models, objects, scopes, values
    from flake8_stability.audit.cli import main
    from flake8_stability.config import load_config
    from flake8_stability.environment import load_environment
    from flake8_stability.project import model, startup
    from flake8_stability.rules import all_rules
    from flake8_stability.rules.base import ProjectRule

    own, calls, stack = {}, {}, []

    def timed(label, function):
        """`function`, its own time (less the timed calls inside it) added to `label`."""
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            stack.append(0.0)
            start = time.perf_counter()
            try:
                result = function(*args, **kwargs)
                if inspect.isgenerator(result):
                    result = iter(list(result))
                return result
            finally:
                spent = time.perf_counter() - start
                inner = stack.pop()
                own[label] = own.get(label, 0.0) + spent - inner
                calls[label] = calls.get(label, 0) + 1
                if stack:
                    stack[-1] += spent
        return wrapper

    def time_class(cls, label, names=None):
        """Wrap the public methods, cached properties and constructor of `cls`."""
        chosen = names if names is not None else [
            name for name in vars(cls) if not name.startswith("_") or name == "__init__"]
        for name in chosen:
            member = inspect.getattr_static(cls, name, None)
            if isinstance(member, cached_property):
                wrapped = cached_property(timed(label, member.func))
                wrapped.__set_name__(cls, name)
                setattr(cls, name, wrapped)
            elif inspect.isfunction(member):
                setattr(cls, name, timed(label, member))

    for rule in all_rules():
        time_class(rule, rule.code, {"check_module", "check_project"})
    time_class(model.ProjectModel, "model: read + parse", {"__init__"})
    time_class(model.ModuleInfo, "model: module summaries", {"summary"})
    startup.boot_seeds = timed("model: boot seeds", startup.boot_seeds)
    time_class(context.ProjectContext, "project: layout", {"layout"})
    time_class(context.ProjectContext, "project: declared dependencies", {"declared"})
    time_class(context.ProjectContext, "project: env sources", {"env_sources", "env_files"})
    time_class(context.ModuleContext, "qualified names", {"_qualname"})
    time_class(context.ModuleContext, "engine calls", {"engine_calls"})
    # The scope walk and import map are built once per file; their queries are dict look-ups,
    # charged to the rule asking. The resolvers' queries are analyses of their own.
    time_class(scopes.Scopes, "scopes", {"__init__"})
    time_class(imports.ImportMap, "imports", {"__init__"})
    for cls, label in ((values.ValueResolver, "values"), (objects.ObjectResolver, "objects"),
                       (models.ModelIndex, "models"), (lifecycle.Lifecycle, "lifecycle")):
        time_class(cls, label)

    root = Path(sys.argv[1])
    load_environment(load_config(root).interpreter(root))
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        start = time.perf_counter()
        main(["--format", "json", "--no-cache", "--output", str(report), str(root)])
        seconds = time.perf_counter() - start
    rules = {rule.code for rule in all_rules()}
    project_rules = {rule.code for rule in all_rules() if issubclass(rule, ProjectRule)}
    own["other"] = seconds - sum(own.values())
    rows = [{"label": label, "seconds": spent, "calls": calls.get(label, 0),
             "kind": ("project rule" if label in project_rules else
                      "file rule" if label in rules else "analysis")}
            for label, spent in own.items()]
    print(json.dumps({"seconds": seconds, "rows": rows,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
''')


def table(run: dict, top: int) -> str:
    """The `top` costliest rows as a Markdown table, then the rest summed by kind."""
    rows = sorted(run["rows"], key=lambda row: -row["seconds"])
    total = run["seconds"]
    lines = [f"timed audit: {total:.2f}s", "", "| rank | what | kind | calls | seconds | share |",
             "|---|---|---|---|---|---|"]
    for rank, row in enumerate(rows[:top], start=1):
        lines.append(f"| {rank} | {row['label']} | {row['kind']} | {row['calls']} | "
                     f"{row['seconds']:.2f} | {row['seconds'] / total:.1%} |")
    rest: dict = {}
    for row in rows[top:]:
        count, seconds = rest.get(row["kind"], (0, 0.0))
        rest[row["kind"]] = (count + 1, seconds + row["seconds"])
    for kind, (count, seconds) in sorted(rest.items()):
        lines.append(f"| | {count} more: {kind} | | | {seconds:.2f} | {seconds / total:.1%} |")
    return "\n".join(lines)
