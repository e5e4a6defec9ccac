"""Names resolve to the API they were imported as, only where that import is in scope."""
from __future__ import annotations

import ast

import pytest

from analysis_helpers import last_call, module_from


def callee(source: str, name: str):
    module = module_from(source)
    return module.call_name(last_call(module, name))


@pytest.mark.parametrize("source,name,expected", [
    ("import sqlalchemy as sa\nsa.create_engine('x')", "create_engine", "sqlalchemy.create_engine"),
    ("from sqlalchemy.ext import asyncio as sa_async\nsa_async.create_async_engine('x')",
     "create_async_engine", "sqlalchemy.ext.asyncio.create_async_engine"),
    ("import sqlalchemy.ext.asyncio\nsqlalchemy.ext.asyncio.create_async_engine('x')",
     "create_async_engine", "sqlalchemy.ext.asyncio.create_async_engine"),
    ("from sqlmodel import create_engine as ce\nce('x')", "ce", "sqlalchemy.create_engine"),
    ("def f():\n    from sqlalchemy import create_engine\n    return create_engine('x')",
     "create_engine", "sqlalchemy.create_engine"),
])
def test_imported_names_resolve(source: str, name: str, expected: str) -> None:
    assert callee(source, name) == expected


@pytest.mark.parametrize("source,name", [
    # A parameter shadows the import (SQLAlchemy's own asyncio example does this).
    ("from sqlalchemy.ext.asyncio import async_sessionmaker\n"
     "async def run(async_sessionmaker):\n    async with async_sessionmaker() as s:\n        pass",
     "async_sessionmaker"),
    ("from sqlalchemy import create_engine\ncreate_engine = make_fake\ncreate_engine('x')",
     "create_engine"),
    ("def f():\n    from sqlalchemy import create_engine\ncreate_engine('x')", "create_engine"),
    ("try:\n    from sqlmodel import create_engine\nexcept ImportError:\n"
     "    from mylib import create_engine\ncreate_engine('x')", "create_engine"),
    ("def create_engine(url):\n    return url\ncreate_engine('x')", "create_engine"),
])
def test_shadowed_or_local_names_do_not_resolve(source: str, name: str) -> None:
    assert callee(source, name) is None


def test_string_annotations_resolve_at_module_scope() -> None:
    module = module_from("from sqlalchemy.ext.asyncio import AsyncSession\n")
    assert module.qualname(ast.parse("AsyncSession", mode="eval").body) == (
        "sqlalchemy.ext.asyncio.AsyncSession")
