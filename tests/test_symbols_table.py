"""The shipped moved/removed import table (`knowledge/symbols.json`) behind SBA103."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from flake8_stability.knowledge.symbols import (DEPRECATED, MISSING, REMOVED, TABLE, module_rows,
                                                name_row, symbols)


def test_the_shipped_table_loads_and_every_condition_parses() -> None:
    raw = json.loads(TABLE.read_text())
    assert raw["count"] == len(raw["symbols"]) == len(symbols()) > 30
    for row in raw["symbols"]:
        conditions = [row[key] for key in (REMOVED, MISSING, DEPRECATED) if key in row]
        assert conditions, row["id"]
        for condition in conditions:
            SpecifierSet(condition)
        assert row["message"] and row["new"], row["id"]


def test_basesettings_on_pydantic_2_is_removed_and_moved_to_pydantic_settings() -> None:
    row = name_row("pydantic", "BaseSettings")
    assert row is not None and row.state(Version("2.14.4")) == REMOVED
    assert row.state(Version("1.10.17")) is None
    assert row.needs == "pydantic-settings" and "pydantic_settings" in row.new
    assert row.text("BaseSettings").startswith(
        "pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the "
        "`pydantic-settings` package.")
    assert row.attribute and row.assumed_state() == REMOVED


def test_async_sessionmaker_is_missing_on_sqlalchemy_1_4() -> None:
    row = name_row("sqlalchemy.ext.asyncio", "async_sessionmaker")
    assert row is not None and row.state(Version("1.4.54")) == MISSING
    assert row.state(Version("2.0.0")) is None and row.state(Version("2.1.9")) is None
    assert row.assumed_state() is None  # not settled: silent when the version is unknown
    assert row.text("async_sessionmaker") == (
        "ImportError: cannot import name 'async_sessionmaker' from 'sqlalchemy.ext.asyncio'")


def test_validator_on_pydantic_2_is_deprecated() -> None:
    row = name_row("pydantic", "validator")
    assert row is not None and row.state(Version("2.14.4")) == DEPRECATED
    assert row.state(Version("1.10.17")) is None


def test_names_of_one_module_that_behave_differently() -> None:
    utils = name_row("pydantic.utils", "deep_update")
    other = name_row("pydantic.utils", "not_there")
    assert utils is not None and utils.state(Version("2.5")) == DEPRECATED
    assert other is not None and other.state(Version("2.5")) == REMOVED
    middleware = name_row("starlette.exceptions", "ExceptionMiddleware")
    assert middleware is not None and middleware.state(Version("0.30.0")) == DEPRECATED
    assert middleware.state(Version("0.45.0")) == REMOVED
    assert middleware.state(Version("0.19.0")) is None
    assert name_row("pydantic", "BaseModel") is None


def test_module_rows_cover_whole_modules() -> None:
    assert [row.id for row in module_rows("sqlalchemy.databases")] == ["sqlalchemy.databases"]
    asyncio = module_rows("sqlalchemy.ext.asyncio")
    assert asyncio and asyncio[0].state(Version("1.3.24")) == MISSING
    assert asyncio[0].state(Version("1.4.0")) is None
    assert module_rows("pydantic.typing") == []  # the module imports; its names are gone


def test_the_build_script_reproduces_the_shipped_table() -> None:
    reference = Path("/work/shared/reference/compat/symbols.json")
    if not reference.exists():
        pytest.skip("the research file lives outside the repository")
    script = Path(__file__).resolve().parent.parent / "scripts" / "build_symbols.py"
    spec = importlib.util.spec_from_file_location("build_symbols", script)
    assert spec is not None and spec.loader is not None
    build_symbols = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_symbols)
    assert build_symbols.build(reference) == json.loads(TABLE.read_text())
