"""Application settings, read from the environment."""
from pydantic import BaseSettings


class Settings(BaseSettings):
    app_name: str = "async-shop"
    cors_origins: list[str] = ["http://localhost:5173"]


settings = Settings()
