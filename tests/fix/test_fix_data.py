"""Structured fix data (`Fix.data`): the codemods that need names from a finding read them from
its data, never from its text, so rewording a message or a fix description changes no edit;
the data survives the JSON report and the redactor."""
from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path
from typing import Dict

import pytest
from app_fix_projects import findings, write

from flake8_stability.audit.secrets import Redactor
from flake8_stability.findings import Finding, Fix
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
