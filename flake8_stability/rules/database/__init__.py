"""SBA3xx: database and async rules, one module per theme."""
from __future__ import annotations

from ..base import Rule


class DatabaseRule(Rule):
    """Base of the SBA3xx rules: they only look at files that mention SQLAlchemy or SQLModel."""

    triggers = ("sqlalchemy", "sqlmodel")
