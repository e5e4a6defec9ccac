"""flake8-stability: everything that stops a FastAPI + SQLModel/SQLAlchemy backend from booting."""

__version__ = "0.1.0"
