"""The JSON report: `Report.to_dict()`, versioned by `schema_version` (docs/report-schema.json)."""
from __future__ import annotations

import json

from ..report import Report


def render_json(report: Report, colour: bool = False) -> str:
    del colour  # JSON is for machines
    return json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n"
