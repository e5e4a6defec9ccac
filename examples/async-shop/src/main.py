"""The ASGI app: `uvicorn src.main:app`."""
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from src.api import health, orders, products
from src.core.config import settings
from src.db.session import engine, init_db


@asynccontextmanager
async def lifespan(app: FastAPI):
    await init_db()
    yield


app = FastAPI(title=settings.app_name, lifespan=lifespan)
app.add_middleware(
    CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"]
)
app.include_router(products.router)
app.include_router(orders.router)
app.include_router(health.router)


@app.on_event("shutdown")
async def close_engine() -> None:
    await engine.dispose()
