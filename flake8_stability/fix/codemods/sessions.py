"""Session codemods: `async-sessionmaker` (SBA304), `sqlmodel-async-session` (SBA305) and
`expire-on-commit-false` (SBA309). The first and the last find their call by the callee the
finding's fix data names (`callee`: `sessionmaker`, `orm.sessionmaker`, ...)."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import edits
from ..codemod import Codemod, Outcome, Target, positions
from .common import named_call

_SA_ASYNC = "sqlalchemy.ext.asyncio"
_SQLMODEL_ASYNC = "sqlmodel.ext.asyncio.session"
_SESSIONMAKER_HOMES = ("sqlalchemy.orm", "sqlalchemy.orm.session")
_FALSE = cst.Name("False")


def _with_expire_on_commit_false(call: cst.Call) -> cst.Call:
    """`expire_on_commit=False`, set or appended (calls with `**options` are left alone)."""
    given = edits.keyword_arg(call, "expire_on_commit")
    if given is not None:
        if isinstance(given.value, cst.Name) and given.value.value == "False":
            return call
        return call.with_changes(args=[arg.with_changes(value=_FALSE) if arg is given else arg
                                       for arg in call.args])
    if edits.has_double_star(call):
        return call
    return edits.with_keyword(call, "expire_on_commit", _FALSE)


class AsyncSessionmaker(Codemod):
    """`sessionmaker(async_engine)` -> `async_sessionmaker(async_engine,
    expire_on_commit=False)`. Unsafe: code that uses the factory's sessions synchronously has
    to await them afterwards; the codemod changes only the factory."""

    name = "async-sessionmaker"
    codes = ("SBA304",)
    safe = False
    summary = ("sessionmaker(async_engine) -> async_sessionmaker(async_engine, "
               "expire_on_commit=False); sessions must then be used with async with/await")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        for target in targets:
            call, why = named_call(wrapper, target)
            why = why or self._refusal(wrapper, call)
            if why:
                outcome.skipped.append((target, why))
                continue
            planned[call] = self._rewrite  # type: ignore[index]
            outcome.fixed.append(target)
        module = edits.replace(wrapper.module, planned)
        if planned:
            module = edits.add_import(module, _SA_ASYNC, "async_sessionmaker")
            for home in _SESSIONMAKER_HOMES:
                module = edits.drop_unused_import(module, home, "sessionmaker")
        outcome.module = module
        return outcome

    @staticmethod
    def _refusal(wrapper: MetadataWrapper, call: Optional[cst.Call]) -> str:
        if call is None:
            return "no sessionmaker(...) call at the finding's position"
        if edits.keyword_arg(call, "class_") is not None:
            return "the factory names its class_; changing the factory is a manual decision"
        name = edits.source(call.func).rsplit(".", 1)[-1]
        if name != "sessionmaker":
            return f"{edits.source(call.func)}() is not a sessionmaker call"
        taken = edits.imported_from(wrapper, call, "async_sessionmaker", (_SA_ASYNC,))
        if taken is False:
            return "the name async_sessionmaker is bound to something else in this module"
        return ""

    @staticmethod
    def _rewrite(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        return _with_expire_on_commit_false(
            node.with_changes(func=cst.Name("async_sessionmaker")))


class ExpireOnCommitFalse(Codemod):
    """Adds `expire_on_commit=False` to an async session factory or `AsyncSession(...)` (or
    turns an explicit `True` into `False`)."""

    name = "expire-on-commit-false"
    codes = ("SBA309",)
    safe = True
    summary = "add expire_on_commit=False to the async session or session factory"

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        for target in targets:
            call, why = named_call(wrapper, target)
            if call is None:
                outcome.skipped.append((target, why or "no session call at the finding's "
                                                       "position"))
            elif edits.has_double_star(call) and edits.keyword_arg(call,
                                                                   "expire_on_commit") is None:
                outcome.skipped.append((target, "the call passes **options, which may set "
                                                "expire_on_commit already"))
            else:
                planned[call] = _with_expire_on_commit_false  # type: ignore[assignment]
                outcome.fixed.append(target)
        outcome.module = edits.replace(wrapper.module, planned)
        return outcome


class SqlmodelAsyncSession(Codemod):
    """Makes the session that `.exec()` is called on SQLModel's AsyncSession: the module's
    `from sqlalchemy.ext.asyncio import AsyncSession` becomes `from
    sqlmodel.ext.asyncio.session import AsyncSession`, and a factory without `class_=` gets
    `class_=AsyncSession`. Safe: SQLModel's class subclasses SQLAlchemy's."""

    name = "sqlmodel-async-session"
    codes = ("SBA305",)
    safe = True
    summary = ("use SQLModel's AsyncSession (from sqlmodel.ext.asyncio.session) where the "
               "session is made, so .exec() exists")

    def apply(self, wrapper: MetadataWrapper, targets: Sequence[Target]) -> Outcome:
        outcome = Outcome(wrapper.module)
        planned: Dict[cst.CSTNode, edits.Edit] = {}
        switch = False
        for target in targets:
            origin, why = _session_origin(wrapper, target)
            if origin is None:
                outcome.skipped.append((target, why))
                continue
            name = edits.source(origin.func).rsplit(".", 1)[-1]
            if not isinstance(origin.func, cst.Name):
                outcome.skipped.append((target, f"{edits.source(origin.func)}() is not called "
                                                f"by a plain imported name"))
                continue
            bound = edits.imported_from(wrapper, origin, "AsyncSession",
                                        (_SA_ASYNC, _SQLMODEL_ASYNC))
            why = _refusal(wrapper.module, origin, name, bound)
            if why:
                outcome.skipped.append((target, why))
                continue
            if name != "AsyncSession" and edits.keyword_arg(origin, "class_") is None:
                planned[origin] = _with_class
            switch = True
            outcome.fixed.append(target)
        module = edits.replace(wrapper.module, planned)
        outcome.module = _use_sqlmodel_class(module) if switch else module
        return outcome


def _refusal(module: cst.Module, origin: cst.Call, name: str, bound: Optional[bool]) -> str:
    """Why the session made by `origin` cannot become SQLModel's by this codemod, or ""."""
    if bound is False or (bound is None and name == "AsyncSession"):
        return ("the name AsyncSession is bound to something other than an import from "
                "SQLAlchemy or SQLModel")
    if bound and not any(_imports_async_session(statement) for line in module.body
                         if isinstance(line, cst.SimpleStatementLine) for statement in line.body):
        return "AsyncSession is imported inside a block, not at module level; change it there"
    given = edits.keyword_arg(origin, "class_")
    if given is not None and not (isinstance(given.value, cst.Name)
                                  and given.value.value == "AsyncSession"):
        return f"the factory makes {edits.source(given.value)} sessions; change that class"
    return ""


