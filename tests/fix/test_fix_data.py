"""Structured fix data (`Fix.data`): the codemods that need names from a finding read them from
its data, never from its text, so rewording a message, a root cause or a fix description changes
no edit (checked for every codemod on its golden inputs, and by an AST check of the fix
package, which reads no related location's note either); the data survives the JSON report and
the redactor."""
from __future__ import annotations

import ast
import copy
import dataclasses
import json
import pickle
import shutil
from pathlib import Path
from typing import Dict, Iterator, List, Sequence, Tuple

import pytest
from app_fix_projects import findings, write
from golden_files import CODEMODS, interpreter

import flake8_stability.fix
from flake8_stability.audit.secrets import Redactor
from flake8_stability.engine import ProjectAudit, Selection, audit
from flake8_stability.findings import Finding, Fix
from flake8_stability.fix.apply import FileFix, fix_files
from flake8_stability.fix.codemod import apply_codemod, registry

PROJECTS: Dict[str, Dict[str, str]] = {
    "SBA404": {
        "app/__init__.py": "",
        "app/api/__init__.py": "",
        "app/api/users.py": "from fastapi import APIRouter\n\nrouter = APIRouter()\n",
        "app/main.py": '''
            from fastapi import FastAPI

            from app.api import users

            app = FastAPI()
            app.include_router(users)
        ''',
    },
    "SBA601": {
        "app/__init__.py": "",
        "app/routers/users.py": "from fastapi import APIRouter\n\nrouter = APIRouter()\n",
        "app/main.py": '''
            from fastapi import FastAPI

            from app.routers import users

            app = FastAPI()
            app.include_router(users.router)
        ''',
    },
    "SBA602": {
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\nfrom app import routes\n\napp = FastAPI()\n",
        "app/routes.py": '''
            from app.main import app


            def title() -> str:
                return app.title
        ''',
    },
    "SBA211": {
        "app/__init__.py": "",
        "app/schemas.py": '''
            from pydantic import BaseModel, Field, root_validator


            class User(BaseModel):
                name: str = Field(regex="^[a-z]+$")
                tags: list = Field(default_factory=list, max_items=3)

                @root_validator
                def check(cls, values):
                    return values

                class Config:
                    orm_mode = True
        ''',
    },
}


# Codemods that need nothing from a finding but its place (and its related locations' places, the
# project's files and environment): they read no fix data, and no finding text either.
WITHOUT_DATA = frozenset({
    "add-database-driver", "add-python-multipart", "depends-uncall", "on-event-to-lifespan",
    "pydantic-email-extra", "router-prefix-slashes", "run-sync-create-all",
    "sqlalchemy-asyncio-extra", "sqlmodel-async-session", "str-dsn", "wrap-text",
})
HUMAN_TEXT = frozenset({"message", "root_cause", "description", "note"})  # note: a location's
# Where stability-fix shows text to the user, never parsing it: a file problem's message, the
# findings --verify finds new, the boot probe's error.
SHOWN = frozenset({("cli.py", "_report_skipped"), ("cli.py", "_new_findings"),
                   ("cli.py", "_boot")})


def reworded(finding: Finding) -> Finding:
    return dataclasses.replace(finding, message="reworded", root_cause="reworded",
                               fix=dataclasses.replace(finding.fix, description="reworded"))


@pytest.mark.parametrize("code", sorted(PROJECTS))
def test_rewording_a_finding_changes_no_edit(tmp_path: Path, code: str) -> None:
    write(tmp_path, PROJECTS[code])
    found = findings(tmp_path, code)
    assert found and all(finding.fix.data for finding in found)
    (path,) = {finding.path for finding in found}
    codemod = registry()[found[0].fix.codemod or ""]()
    source = Path(path).read_text()
    plain = apply_codemod(codemod, source, found)
    other = apply_codemod(codemod, source, [reworded(finding) for finding in found])
    assert not plain.skipped and len(plain.fixed) == len(found)
    assert plain.module.code != source or plain.created
    assert (other.module.code, other.created, len(other.fixed)) == (
        plain.module.code, plain.created, len(plain.fixed))


def test_a_finding_without_data_is_skipped_not_guessed(tmp_path: Path) -> None:
    write(tmp_path, PROJECTS["SBA404"])
    (finding,) = findings(tmp_path, "SBA404")
    bare = dataclasses.replace(finding, fix=dataclasses.replace(finding.fix, data={}))
    source = Path(finding.path).read_text()
    outcome = apply_codemod(registry()["include-router-attribute"](), source, [bare])
    assert outcome.module.code == source and len(outcome.skipped) == 1


def test_fix_data_is_read_only_and_survives_json_and_redaction() -> None:
    fix = Fix("Pass the router.", "include-router-attribute", data={"argument": "users",
                                                                    "router": "router"})
    with pytest.raises(TypeError):
        fix.data["router"] = "other"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(fix)) == fix and hash(fix) == hash(copy.deepcopy(fix))
    finding = dataclasses.replace(Finding.from_dict(_minimal()), fix=fix)
    again = Finding.from_dict(json.loads(json.dumps(finding.to_dict())))
    assert again == finding and dict(again.fix.data) == {"argument": "users", "router": "router"}
    assert "data" not in Finding.from_dict(_minimal()).to_dict()["fix"]  # absent when empty
    secret = dataclasses.replace(fix, data={"folder": "deploy/hunter2-secret"})
    redactor = Redactor.of_values(["hunter2-secret"])
    masked = redactor.finding(dataclasses.replace(finding, fix=secret))
    assert dict(masked.fix.data) == {"folder": "deploy/***"}
    assert masked.fix.codemod == "include-router-attribute"


