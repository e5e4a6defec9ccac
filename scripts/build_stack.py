"""Regenerate flake8_stability/knowledge/stack.json (the shipped async-stack table) from the
research file `requires.json`.

    python scripts/build_stack.py /path/to/reference/compat/requires.json

Per package of the stack: its releases as runs (`from`..`to`, inclusive, PEP 440 order) of equal
`requires_python` and `Requires-Dist` among the stack packages (requirements on other packages
are left out). Specifiers the reference marks as unverified (not PEP 440) are dropped, and the
run says so. Packages the reference has no per-release metadata for keep only the newest
release it names, or nothing. Then the incompatibility rules (`trigger`: `versions` when the
installed versions alone decide, `code` when some code pattern must also be present), with the
failure-catalog cases the reference lacks (`CATALOG`), and the driver table: the distributions
that provide each SQLAlchemy `dialect+driver`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

OUTPUT = Path(__file__).resolve().parent.parent / "flake8_stability" / "knowledge" / "stack.json"

STACK = ("fastapi", "starlette", "pydantic", "pydantic-core", "pydantic-settings", "sqlmodel",
         "sqlalchemy", "greenlet", "uvicorn", "asyncpg", "aiosqlite", "psycopg", "asyncmy",
         "aiomysql", "email-validator", "python-multipart", "passlib", "bcrypt")

# Incompatibilities that need a code pattern besides the versions (the rule that owns each
# looks for it): they never match on versions alone.
CODE_TRIGGERED = {
    "sqlmodel-le-0.0.31-pydantic-2.12-annotated": "Field() inside Annotated[...] in a model",
    "fastapi-ge-0.128-pydantic.v1-models": "pydantic.v1 models in routes",
    "starlette-1-removed-event-api": "Starlette(on_startup=...) or app.on_event on Starlette",
    "sqlalchemy-async-no-greenlet-lt-2.1": "async SQLAlchemy in use (SBA205)",
    "sqlalchemy-2.1-async-no-greenlet": "async SQLAlchemy in use (SBA205)",
    "pydantic-basesettings-v2": "from pydantic import BaseSettings",
    "postgres-scheme": "a postgres:// URL (SBA303)",
    "psycopg3-url-sqlalchemy-1.4": "a postgresql+psycopg:// URL",
    "sync-driver-in-create_async_engine": "create_async_engine with a sync URL (SBA302)",
    "asyncpg-sslmode": "a postgresql+asyncpg URL with ?sslmode= (SBA31x)",
    "sqlalchemy-2.1-postgresql-default-driver": "a bare postgresql:// URL (SBA204)",
    "starlette-testclient-httpx": "starlette.testclient imported",
}

# Failure-catalog entries the reference has no rule for (checked with passlib 1.7.4 and
# bcrypt 4.1.3 / 5.0.0 on CPython 3.11).
CATALOG: List[Dict[str, Any]] = [
    {"id": "passlib-bcrypt-ge-4.1", "severity": "warning",
     "when": {"passlib": "<=1.7.4", "bcrypt": ">=4.1,<5"}, "kind": "runtime",
     "error": "(trapped) error reading bcrypt version ... AttributeError: module 'bcrypt' has "
              "no attribute '__about__'",
     "fix": "pin bcrypt<4.1, or hash with bcrypt directly / pwdlib / libpass",
     "evidence": "failure catalog D12 (hypothesis/h#8418, glic3rinu/passlib#62); reproduced: "
                 "passlib 1.7.4 + bcrypt 4.1.3, logged at the first CryptContext.hash()",
     "note": "passlib logs the trapped error and still hashes"},
    {"id": "passlib-bcrypt-ge-5", "severity": "error",
     "when": {"passlib": "<=1.7.4", "bcrypt": ">=5"}, "kind": "runtime",
     "error": "ValueError: password cannot be longer than 72 bytes, truncate manually if "
              "necessary (e.g. my_password[:72])",
     "fix": "pin bcrypt<4.1 (passlib is unmaintained), or hash with bcrypt directly / pwdlib / "
            "libpass",
     "evidence": "failure catalog D12; reproduced: passlib 1.7.4 + bcrypt 5.0.0, the first "
                 "CryptContext.hash() fails in passlib's bcrypt self-test"},
]

# SQLAlchemy `dialect+driver` -> distributions providing the DBAPI (any one is enough);
# an empty tuple means the standard library.
DRIVERS: Dict[str, Tuple[str, ...]] = {
    "postgresql+asyncpg": ("asyncpg",),
    "postgresql+psycopg": ("psycopg",),
    "postgresql+psycopg_async": ("psycopg",),
    "postgresql+psycopg2": ("psycopg2", "psycopg2-binary"),
    "postgresql+psycopg2cffi": ("psycopg2cffi",),
    "postgresql+pg8000": ("pg8000",),
    "sqlite+aiosqlite": ("aiosqlite",),
    "sqlite+pysqlite": (),
    "mysql+aiomysql": ("aiomysql",),
    "mysql+asyncmy": ("asyncmy",),
    "mysql+pymysql": ("pymysql",),
    "mysql+mysqldb": ("mysqlclient",),
    "mariadb+aiomysql": ("aiomysql",),
    "mariadb+asyncmy": ("asyncmy",),
    "mariadb+pymysql": ("pymysql",),
    "mariadb+mysqldb": ("mysqlclient",),
}


def _spec(raw: Optional[str]) -> Optional[str]:
    """A PEP 440 specifier set as text ("" = any), None when the reference's text is not one."""
    text = (raw or "").strip()
    try:
        return str(SpecifierSet(text))
    except InvalidSpecifier:
        return None


