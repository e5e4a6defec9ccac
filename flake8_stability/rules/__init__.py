"""The rule registry: every `Rule` subclass in a module under this package, by code."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Dict, List, Type

from .base import Invalid, Rule, Valid

__all__ = ["Invalid", "Rule", "Valid", "all_rules", "rule_for"]

_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        importlib.import_module(info.name)
    _loaded = True


def all_rules() -> List[Type[Rule]]:
    """Every registered rule class, ordered by code."""
    _load()
    return [Rule._registry[code] for code in sorted(Rule._registry)]


def rule_for(code: str) -> Type[Rule]:
    _load()
    return Rule._registry[code]


def registry() -> Dict[str, Type[Rule]]:
    _load()
    return dict(Rule._registry)
