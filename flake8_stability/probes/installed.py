"""Print the interpreter's version, installed distributions, standard-library module names
and importable top-level names as JSON. Stdlib only; nothing is imported from the project."""
import json
import os
import sys

try:
    from importlib import metadata
except ImportError:  # pragma: no cover - Python < 3.8
    import importlib_metadata as metadata  # type: ignore[no-redef]

_SUFFIXES = (".py", ".pyc", ".so", ".pyd")


def _stdlib():
    names = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
    if not getattr(sys, "stdlib_module_names", None):  # Python < 3.10
        import sysconfig

        names |= _names_in(sysconfig.get_paths()["stdlib"])
    return names


def _names_in(folder):
    names = set()
    try:
        entries = os.listdir(folder)
    except OSError:
        return names
    for entry in entries:
        stem, dot, suffix = entry.partition(".")
        if not stem.isidentifier():
            continue
        if dot and ("." + suffix.rsplit(".", 1)[-1]) in _SUFFIXES:
            names.add(stem)
        elif not dot and os.path.isdir(os.path.join(folder, entry)):
            names.add(stem)
    return names


def _top_level():
    names = set()
    for entry in sys.path:
        if entry and os.path.isdir(entry) and os.path.abspath(entry) != os.getcwd():
            names |= _names_in(entry)
    for dist in metadata.distributions():
        text = dist.read_text("top_level.txt") or ""
        names |= {line.strip() for line in text.splitlines() if line.strip()}
    return names


def collect():
    dists = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in dists:
            dists[name.lower()] = dist.version
    return {"python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
            "distributions": dists, "stdlib": sorted(_stdlib()), "top_level": sorted(_top_level()),
            "builtin": sorted(sys.builtin_module_names)}


if __name__ == "__main__":
    print(json.dumps(collect()))
