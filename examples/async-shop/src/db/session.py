"""Database engine and session factory."""
import os
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import SQLModel

# Left over from the sync tutorial: the URL still names the sync sqlite driver.
DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///./shop.db")

engine = create_async_engine(DATABASE_URL, echo=False, pool_pre_ping=True)

async_session = sessionmaker(engine, class_=AsyncSession)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with async_session() as session:
        yield session


async def init_db() -> None:
    SQLModel.metadata.create_all(engine)