def _requirement(name: str, raw: Optional[str], marker: str = "") -> Tuple[Optional[str], bool]:
    """(`name<spec>; marker`, True) or (None, False) when the specifier is not PEP 440."""
    spec = _spec(raw)
    if spec is None:
        return None, False
    text = f"{name}{spec}" + (f"; {marker}" if marker else "")
    return str(Requirement(text)), True


def _in_runs(runs: List[Dict[str, Any]], version: str) -> Any:
    """The value of the `{from, to, value}` run holding `version` (None: none does)."""
    parsed = Version(version)
    for run in runs:
        if Version(run["from"]) <= parsed <= Version(run["to"]):
            return run["value"]
    return None


def _stack_requirement(text: str, extra: str = "") -> Optional[str]:
    """A Requires-Dist line restricted to the stack, with `extra == "x"` added to its marker."""
    try:
        parsed = Requirement(text)
    except InvalidRequirement:
        return None
    if canonicalize_name(parsed.name) not in STACK:
        return None
    if extra:
        marker = f'({parsed.marker}) and extra == "{extra}"' if parsed.marker else \
            f'extra == "{extra}"'
        parsed = Requirement(f"{str(parsed).split(';')[0]}; {marker}")
    return str(parsed)


def _release_rows(name: str, section: Dict[str, Any]) -> Iterable[Dict[str, Any]]:
    """(version, requires_python, requires, exact) per release of one reference section."""
    for release in section["releases"]:
        version = release["version"]
        requires: List[str] = []
        exact = True
        for dist, raw in _declared(name, section, release):
            text, ok = _requirement(dist, raw)
            exact = exact and ok
            if text:
                requires.append(text)
        requires.extend(_extras(name, section, release))
        yield {"version": version, "requires_python": _spec(release.get("requires_python")),
               "requires": sorted(requires), "exact": exact,
               "interpolated": "interpolated" in str(release.get("source", ""))}


