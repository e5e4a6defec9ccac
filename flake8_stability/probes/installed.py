"""Print the interpreter's version, installed distributions (with their own requirements and
the top-level modules each provides), environment-marker values, standard-library module names
and importable top-level names as JSON. Stdlib only; nothing is imported from the project."""
import json
import os
import platform
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


def _provides(dist):
    """Top-level import names a distribution installs: top_level.txt, else its RECORD."""
    text = dist.read_text("top_level.txt")
    if text:
        return sorted({line.strip() for line in text.splitlines() if line.strip()})
    names = set()
    for path in dist.files or ():
        parts = path.parts
        if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith(
                (".dist-info", ".egg-info", ".data")):
            continue
        stem = parts[0].split(".", 1)[0]
        if stem.isidentifier() and (len(parts) > 1 or parts[0].endswith(_SUFFIXES)):
            names.add(stem)
    return sorted(names)


def _markers():
    """The PEP 508 environment-marker values of this interpreter."""
    info = sys.implementation.version
    implementation_version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        implementation_version += info.releaselevel[0] + str(info.serial)
    return {"implementation_name": sys.implementation.name,
            "implementation_version": implementation_version, "os_name": os.name,
            "platform_machine": platform.machine(), "platform_release": platform.release(),
            "platform_system": platform.system(), "platform_version": platform.version(),
            "python_full_version": platform.python_version(),
            "platform_python_implementation": platform.python_implementation(),
            "python_version": ".".join(platform.python_version_tuple()[:2]),
            "sys_platform": sys.platform}


def collect():
    dists, requires, provides = {}, {}, {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() in dists:
            continue  # a shadowed copy further down sys.path is not the one imported
        key = name.lower()
        dists[key] = dist.version
        requires[key] = list(dist.requires or ())
        provides[key] = _provides(dist)
    return {"python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
            "distributions": dists, "requires": requires, "provides": provides,
            "markers": _markers(), "stdlib": sorted(_stdlib()), "top_level": sorted(_top_level()),
            "builtin": sorted(sys.builtin_module_names), "path": list(sys.path)}


if __name__ == "__main__":
    print(json.dumps(collect()))
