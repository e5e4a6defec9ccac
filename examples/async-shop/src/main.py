"""The ASGI app: `uvicorn src.main:app`."""
from contextlib import asynccontextmanager

from fastapi import FastAPI

from src.api import health, products
from src.db.session import init_db


@asynccontextmanager
async def lifespan(app: FastAPI):
    await init_db()
    yield


app = FastAPI(title="async-shop", lifespan=lifespan)
app.include_router(products.router)
app.include_router(health.router)
