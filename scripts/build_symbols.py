"""Regenerate flake8_stability/knowledge/symbols.json (the moved/removed import table of SBA103)
from the research file `symbols.json` (84 entries with evidence).

    python scripts/build_symbols.py /path/to/reference/compat/symbols.json

Only entries that an import statement can trip are kept. `READINGS` says, per reference id,
under which installed versions the import fails (`removed`: gone; `missing`: not added yet) or
only warns (`deprecated`), as `packaging` specifiers. Where the reference lumps names that behave
differently, a reading lists its own `names` (checked against pydantic 2.14.4, SQLAlchemy 2.1.9,
sqlmodel 0.0.50 and starlette 1.10.0). `settled` marks changes old enough to assume when the
version cannot be read. `CATALOG` adds the failure-catalog cases the reference lacks.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List

OUTPUT = Path(__file__).resolve().parent.parent / "flake8_stability" / "knowledge" / "symbols.json"

_PYDANTIC_REMOVED = "pydantic.errors.PydanticImportError: `{module}:{name}` has been removed in V2."
_CANNOT_IMPORT = "ImportError: cannot import name '{name}' from '{module}'"
_NO_MODULE = "ModuleNotFoundError: No module named '{module}'"
_PYDANTIC_MOVED = ("PydanticDeprecatedSince20: `{module}:{name}` has been moved to `{target}`. "
                   "Deprecated in Pydantic V2.0 to be removed in V3.0.")

READINGS: Dict[str, List[Dict[str, Any]]] = {
    "pydantic.BaseSettings": [
        {"removed": ">=2", "settled": True, "needs": "pydantic-settings", "attribute": True,
         "new": "from pydantic_settings import BaseSettings"}],
    "pydantic.validator": [{"deprecated": ">=2", "settled": True, "attribute": True}],
    "pydantic.root_validator": [
        {"deprecated": ">=2", "settled": True, "attribute": True,
         "message": "Pydantic V1 style `@root_validator` validators are deprecated. You should "
                    "migrate to Pydantic V2 style `@model_validator` validators, see the "
                    "migration guide for more details. Deprecated in Pydantic V2.0 to be removed "
                    "in V3.0."}],
    "pydantic.json.pydantic_encoder": [{"deprecated": ">=2", "settled": True}],
    "pydantic.typing": [{"removed": ">=2", "settled": True, "message": _CANNOT_IMPORT}],
    "pydantic.utils": [
        {"names": ["deep_update", "GetterDict", "lenient_issubclass", "lenient_isinstance",
                   "is_valid_field", "update_not_none", "import_string", "Representation",
                   "ROOT_KEY", "smart_deepcopy", "sequence_like", "version_info", "to_camel",
                   "to_lower_camel"],
         "deprecated": ">=2", "settled": True,
         "message": "PydanticDeprecatedSince20: `{module}:{name}` is redirected to "
                    "`pydantic.v1` (or moved)."},
        {"removed": ">=2", "settled": True, "message": _CANNOT_IMPORT}],
    "pydantic.error_wrappers.ValidationError": [
        {"names": ["ValidationError"], "deprecated": ">=2", "settled": True,
         "new": "from pydantic import ValidationError",
         "message": _PYDANTIC_MOVED.replace("{target}", "pydantic:ValidationError")},
        {"names": ["ErrorWrapper"], "removed": ">=2", "settled": True,
         "new": "raise pydantic_core.PydanticCustomError / ValueError inside validators",
         "message": _PYDANTIC_REMOVED}],
    "pydantic.generics.GenericModel": [
        {"deprecated": ">=2", "settled": True,
         "message": _PYDANTIC_MOVED.replace("{target}", "pydantic.BaseModel")}],
    "pydantic.parse_obj_as": [
        {"names": ["parse_obj_as"], "deprecated": ">=2", "settled": True,
         "new": "pydantic.TypeAdapter(T).validate_python(data)"},
        {"names": ["parse_raw_as", "parse_file_as"], "removed": ">=2", "settled": True,
         "new": "pydantic.TypeAdapter(T).validate_json(text)", "message": _PYDANTIC_REMOVED,
         "attribute": True}],
    "pydantic.ConstrainedTypes": [
        {"removed": ">=2", "settled": True, "message": _PYDANTIC_REMOVED, "attribute": True}],
    "pydantic.PyObject": [
        {"deprecated": ">=2", "settled": True,
         "message": _PYDANTIC_MOVED.replace("{target}", "pydantic.types:ImportString")}],
    "pydantic.Extra": [{"deprecated": ">=2.4"}],
    "pydantic.validate_arguments": [{"deprecated": ">=2", "settled": True}],
    "pydantic.v1": [{"names": [], "missing": "<1.10.15", "message": _NO_MODULE}],
    "sqlalchemy.ext.declarative.declarative_base": [
        {"names": ["declarative_base", "as_declarative"], "deprecated": ">=1.4"}],
    "sqlalchemy.ext.asyncio": [{"names": [], "missing": "<1.4", "message": _NO_MODULE}],
    "sqlalchemy.ext.asyncio.async_sessionmaker": [{"missing": "<2.0"}],
    "sqlalchemy.ext.asyncio.async_scoped_session": [
        {"missing": "<1.4.19", "message": _CANNOT_IMPORT}],
    "sqlalchemy.ext.asyncio.AsyncAttrs": [{"missing": "<2.0.13", "message": _CANNOT_IMPORT}],
    "sqlalchemy.orm.DeclarativeBase": [{"missing": "<2.0", "message": _CANNOT_IMPORT}],
    "sqlalchemy.types.Uuid_DOUBLE": [{"missing": "<2.0", "message": _CANNOT_IMPORT}],
    "sqlalchemy.schema.ThreadLocalMetaData": [{"removed": ">=2.0"}],
    "sqlalchemy.databases": [{"removed": ">=2.0"}],
    "sqlmodel.ext.asyncio.session.AsyncSession": [{"removed": "", "settled": True}],
    "sqlmodel.sql.sqltypes.GUID": [{"removed": ">=0.0.20", "message": _CANNOT_IMPORT}],
    "sqlmodel.ThreadLocalMetaData": [{"removed": ">=0.0.12", "message": _CANNOT_IMPORT}],
    "starlette.middleware.wsgi": [{"deprecated": ">=0.19.0"}],
    "starlette.exceptions.ExceptionMiddleware": [
        {"removed": ">=0.45.0", "deprecated": ">=0.20.1,<0.45.0", "message": _CANNOT_IMPORT}],
    "starlette.graphql": [{"removed": ">=0.17.0", "message": _NO_MODULE}],
    "fastapi.responses.ORJSONResponse": [{"deprecated": ">=0.131.0"}],
    "fastapi_utils.inferring_router.InferringRouter": [{"deprecated": ">=0.6.0"}],
    "uvicorn.workers.UvicornWorker": [{"deprecated": ">=0.30.0"}],
}

# Failure-catalog entries I03 and I06, which the reference file does not list.
CATALOG: List[Dict[str, Any]] = [
    {"id": "pydantic.fields.ModelField", "package": "pydantic", "module": "pydantic.fields",
     "names": ["ModelField", "UndefinedType"], "removed": ">=2", "settled": True,
     "new": "pydantic.fields.FieldInfo / pydantic_core.PydanticUndefined "
            "(or pydantic.v1.fields while migrating)"},
    {"id": "pydantic.env_settings", "package": "pydantic", "module": "pydantic.env_settings",
     "names": ["*"], "removed": ">=2", "settled": True, "needs": "pydantic-settings",
     "new": "from pydantic_settings import BaseSettings, SettingsConfigDict "
            "(pip install pydantic-settings)"},
    {"id": "sqlmodel.ext.asyncio.session.AsyncConnection", "package": "sqlmodel",
     "module": "sqlmodel.ext.asyncio.session", "names": ["AsyncConnection"],
     "removed": ">=0.0.12", "new": "from sqlalchemy.ext.asyncio import AsyncConnection"},
]


def build(reference: Path) -> Dict[str, Any]:
    """The compact table: one row per (module, names) reading."""
    entries = {entry["id"]: entry for entry in json.loads(reference.read_text())["symbols"]}
    rows = []
    for ident, readings in READINGS.items():
        entry = entries[ident]
        for reading in readings:
            rows.extend(_rows(entry, reading))
    rows.extend(_catalog_row(extra) for extra in CATALOG)
    return {"source": "reference/compat/symbols.json", "count": len(rows), "symbols": rows}


def _rows(entry: Dict[str, Any], reading: Dict[str, Any]) -> List[Dict[str, Any]]:
    detect = entry["detect"]
    if "import" in detect:
        targets = [(detect["import"], [])]
    else:
        spec = detect["import_from"]
        modules = spec["module"] if isinstance(spec["module"], list) else [spec["module"]]
        targets = [(module, reading.get("names", spec["names"])) for module in modules]
    message = reading.get("message") or entry.get("message") or ""
    if not message and reading.get("removed") is not None:
        message = _NO_MODULE if "import" in detect else _CANNOT_IMPORT
    if not message:
        message = entry["runtime_effect"]
    row = {key: reading[key] for key in ("removed", "missing", "deprecated") if key in reading}
    return [dict(
        id=entry["id"], package=entry["package"], module=module, names=names, **row,
        settled=reading.get("settled", False), attribute=reading.get("attribute", False),
        new=reading.get("new", entry["new"]), needs=reading.get("needs"), message=message,
        instead=_older_idiom(entry),
    ) for module, names in targets]


def _older_idiom(entry: Dict[str, Any]) -> Any:
    """For a name added in a later version: what code written for older versions uses."""
    if entry["kind"] != "added" or entry["old"].startswith(("-", "(")):
        return None
    return entry["old"].split("  (")[0]


def _catalog_row(extra: Dict[str, Any]) -> Dict[str, Any]:
    row = {"settled": False, "attribute": False, "needs": None, "message": _CANNOT_IMPORT,
           "instead": None}
    row.update(extra)
    return row


def main(argv: List[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    table = build(Path(argv[1]))
    OUTPUT.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {table['count']} rows to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
