"""Database URL parsing and redaction."""
from __future__ import annotations

import pytest
from packaging.version import Version

from flake8_stability.analysis.urls import DatabaseURL, redact
from flake8_stability.analysis.values import StrValue


def parse(text: str, complete: bool = True) -> DatabaseURL:
    url = DatabaseURL.parse(StrValue(text, complete))
    assert url is not None
    return url


@pytest.mark.parametrize("text,dialect,driver", [
    ("postgresql+asyncpg://u:p@h/db", "postgresql", "asyncpg"),
    ("postgresql://u@h/db", "postgresql", None),
    ("sqlite+aiosqlite:///./a.db", "sqlite", "aiosqlite"),
    ("mysql+aiomysql://u:p@h/db", "mysql", "aiomysql"),
    ("postgres://u:p@h/db", "postgres", None),
])
def test_scheme(text: str, dialect: str, driver: str) -> None:
    url = parse(text)
    assert (url.dialect, url.driver) == (dialect, driver)


def test_not_a_url() -> None:
    assert DatabaseURL.parse(StrValue("just text", True)) is None
    assert DatabaseURL.parse(StrValue("postgresql", False)) is None


@pytest.mark.parametrize("version,driver", [("1.4.54", "psycopg2"), ("2.0.44", "psycopg2"),
                                            ("2.1.9", "psycopg"), (None, None)])
def test_bare_postgresql_driver_depends_on_sqlalchemy(version, driver) -> None:
    url = parse("postgresql://u@h/db")
    assert url.effective_driver(Version(version) if version else None) == driver


@pytest.mark.parametrize("text,complete,memory", [
    ("sqlite://", True, True),
    ("sqlite:///:memory:", True, True),
    ("sqlite+aiosqlite:///:memory:", True, True),
    ("sqlite:///file::memory:?cache=shared&uri=true", True, True),
    ("sqlite:///./app.db", True, False),
    ("sqlite:////var/data/app.db", True, False),
    ("sqlite:///./", False, False),
    ("sqlite:///", False, None),
    ("postgresql://h/db", True, False),
])
def test_memory(text: str, complete: bool, memory) -> None:
    assert parse(text, complete).memory is memory


def test_query() -> None:
    assert parse("postgresql+asyncpg://h/db?sslmode=require&x=1").query() == {
        "sslmode": "require", "x": "1"}
    assert parse("postgresql+asyncpg://h/db").query() == {}
    assert parse("postgresql+asyncpg://h/db", complete=False).query() is None


@pytest.mark.parametrize("text,shown", [
    ("postgresql+asyncpg://app:s3cret@db:5432/app", "postgresql+asyncpg://app:***@db:5432/app"),
    ("see mysql://root:p%40ss@h/db and postgres://u:x@h/d",
     "see mysql://root:***@h/db and postgres://u:***@h/d"),
    ("postgresql://app@db/app", "postgresql://app@db/app"),
    ("mysql+pymysql://app:pa/ss word@db/app", "mysql+pymysql://app:***@db/app"),
    ("postgresql://user@corp:s3cret@db/app", "postgresql://user@corp:***@db/app"),
    ("'postgresql+asyncpg://u:it's@db/app'", "'postgresql+asyncpg://u:***@db/app'"),
    ("sqlite:///./a.db", "sqlite:///./a.db"),
])
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_shown_marks_partial_urls() -> None:
    assert parse("postgresql://app:pw@", complete=False).shown() == "postgresql://app:***@…"
