"""Print the interpreter's version and installed distributions as JSON (stdlib only)."""
import json
import sys

try:
    from importlib import metadata
except ImportError:  # pragma: no cover - Python < 3.8
    import importlib_metadata as metadata  # type: ignore[no-redef]


def collect():
    dists = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in dists:
            dists[name.lower()] = dist.version
    return {"python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
            "distributions": dists}


if __name__ == "__main__":
    print(json.dumps(collect()))