def _declared(name: str, section: Dict[str, Any],
              release: Dict[str, Any]) -> List[Tuple[str, Optional[str]]]:
    """The release's plain requirements on stack packages, as (distribution, specifier)."""
    if name == "fastapi":
        return [("starlette", release["starlette"]), ("pydantic", release["pydantic"])]
    if name == "pydantic":
        core = release.get("pydantic_core")
        return [("pydantic-core", core)] if core else []
    found = []
    for dist, raw in (release.get("requires") or {}).items():
        if canonicalize_name(dist) in STACK:
            found.append((canonicalize_name(dist), raw))
    return found


def _extras(name: str, section: Dict[str, Any], release: Dict[str, Any]) -> List[str]:
    """Requirements with markers: SQLAlchemy's greenlet and async extras, sqlmodel's extras."""
    found = []
    if name == "sqlalchemy":
        greenlet = _in_runs(section["greenlet_install_requires_history"], release["version"])
        if greenlet:
            found.append(_stack_requirement(greenlet))
        extras = _in_runs(section["async_extras_history"], release["version"]) or {}
        for extra, lines in extras.items():
            found.extend(_stack_requirement(line, extra) for line in lines)
    for extra, lines in (release.get("extras") or {}).items():
        found.extend(_stack_requirement(line, extra) for line in lines)
    return sorted({text for text in found if text})


def _runs(rows: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Consecutive releases (PEP 440 order) with equal metadata, stored once."""
    runs: List[Dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: Version(r["version"])):
        key = (row["requires_python"], row["requires"])
        last = runs[-1] if runs else None
        if last and (last["requires_python"], last["requires"]) == key:
            last["to"] = row["version"]
            last["exact"] = last["exact"] and row["exact"]
            last["interpolated"] = last["interpolated"] or row["interpolated"]
            continue
        runs.append({"from": row["version"], "to": row["version"], **{
            k: row[k] for k in ("requires_python", "requires", "exact", "interpolated")}})
    return runs


def _drivers_only(facts: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A driver the reference describes by its newest release only."""
    return [{"from": facts["newest"], "to": facts["newest"],
             "requires_python": _spec(facts.get("newest_requires_python")), "requires": [],
             "exact": True, "interpolated": False}]


def _packages(reference: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    packages: Dict[str, Dict[str, Any]] = {}
    for name in STACK:
        if name in reference and "releases" in reference[name]:
            runs = _runs(_release_rows(name, reference[name]))
            packages[name] = {"evidence": "reference/compat/requires.json", "releases": runs}
        elif name in reference["async_drivers"]:
            packages[name] = {"evidence": "reference/compat/requires.json async_drivers "
                                          "(newest release only)",
                              "releases": _drivers_only(reference["async_drivers"][name])}
        else:
            packages[name] = {"evidence": "not in the reference: no per-release metadata",
                              "releases": []}
    return packages


def _incompatibility(entry: Dict[str, Any]) -> Dict[str, Any]:
    when = {canonicalize_name(dist): spec for dist, spec in entry["when"].items()}
    keys = ("id", "severity", "kind", "error", "fix", "evidence", "note", "python", "platform")
    row = {key: entry.get(key) for key in keys}
    row["when"] = when
    row["trigger"] = "code" if entry["id"] in CODE_TRIGGERED else "versions"
    row["code"] = CODE_TRIGGERED.get(entry["id"])
    return row


def build(reference_path: Path) -> Dict[str, Any]:
    """The shipped table."""
    reference = json.loads(reference_path.read_text())
    incompatibilities = [
        _incompatibility(entry) for entry in [*reference["incompatibilities"], *CATALOG]
        if all(canonicalize_name(dist) in STACK for dist in entry["when"])
    ]
    return {"source": "reference/compat/requires.json",
            "packages": _packages(reference),
            "incompatibilities": incompatibilities,
            "drivers": {key: list(value) for key, value in DRIVERS.items()}}


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    table = build(Path(argv[1]))
    OUTPUT.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    runs = sum(len(package["releases"]) for package in table["packages"].values())
    print(f"wrote {runs} release runs and {len(table['incompatibilities'])} "
          f"incompatibilities to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
