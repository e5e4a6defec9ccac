"""The dependency manifest's rows, for the formats that draw it as a table.

The report carries the manifest as data (`ProjectReport.manifest`). A format renders it only
when it has per-package rows: either the manifest is a list of row dicts, or a dict whose
`"packages"` value is one. A row's keys, each shown as text and any of them optional:

- `package`: the distribution name
- `declared`: the version spec the project declares, `declared_in`: where (file and line)
- `installed`: the version installed in the judged interpreter
- `required`: what the stack requires of it
- `verdict`: the manifest's judgement of the row

Any other shape is left out of the Markdown and text formats (the JSON format has it whole)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

COLUMNS = (("package", "Package"), ("declared", "Declared"), ("declared_in", "Declared in"),
           ("installed", "Installed"), ("required", "Required by the stack"),
           ("verdict", "Verdict"))


def manifest_rows(manifest: Any) -> Optional[List[Dict[str, str]]]:
    """The rows as `{key: text}` for the keys in COLUMNS, or None for any other shape."""
    rows = manifest.get("packages") if isinstance(manifest, dict) else manifest
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        return None
    return [{key: _text(row.get(key)) for key, _ in COLUMNS} for row in rows]


def _text(value: Any) -> str:
    return "" if value is None else str(value)