def _imports_async_session(statement: cst.BaseSmallStatement) -> bool:
    """`from sqlalchemy.ext.asyncio import AsyncSession` or SQLModel's, unaliased."""
    return (isinstance(statement, cst.ImportFrom) and statement.module is not None
            and not statement.relative
            and edits.source(statement.module) in (_SA_ASYNC, _SQLMODEL_ASYNC)
            and not isinstance(statement.names, cst.ImportStar)
            and any(_is_async_session(alias) for alias in statement.names))


def _with_class(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.Call)
    return edits.with_keyword(node, "class_", cst.Name("AsyncSession"))


def _session_origin(wrapper: MetadataWrapper, target: Target
                    ) -> Tuple[Optional[cst.Call], str]:
    """The call that makes the session the finding's `.exec()` runs on (its related location),
    or why there is none to change."""
    related = [place for place in target.finding.related if place.path == target.finding.path]
    if not related:
        return None, "the finding names no place where the session is made"
    place = related[0]
    spans = positions(wrapper)
    calls: List[cst.Call] = [node for node, where in spans.items() if isinstance(node, cst.Call)
                             and where.start.line == place.line
                             and where.start.column == place.col]
    known = [call for call in calls if edits.source(call.func).rsplit(".", 1)[-1]
             in ("async_sessionmaker", "sessionmaker", "AsyncSession")]
    if not known:
        return None, ("the session comes from an annotation: it is made where the dependency "
                      "creates it, which this file does not show; change that place by hand")
    return known[0], ""


def _use_sqlmodel_class(module: cst.Module) -> cst.Module:
    """`from sqlalchemy.ext.asyncio import AsyncSession` -> SQLModel's, same name."""
    planned: Dict[cst.CSTNode, edits.Edit] = {}
    for line in module.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for statement in line.body:
            if _imports_async_session(statement) and edits.source(
                    statement.module) == _SA_ASYNC:  # type: ignore[union-attr]
                planned[line if len(line.body) == 1 else statement] = _drop_async_session
    module = edits.replace(module, planned)
    return edits.add_import(module, _SQLMODEL_ASYNC, "AsyncSession")


def _is_async_session(alias: cst.CSTNode) -> bool:
    return (isinstance(alias, cst.ImportAlias) and alias.asname is None
            and edits.source(alias.name) == "AsyncSession")


def _drop_async_session(node: cst.CSTNode) -> cst.CSTNode:
    if isinstance(node, cst.SimpleStatementLine):
        statement = node.body[0]
        if isinstance(statement, cst.ImportFrom) and len(statement.names) == 1:  # type: ignore
            return cst.RemovalSentinel.REMOVE  # type: ignore[return-value]
        return node.with_changes(body=[_drop_async_session(statement)])
    assert isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar)
    names = edits.without_elements(node.names, _is_async_session)
    return node.with_changes(names=names)