def _minimal() -> dict:
    return {"code": "SBA404", "severity": "warning", "category": "app", "path": "app/main.py",
            "line": 6, "col": 19, "message": "m", "root_cause": "r",
            "fix": {"description": "f", "codemod": None, "safe": True}}


def _golden_findings(tmp_path: Path, codemod: str) -> Tuple[List[Finding], List[ProjectAudit]]:
    """The findings naming `codemod` in a copy of its golden's `before/` project, judged with the
    golden's interpreter when it names one, and the engine's results."""
    project = tmp_path / codemod
    shutil.copytree(CODEMODS / codemod / "before", project)
    python = interpreter(codemod, tmp_path)
    results = audit([project], Selection(select=registry()[codemod].codes),
                    python=python[-1] if python else None)
    return [f for r in results for f in r.findings if f.fix.codemod == codemod], results


def _outcome(fixes: Sequence[FileFix]) -> List[tuple]:
    """What stability-fix would do, with findings named by place only (their text differs)."""
    def place(finding: Finding) -> Tuple[str, int, int, str]:
        return finding.path, finding.line, finding.col, finding.code

    return [(fix.path, fix.after, fix.problem, [(c.path, c.content) for c in fix.created],
             [(a.codemod, a.safe, [place(f) for f in a.findings], a.notes) for a in fix.applied],
             [(place(s.finding), s.codemod, s.reason) for s in fix.skipped]) for fix in fixes]


@pytest.mark.parametrize("codemod", sorted(registry()))
def test_every_codemod_fixes_reworded_golden_findings_the_same(tmp_path: Path,
                                                               codemod: str) -> None:
    found, results = _golden_findings(tmp_path, codemod)
    assert found
    if codemod not in WITHOUT_DATA:
        assert all(finding.fix.data for finding in found)
    projects = [result.project for result in results]
    plain = fix_files(found, unsafe=True, projects=projects)
    other = fix_files([reworded(finding) for finding in found], unsafe=True, projects=projects)
    assert any(fix.applied and fix.changed for fix in plain)
    assert _outcome(other) == _outcome(plain)


@pytest.mark.parametrize("codemod", sorted(set(registry()) - WITHOUT_DATA))
def test_every_codemod_skips_golden_findings_without_their_data(tmp_path: Path,
                                                                codemod: str) -> None:
    found, results = _golden_findings(tmp_path, codemod)
    bare = [dataclasses.replace(f, fix=dataclasses.replace(f.fix, data={})) for f in found]
    fixes = fix_files(bare, unsafe=True, projects=[result.project for result in results])
    assert not any(fix.applied or fix.changed for fix in fixes)
    assert sum(len(fix.skipped) for fix in fixes) == len(found)


def test_the_codemods_without_data_are_codemods() -> None:
    assert WITHOUT_DATA < set(registry())


def human_text_reads(source: str) -> Iterator[Tuple[str, int, str]]:
    """(function, line, what) of every read of a finding's human text in `source`: an attribute
    `message`, `root_cause`, `description` or (of a related location) `note`, `getattr` or
    `attrgetter` of one, or a subscript by one (`to_dict()["message"]`)."""
    def named(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value in HUMAN_TEXT

    def walk(node: ast.AST, function: str) -> Iterator[Tuple[str, int, str]]:
        for child in ast.iter_child_nodes(node):
            inside = (child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                      else function)
            if isinstance(child, ast.Attribute) and child.attr in HUMAN_TEXT:
                yield inside, child.lineno, f".{child.attr}"
            elif isinstance(child, ast.Subscript) and named(child.slice):
                yield inside, child.lineno, f"[{child.slice.value!r}]"  # type: ignore[attr-defined]
            elif isinstance(child, ast.Call) and any(named(arg) for arg in child.args):
                yield inside, child.lineno, ast.unparse(child.func)
            yield from walk(child, inside)

    yield from walk(ast.parse(source), "")


def test_the_check_finds_reads_of_human_text_and_not_comments() -> None:
    source = ("def plan(target):\n"
              "    # target.finding.message, fix.description: comments are not code\n"
              "    text = target.finding.message\n"
              "    return getattr(target.finding.fix, 'description'), text['root_cause']\n")
    assert [what for _, _, what in human_text_reads(source)] == [
        ".message", "getattr", "['root_cause']"]
    assert {function for function, _, _ in human_text_reads(source)} == {"plan"}


def test_no_fix_module_reads_a_findings_human_text() -> None:
    package = Path(flake8_stability.fix.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 20 and package / "codemods" / "awaits.py" in modules
    found = [(path.relative_to(package).as_posix(), function, line, what)
             for path in modules for function, line, what in human_text_reads(path.read_text())]
    assert {(path, function) for path, function, _, _ in found} >= SHOWN  # the list is not stale
    assert [hit for hit in found if hit[:2] not in SHOWN] == []
