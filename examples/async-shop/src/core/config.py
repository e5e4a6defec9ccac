"""Application settings, read from the environment."""
from pydantic import BaseSettings


class Settings(BaseSettings):
    app_name: str = "async-shop"
    cors_origins: list[str] = ["http://localhost:5173"]
    # Signs the order confirmation links; set per environment.
    secret_key: str


settings = Settings()
