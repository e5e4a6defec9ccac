"""The first Python version of standard-library names the stack's code commonly uses (checked
by importing each name on CPython 3.8.18, 3.9.18, 3.10.13 and 3.11.7), and the Python versions
the checker supports."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from packaging.specifiers import SpecifierSet
from packaging.version import Version

PythonVersion = Tuple[int, int]

SUPPORTED: Tuple[PythonVersion, ...] = tuple((3, minor) for minor in range(8, 15))

# Modules added to the standard library.
MODULES: Dict[str, PythonVersion] = {
    "zoneinfo": (3, 9), "graphlib": (3, 9), "tomllib": (3, 11),
}

# Names added to standard-library modules.
NAMES: Dict[str, PythonVersion] = {
    "typing.Annotated": (3, 9), "functools.cache": (3, 9),
    "typing.TypeAlias": (3, 10), "typing.ParamSpec": (3, 10), "typing.Concatenate": (3, 10),
    "typing.TypeGuard": (3, 10),
    "typing.Self": (3, 11), "typing.LiteralString": (3, 11), "typing.Never": (3, 11),
    "typing.assert_never": (3, 11), "typing.reveal_type": (3, 11), "typing.Required": (3, 11),
    "typing.NotRequired": (3, 11), "typing.Unpack": (3, 11), "typing.TypeVarTuple": (3, 11),
    "datetime.UTC": (3, 11), "enum.StrEnum": (3, 11),
    "typing.override": (3, 12),
}


def lowest_python(specifier: SpecifierSet) -> Optional[PythonVersion]:
    """The oldest supported Python (major, minor) some release of which `specifier` allows;
    None when it allows none of them."""
    for major, minor in SUPPORTED:
        if any(specifier.contains(Version(f"{major}.{minor}.{micro}"), prereleases=True)
               for micro in range(0, 30)):
            return major, minor
    return None


def shown(version: PythonVersion) -> str:
    return f"{version[0]}.{version[1]}"
