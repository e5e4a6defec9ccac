"""The dependency manifest's rows, for the formats that draw it as a table.

The report carries the manifest as data (`ProjectReport.manifest`: `Manifest.to_dict()` of
`flake8_stability/dependencies/manifest.py`, paths relative to the project root). Each entry
becomes one row: the package, what the project declares and where, the locked and installed
versions, what the rest of the stack requires of it, and the verdict with its reason."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

COLUMNS = (("package", "Package"), ("declared", "Declared"), ("declared_in", "Declared in"),
           ("locked", "Locked"), ("installed", "Installed"),
           ("required", "Required by the stack"), ("verdict", "Verdict"))


def manifest_rows(manifest: Any) -> Optional[List[Dict[str, str]]]:
    """The rows as `{key: text}` for the keys in COLUMNS; None without entries."""
    entries = manifest.get("entries") if isinstance(manifest, dict) else None
    if not isinstance(entries, list) or not entries:
        return None
    return [_row(entry) for entry in entries if isinstance(entry, dict)]


def _row(entry: Dict[str, Any]) -> Dict[str, str]:
    specs = [spec for spec in entry.get("declared") or () if isinstance(spec, dict)]
    verdict = _text(entry.get("verdict"))
    reason = _text(entry.get("reason"))
    return {
        "package": _text(entry.get("name")),
        "declared": ", ".join(_text(spec.get("requirement")) for spec in specs),
        "declared_in": ", ".join(f"{spec.get('path')}:{spec.get('line')}" for spec in specs),
        "locked": _text(entry.get("locked")),
        "installed": _text(entry.get("installed")) or "not installed",
        "required": _text(entry.get("required")),
        "verdict": f"{verdict}: {reason}" if reason else verdict,
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)
