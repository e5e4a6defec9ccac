"""The object resolver: what an expression is (engine, factory, session), in-process."""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Optional

import pytest

from flake8_stability.analysis.objects import Session
from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.knowledge import names as N

HEADER = '''
from contextlib import asynccontextmanager
from typing import Annotated, AsyncGenerator, AsyncIterator, TYPE_CHECKING

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelAsyncSession

engine = create_async_engine("sqlite+aiosqlite://")
sync_engine = create_engine("sqlite://")
'''


def _module(source: str) -> ModuleContext:
    code = textwrap.dedent(HEADER) + textwrap.dedent(source)
    return ModuleContext("m.py", code.splitlines(True), ast.parse(code), ProjectContext(Path(".")))


def _target(module: ModuleContext) -> ast.expr:
    """The receiver of the module's last `.target()` call."""
    calls = [c for c in module.calls
             if isinstance(c.func, ast.Attribute) and c.func.attr == "target"]
    return max(calls, key=lambda c: c.lineno).func.value  # type: ignore[union-attr]


def _session(source: str) -> Optional[Session]:
    module = _module(source)
    return module.objects.session(_target(module))


def _session_class(source: str) -> Optional[str]:
    found = _session(source)
    return found.cls if found else None


@pytest.mark.parametrize("source,expected", [
    ("engine.target()", True),
    ("sync_engine.target()", False),
    ("engine.sync_engine.target()", False),
    ("AsyncEngine(create_engine('sqlite+aiosqlite://')).target()", True),
    ("def get_engine():\n    return engine\nget_engine().target()", True),
    ("def f(e: AsyncEngine):\n    e.target()", True),
    ("async def get_engine():\n    return engine\nget_engine().target()", None),
    ("if x:\n    e = engine\nelse:\n    e = sync_engine\ne.target()", None),
])
def test_engine_kind(source: str, expected: Optional[bool]) -> None:
    module = _module(source)
    found = module.objects.engine(_target(module))
    assert (found.is_async if found else None) is expected


@pytest.mark.parametrize("source,expected", [
    ("sessionmaker(engine).target()", N.SA_SESSION),
    ("async_sessionmaker(engine).target()", N.SA_ASYNC_SESSION),
    ("sessionmaker(engine, class_=AsyncSession).target()", N.SA_ASYNC_SESSION),
    ("sessionmaker(engine, AsyncSession).target()", N.SA_ASYNC_SESSION),
    ("async_sessionmaker(engine, class_=SQLModelAsyncSession).target()", N.SQLMODEL_ASYNC_SESSION),
    ("scoped_session(sessionmaker(engine)).target()", N.SA_SESSION),
    ("async_sessionmaker(engine, **options).target()", None),
    ("sessionmaker(*args).target()", None),
    ("async_sessionmaker(engine, class_=MySession).target()", None),
])
def test_factory_class(source: str, expected: Optional[str]) -> None:
    module = _module(source)
    found = module.objects.factory(_target(module))
    assert (found.cls if found else None) == expected


def test_session_from_factory_in_async_with() -> None:
    assert _session_class('''
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

        async def handler():
            async with SessionLocal() as session:
                session.target()
    ''') == N.SA_ASYNC_SESSION


def test_session_from_factory_begin_only_when_entered() -> None:
    assert _session_class('''
        SessionLocal = async_sessionmaker(engine)

        async def handler():
            async with SessionLocal.begin() as session:
                session.target()
    ''') == N.SA_ASYNC_SESSION
    assert _session_class('''
        SessionLocal = async_sessionmaker(engine)
        transaction = SessionLocal.begin()
        transaction.target()
    ''') is None


def test_depends_on_async_generator_yielding_from_factory() -> None:
    found = _session('''
        SessionLocal = async_sessionmaker(engine)

        async def get_db():
            async with SessionLocal() as session:
                yield session

        async def route(session=Depends(get_db)):
            session.target()
    ''')
    assert found is not None and found.cls == N.SA_ASYNC_SESSION and not found.declared


def test_dependency_decides_over_annotation() -> None:
    assert _session_class('''
        SessionLocal = async_sessionmaker(engine, class_=SQLModelAsyncSession)

        async def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                await db.close()

        async def route(session: AsyncSession = Depends(get_db)):
            session.target()
    ''') == N.SQLMODEL_ASYNC_SESSION


def test_annotated_alias_follows_its_dependency() -> None:
    assert _session_class('''
        async def get_session() -> AsyncGenerator[AsyncSession, None]:
            async with AsyncSession(engine) as session:
                yield session

        SessionDep = Annotated[SQLModelAsyncSession, Depends(get_session)]

        async def route(session: SessionDep):
            session.target()
    ''') == N.SA_ASYNC_SESSION


def test_annotation_when_the_dependency_is_elsewhere() -> None:
    found = _session('''
        from .db import get_session

        async def route(session: Annotated[AsyncSession, Depends(get_session)]):
            session.target()
    ''')
    assert found is not None and found.cls == N.SA_ASYNC_SESSION and found.declared


def test_generator_return_annotation_when_yield_is_unknown() -> None:
    assert _session_class('''
        from .db import make_session

        async def get_session() -> AsyncIterator[SQLModelAsyncSession]:
            async with make_session() as session:
                yield session

        async def route(session=Depends(get_session)):
            session.target()
    ''') == N.SQLMODEL_ASYNC_SESSION


def test_string_annotation_under_type_checking() -> None:
    assert _session_class('''
        if TYPE_CHECKING:
            from sqlalchemy.orm import Session as OrmSession

        def route(session: "OrmSession"):
            session.target()
    ''') == N.SA_SESSION


def test_async_context_manager_function() -> None:
    assert _session_class('''
        @asynccontextmanager
        async def session_scope():
            async with AsyncSession(engine) as session:
                yield session

        async def job():
            async with session_scope() as session:
                session.target()
    ''') == N.SA_ASYNC_SESSION


def test_plain_generator_call_is_not_a_session() -> None:
    assert _session_class('''
        async def get_session():
            async with AsyncSession(engine) as session:
                yield session

        async def job():
            session = get_session()
            session.target()
    ''') is None


def test_coroutine_only_when_awaited() -> None:
    source = '''
        async def make_session():
            return AsyncSession(engine)

        async def job():
            session = {}make_session()
            session.target()
    '''
    assert _session_class(source.format("await ")) == N.SA_ASYNC_SESSION
    assert _session_class(source.format("")) is None


def test_self_attribute_assigned_in_init() -> None:
    assert _session_class('''
        class Repository:
            def __init__(self, session: AsyncSession):
                self.session = session

            async def get(self):
                self.session.target()
    ''') == N.SA_ASYNC_SESSION


def test_self_attribute_declared_on_the_class() -> None:
    assert _session_class('''
        class Repository:
            session: SQLModelAsyncSession

            async def get(self):
                self.session.target()
    ''') == N.SQLMODEL_ASYNC_SESSION


def test_self_attribute_with_disagreeing_assignments_is_unknown() -> None:
    assert _session_class('''
        class Repository:
            def __init__(self, session: AsyncSession):
                self.session = session

            def reset(self):
                self.session = Session(sync_engine)

            async def get(self):
                self.session.target()
    ''') is None


def test_unknown_parameter_stays_unknown() -> None:
    assert _session_class('''
        async def handler(session, other=Depends(lambda: None)):
            session.target()
    ''') is None
