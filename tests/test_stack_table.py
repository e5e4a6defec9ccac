"""The shipped stack table (knowledge/stack.json) loads, answers known pairs, and is exactly what
scripts/build_stack.py makes from the research file."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.utils import canonicalize_name
from packaging.version import Version

from flake8_stability.dependencies.installed import STACK
from flake8_stability.knowledge import stack

REPO = Path(__file__).resolve().parent.parent
REFERENCE = Path("/work/shared/reference/compat/requires.json")


def _requirement(package: str, version: str, name: str):
    found = [r for r in stack.requires(package, version) or ()
             if canonicalize_name(r.name) == name and r.marker is None]
    assert len(found) == 1, (package, version, name, stack.requires(package, version))
    return found[0].specifier


def _allows(spec, version: str) -> bool:
    return spec.contains(Version(version), prereleases=True)


def test_sqlmodel_0_0_8_needs_pydantic_1_and_sqlalchemy_up_to_1_4_41() -> None:
    pydantic = _requirement("sqlmodel", "0.0.8", "pydantic")
    sqlalchemy = _requirement("sqlmodel", "0.0.8", "sqlalchemy")
    assert _allows(pydantic, "1.10.13") and not _allows(pydantic, "2.0.0")
    assert _allows(sqlalchemy, "1.4.41") and not _allows(sqlalchemy, "1.4.42")


def test_sqlmodel_0_0_14_allows_pydantic_2_and_needs_sqlalchemy_2() -> None:
    assert _allows(_requirement("sqlmodel", "0.0.14", "pydantic"), "2.5.3")
    assert not _allows(_requirement("sqlmodel", "0.0.14", "sqlalchemy"), "1.4.54")


def test_fastapi_pydantic_ranges() -> None:
    assert not _allows(_requirement("fastapi", "0.99.1", "pydantic"), "2.0.0")
    spec = _requirement("fastapi", "0.100.0", "pydantic")
    assert _allows(spec, "2.5.3") and not _allows(spec, "2.0.1")
    assert not _allows(_requirement("fastapi", "0.101.0", "pydantic"), "2.1.0")
    assert not _allows(_requirement("fastapi", "0.135.2", "pydantic"), "2.8.2")


def test_sqlalchemy_2_1_installs_greenlet_only_with_the_asyncio_extra() -> None:
    markers = dict(default_environment(), platform_machine="x86_64")
    for version, plain in (("2.1.9", False), ("2.0.44", True)):
        greenlet = [r for r in stack.requires("sqlalchemy", version) or ()
                    if r.name == "greenlet"]
        assert any(r.marker.evaluate({**markers, "extra": "asyncio"}) for r in greenlet)
        assert any(r.marker.evaluate({**markers, "extra": ""}) for r in greenlet) is plain
    arm = dict(default_environment(), platform_machine="arm64", extra="")
    assert not any(r.marker.evaluate(arm) for r in stack.requires("sqlalchemy", "2.0.44") or ()
                   if r.name == "greenlet")


def test_sqlmodel_0_0_48_has_the_asyncio_extra() -> None:
    extra = [r for r in stack.requires("sqlmodel", "0.0.50") or () if r.extras == {"asyncio"}]
    assert extra and extra[0].marker.evaluate({**default_environment(), "extra": "asyncio"})


def test_requires_python_and_unknowns() -> None:
    assert str(stack.requires_python("fastapi", "0.165.0")) == ">=3.11"
    assert stack.requires_python("sqlmodel", Version("0.0.8")).contains("3.7")
    assert stack.requires("fastapi", "9.9.9") is None
    assert stack.requires("passlib", "1.7.4") is None  # not in the reference: no release data
    assert stack.requires("no-such-package", "1.0") is None
    assert stack.requires_python("fastapi", "not a version") is None


def _matching(versions) -> set:
    return {rule.id for rule in stack.incompatibilities() if rule.matches(versions)}


def test_incompatibilities_match_installed_versions() -> None:
    v = Version
    assert {"sqlmodel-lt-0.0.14-pydantic-v2", "sqlmodel-lt-0.0.12-sqlalchemy-2"} <= _matching(
        {"sqlmodel": v("0.0.8"), "pydantic": v("2.5.3"), "SQLAlchemy": v("2.0.25")})
    pydantic_2 = {"pydantic": v("2.5.3")}
    assert "fastapi-lt-0.100-pydantic-v2" in _matching({**pydantic_2, "fastapi": v("0.99.1")})
    fastapi_100 = {**pydantic_2, "fastapi": v("0.100.0")}
    assert "fastapi-lt-0.100-pydantic-v2" not in _matching(fastapi_100)
    no_greenlet = {"sqlalchemy": v("2.1.9")}
    assert "sqlalchemy-2.1-async-no-greenlet" in _matching(no_greenlet)
    with_greenlet = {**no_greenlet, "greenlet": v("3.5.6")}
    assert "sqlalchemy-2.1-async-no-greenlet" not in _matching(with_greenlet)


def test_python_conditions_need_the_python_version() -> None:
    old = {"pydantic": Version("1.10.13")}
    assert "pydantic-v1-python-3.12.4" not in _matching(old)
    assert "pydantic-v1-python-3.12.4" in _matching({**old, stack.PYTHON: Version("3.12.4")})
    assert "pydantic-v1-python-3.12.4" not in _matching({**old, stack.PYTHON: Version("3.11.9")})


def test_passlib_with_bcrypt_from_the_failure_catalog() -> None:
    passlib = {"passlib": Version("1.7.4")}
    assert _matching({**passlib, "bcrypt": Version("4.0.1")}) == set()
    assert _matching({**passlib, "bcrypt": Version("4.1.3")}) == {"passlib-bcrypt-ge-4.1"}
    assert _matching({**passlib, "bcrypt": Version("5.0.0")}) == {"passlib-bcrypt-ge-5"}
    rule = next(r for r in stack.incompatibilities() if r.id == "passlib-bcrypt-ge-5")
    assert rule.error.startswith("ValueError: password cannot be longer than 72 bytes")
    assert "D12" in rule.evidence and rule.kind == stack.RUNTIME


def test_every_incompatibility_is_about_the_stack() -> None:
    rules = stack.incompatibilities()
    assert len({rule.id for rule in rules}) == len(rules) > 20
    for rule in rules:
        assert set(rule.packages) <= set(STACK), rule.id
        assert rule.trigger in (stack.VERSIONS, stack.CODE) and rule.error and rule.fix
        assert (rule.code is not None) is (rule.trigger == stack.CODE), rule.id


@pytest.mark.parametrize("drivername,expected", [
    ("postgresql+asyncpg", ("asyncpg",)),
    ("postgresql+psycopg2", ("psycopg2", "psycopg2-binary")),
    ("postgresql+psycopg", ("psycopg",)),
    ("sqlite+aiosqlite", ("aiosqlite",)),
    ("mysql+aiomysql", ("aiomysql",)),
    ("mysql+asyncmy", ("asyncmy",)),
    ("sqlite+pysqlite", ()),
    ("oracle+cx_oracle", None),
])
def test_driver_distributions(drivername: str, expected) -> None:
    assert stack.driver_distributions(drivername) == expected


def test_every_stack_package_has_an_entry() -> None:
    table = json.loads(stack.TABLE.read_text())
    assert set(table["packages"]) == set(STACK)
    assert table["packages"]["fastapi"]["releases"][0]["from"] == "0.68.0"


@pytest.mark.skipif(not REFERENCE.exists(), reason="the research file is not on this machine")
def test_build_script_reproduces_the_shipped_table() -> None:
    script_path = REPO / "scripts" / "build_stack.py"
    spec = importlib.util.spec_from_file_location("build_stack", script_path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    built = json.dumps(script.build(REFERENCE), indent=1, sort_keys=True) + "\n"
    assert built == stack.TABLE.read_text()
