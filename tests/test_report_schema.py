"""The JSON report matches its documented, versioned schema (docs/report-schema.json), on the
example backend and on projects with cycles, unreadable files and failing rules."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from flake8_stability.audit.formats import FORMATS
from flake8_stability.audit.report import build_report
from flake8_stability.engine import audit
from flake8_stability.findings import Finding

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "docs" / "report-schema.json").read_text())
CYCLE = {
    "pyproject.toml": "[project]\nname = 'x'\n",
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\n\nfrom app import db\n\napp = FastAPI()\n",
    "app/db.py": "from app.models import Hero\n\nengine = None\n",
    "app/models.py": "from app.db import engine\n\nclass Hero:\n    pass\n",
    "app/broken.py": "def f(:\n",
}


def _json(paths) -> dict:
    return json.loads(FORMATS["json"](build_report(audit(paths)), False))


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_example_report_matches_the_schema() -> None:
    data = _json([REPO / "examples" / "async-shop"])
    jsonschema.validate(data, SCHEMA)
    assert data["verdict"] == "does-not-boot"


def test_cycles_and_unreadable_files_match_the_schema(tmp_path: Path) -> None:
    for name, text in CYCLE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    data = _json([tmp_path])
    jsonschema.validate(data, SCHEMA)
    [project] = data["projects"]
    assert [p["path"] for p in project["problems"]] == ["app/broken.py"]
    fatal = [(e["from"], e["to"]) for e in project["import_graph"]["edges"] if e["fatal"]]
    assert ("app.models", "app.db") in fatal
    assert any(f["code"] == "SBA602" for f in project["findings"])


def test_findings_round_trip_through_json(tmp_path: Path) -> None:
    data = _json([REPO / "examples" / "async-shop"])
    for raw in data["projects"][0]["findings"]:
        assert Finding.from_dict(raw).to_dict() == raw


@pytest.mark.parametrize("broken", [{"verdict": "maybe"}, {"schema_version": 2}])
def test_the_schema_rejects_what_the_tool_never_prints(broken: dict) -> None:
    data = _json([REPO / "examples" / "async-shop"])
    data.update(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
