"""Module summaries: what runs at import, under which guard, and which names get bound."""
from __future__ import annotations

import ast
import textwrap

from flake8_stability.project.summary import (CONDITION_GUARD, TRY_GUARD, TYPE_CHECKING_GUARD,
                                              summarize)

SOURCE = textwrap.dedent('''\
    """Doc."""
    from __future__ import annotations

    import os
    import sqlalchemy.ext.asyncio as sa_async
    from typing import TYPE_CHECKING
    from . import models
    from ..core.config import settings as cfg

    if TYPE_CHECKING:
        from app.models.team import Team
    else:
        Team = None

    try:
        import orjson as json
    except ImportError:
        import json

    if os.environ.get("DEBUG"):
        from app.debug import toolbar

    class Hero:
        from app.models.mixins import Mixin

        def load(self):
            from app.services import heroes
            return heroes

    def helper():
        import asyncio
        return asyncio

    engine, other = make(), None
    for index in range(3):
        pass
    with open(os.devnull) as handle:
        pass
    if (flag := os.environ.get("X")):
        pass
    __all__ = ["Hero", "helper"]
''')


def test_imports_with_scope_and_guard() -> None:
    summary = summarize(ast.parse(SOURCE))
    found = {(r.module, r.level): (r.line, r.deferred, r.guard) for r in summary.imports}
    assert found[("os", 0)] == (4, False, None)
    assert found[("sqlalchemy.ext.asyncio", 0)] == (5, False, None)
    assert found[("", 1)] == (7, False, None)
    assert found[("core.config", 2)] == (8, False, None)
    assert found[("app.models.team", 0)] == (11, False, TYPE_CHECKING_GUARD)
    assert found[("orjson", 0)] == (16, False, TRY_GUARD)
    assert found[("json", 0)] == (18, False, CONDITION_GUARD)
    assert found[("app.debug", 0)] == (21, False, CONDITION_GUARD)
    assert found[("app.models.mixins", 0)] == (24, False, None)  # class bodies run at import
    assert found[("app.services", 0)] == (27, True, None)
    assert found[("asyncio", 0)] == (31, True, None)
    assert [r.line for r in summary.imports] == sorted(r.line for r in summary.imports)


def test_runs_at_import() -> None:
    summary = summarize(ast.parse(SOURCE))
    running = {r.module for r in summary.imports if r.runs_at_import}
    assert "app.models.team" not in running and "app.services" not in running
    assert {"os", "orjson", "json", "app.debug", "app.models.mixins"} <= running


def test_bindings_and_all() -> None:
    summary = summarize(ast.parse(SOURCE))
    for name in ("os", "sa_async", "TYPE_CHECKING", "models", "cfg", "Team", "json", "toolbar",
                 "Hero", "helper", "engine", "other", "index", "handle", "flag", "__all__"):
        assert summary.binds(name), name
    assert summary.bindings["Team"] == 11  # first binding, under TYPE_CHECKING
    assert not summary.binds("heroes") and not summary.binds("asyncio")
    assert not summary.binds("Mixin")  # a class attribute, not a module name
    assert summary.all_names == ("Hero", "helper")
    assert not summary.star_imports


def test_relative_imports_resolve_against_the_package() -> None:
    summary = summarize(ast.parse("from . import a\nfrom .b import c\nfrom ..d import e\n"))
    first, second, third = summary.imports
    assert first.absolute("app.api") == "app.api"
    assert second.absolute("app.api") == "app.api.b"
    assert third.absolute("app.api") == "app.d"
    assert third.absolute("app") is None  # beyond the top-level package
    assert second.absolute(None) is None  # a script: no package


def test_star_import() -> None:
    assert summarize(ast.parse("from app.models import *\n")).star_imports


def test_one_record_per_module_of_a_plain_import() -> None:
    code = "import os, app.missing as gone\n\ndef later():\n    import json, app.lazy\n"
    found = [(r.module, r.line, r.deferred) for r in summarize(ast.parse(code)).imports]
    assert found == [("os", 1, False), ("app.missing", 1, False), ("json", 4, True),
                     ("app.lazy", 4, True)]
