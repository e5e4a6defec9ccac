"""pydantic-settings classes created while the app boots: SBA502 (a required field no source
sets), SBA503 (`.env` keys the class forbids), SBA504 (a complex field whose `.env` value is
not JSON), SBA505 (pydantic-1 env bindings that pydantic-settings 2 ignores)."""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import ClassVar, Dict, Iterator, List, Optional, Tuple

from packaging.version import Version

from ...analysis.settings_classes import (Instance, SettingsClass, SettingsField, by_class,
                                          legacy_binding_misread, settings_classes)
from ...findings import Category, Finding, Location, Severity
from ...project.env_sources import EnvEntry, EnvFile, EnvSources, is_template, read_env_file
from ...project.model import ModuleInfo, ProjectModel
from ..base import Invalid, ProjectRule, Valid

_DIST = "pydantic-settings"
DotenvFile = Tuple[Path, Optional[EnvFile]]  # a file the class reads, parsed (None: missing)
_V2 = Version("2")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


class _SettingsRule(ProjectRule):
    """Shared by the SBA502-SBA505 rules: the settings classes the app creates at boot."""

    category = Category.CONFIG
    triggers = ("Settings", "settings")
    v2_only: ClassVar[bool] = True  # pydantic 1's BaseSettings behaves otherwise

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        if self.v2_only and _pydantic_1(model):
            return
        for found in by_class(model).values():
            settings = found[0].settings
            if not settings.opaque:
                yield from self.check_class(model, settings, found)

    def check_class(self, model: ProjectModel, settings: SettingsClass,
                    found: List[Instance]) -> Iterator[Finding]:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------------
    def version_clause(self, model: ProjectModel) -> Tuple[str, bool]:
        """`pydantic-settings 2.16.3`, and whether the version is known."""
        if _pydantic_1(model):
            return f"pydantic {model.environment.version('pydantic')} (BaseSettings)", True
        version = model.environment.version(_DIST)
        if version is None:
            return f"pydantic-settings 2 (assumed: {_unknown(model)})", False
        return f"pydantic-settings {version}", True

    def severity_for(self, model: ProjectModel, instance: Instance) -> Severity:
        _, known = self.version_clause(model)
        if not known or instance.severity is not Severity.BLOCKING:
            return Severity.WARNING
        return self.severity

    @staticmethod
    def created(instance: Instance, root: Path) -> str:
        where = _relative(Path(instance.module.path), root)
        return (f"{instance.settings.name}() is created at {where}:{instance.call.lineno} "
                f"{instance.reach.describe()}")

    @staticmethod
    def instance_location(instance: Instance) -> Location:
        return Location(instance.module.path, instance.call.lineno, instance.call.col_offset,
                        f"{instance.settings.name}() is created here")

    @staticmethod
    def info(model: ProjectModel, settings: SettingsClass) -> Optional[ModuleInfo]:
        return model.module_at(Path(settings.module.path))


def _pydantic_1(model: ProjectModel) -> bool:
    version = model.environment.version("pydantic")
    return version is not None and version < _V2


def _unknown(model: ProjectModel) -> str:
    if model.environment.error:
        return f"the installed {_DIST} could not be read ({model.environment.error})"
    return f"{_DIST} is not installed in the project's interpreter"


def _dotenv(settings: SettingsClass, working_dir: Path) -> Optional[List[DotenvFile]]:
    """The class's env files with their parsed content (None: the file does not exist)."""
    files = settings.env_files(working_dir)
    if files is None:
        return None
    return [(path, read_env_file(path)) for path in files]


def _merged(settings: SettingsClass, files: List[DotenvFile]
            ) -> Dict[str, EnvEntry]:
    """What pydantic-settings reads from the files: normalized key -> the last binding."""
    merged: Dict[str, EnvEntry] = {}
    for _, parsed in files:
        for entry in parsed.entries if parsed else ():
            merged[settings.normal(entry.key)] = entry
    return merged


def _missing(model: ProjectModel, settings: SettingsClass, field: SettingsField) -> str:
    """The error a missing required field raises, as the installed pydantic spells it."""
    loc = field.alias or field.name
    if _pydantic_1(model):
        return (f"pydantic.error_wrappers.ValidationError: 1 validation error for "
                f"{settings.name}\\n{loc}\\n  field required (type=value_error.missing)")
    return (f"pydantic_core._pydantic_core.ValidationError: 1 validation error for "
            f"{settings.name}\\n{loc}\\n  Field required")


class SettingsFieldWithoutSource(_SettingsRule):
    code = "SBA502"
    name = "settings-field-without-source"
    versions = "Any pydantic-settings version (and pydantic 1's BaseSettings)."
    severity = Severity.BLOCKING
    v2_only = False
    summary = "A settings field without a default that no source sets, created at boot"
    references = ("C01",)
    what = ("A field without a default in a `BaseSettings` class whose object is created while "
            "the app boots (`settings = Settings()` at module level, or `get_settings()` called "
            "at import or in the lifespan), when no source sets its variable: not the class's "
            "`env_file` (resolved from the boot working directory), nor a `.env` loaded with "
            "`load_dotenv()`/`--env-file`/compose `env_file:`, compose `environment:`, "
            "Dockerfile `ENV`, CI `env:` or code. `env_prefix`, `alias`/`validation_alias`/"
            "`AliasChoices`, `case_sensitive` and `env_nested_delimiter` are respected.")
    why = ("The settings object cannot be built, so the import fails: `pydantic_core."
           "_pydantic_core.ValidationError: 1 validation error for Settings\\nDATABASE_URL\\n  "
           "Field required [type=missing, input_value={}, input_type=dict]` (pydantic-settings "
           "2.16.3, pydantic 2.14.4). A variable that is only in `.env.example`, or in a `.env` "
           "nothing reads, does not count.")
    how_to_fix = ("Give the field a development default, or set the variable where the app runs, "
                  "or create `.env` (from `.env.example`) and point `env_file` at it with a path "
                  "that does not depend on the working directory "
                  "(`Path(__file__).resolve().parent / \".env\"`), or create the settings lazily "
                  "(`@lru_cache def get_settings()` used through `Depends`).")
    fix_safety = ("Safe when the variable is set where the app runs; a default must be harmless in "
                  "production.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/config.py": '''
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

                    DATABASE_URL: str
                    SECRET_KEY: str
                    DEBUG: bool = False


                settings = Settings()
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.config import settings

                app = FastAPI(debug=settings.DEBUG)
            ''',
            ".env": "DATABASE_URL=sqlite:///./app.db\nSECRET_KEY=dev-only\n",
        }, note="the env_file provides every field without a default"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from functools import lru_cache

                from fastapi import FastAPI
                from pydantic import Field
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_prefix="APP_")

                    database_url: str = "sqlite+aiosqlite:///./app.db"
                    api_token: str = Field(default="dev-token", validation_alias="API_TOKEN")


                @lru_cache
                def get_settings() -> Settings:
                    return Settings()


                app = FastAPI()
            ''',
        }, note="defaults everywhere, and the settings are created lazily"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings


                class Settings(BaseSettings):
                    database_url: str


                settings = Settings()
                app = FastAPI()
            ''',
            "docker-compose.yml": '''
                services:
                  api:
                    build: .
                    command: uvicorn app.main:app --host 0.0.0.0
                    environment:
                      - DATABASE_URL=postgresql+psycopg://app:secret@db/app
            ''',
        }, note="compose sets the variable in the container the app boots in",
            env={"DATABASE_URL": "sqlite:///./app.db"}),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/config.py": '''
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env")

                    DATABASE_URL: str  # expect: SBA502
                    DEBUG: bool = False


                settings = Settings()
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.config import settings

                app = FastAPI(debug=settings.DEBUG)
            ''',
            ".env.example": "DATABASE_URL=postgresql+psycopg://app:change-me@localhost/app\n",
        }, raises="pydantic_core._pydantic_core.ValidationError: 1 validation error for "
                  "Settings\nDATABASE_URL\n  Field required", run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/core/__init__.py": "",
            "app/core/config.py": '''
                from functools import lru_cache

                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_prefix="APP_")

                    secret_key: str  # expect: SBA502


                @lru_cache
                def get_settings() -> Settings:
                    return Settings()
            ''',
            "app/main.py": '''
                from fastapi import FastAPI

                from app.core.config import get_settings

                settings = get_settings()
                app = FastAPI()
            ''',
            ".env": "SECRET_KEY=dev-only\n",
        }, raises="pydantic_core._pydantic_core.ValidationError: 1 validation error for "
                  "Settings\nsecret_key\n  Field required", run="import app.main",
            note="the .env sets SECRET_KEY, but the class reads APP_SECRET_KEY and has no "
                 "env_file"),
    )

    def check_class(self, model: ProjectModel, settings: SettingsClass,
                    found: List[Instance]) -> Iterator[Finding]:
        files = _dotenv(settings, model.layout.working_dir)
        info = self.info(model, settings)
        if files is None or info is None:
            return
        sources = settings.module.project.env_sources
        for field in settings.fields:
            if not field.required or field.env_names is None \
                    or legacy_binding_misread(settings, field) \
                    or self._provided(settings, field, files, sources):
                continue
            yield self._finding(model, info, settings, field, found[0], files, sources)

    @staticmethod
    def _provided(settings: SettingsClass, field: SettingsField,
                  files: List[DotenvFile], sources: EnvSources) -> bool:
        delimiter = settings.options.get("env_nested_delimiter")
        delimiter = delimiter if isinstance(delimiter, str) else None
        for name in field.env_names or ():
            if sources.in_environ(name, settings.case_sensitive, delimiter) is not None:
                return True
            if any(parsed and parsed.get(name, settings.case_sensitive, delimiter)
                   for _, parsed in files):
                return True
        return False

    def _finding(self, model: ProjectModel, info: ModuleInfo, settings: SettingsClass,
                 field: SettingsField, instance: Instance,
                 files: List[DotenvFile], sources: EnvSources) -> Finding:
        root = model.layout.root
        names = settings.shown(field.env_names)
        version, _ = self.version_clause(model)
        read_from = ", ".join(_relative(path, root) + ("" if parsed else " (missing)")
                              for path, parsed in files)
        files_clause = f" and from its env_file {read_from}" if files else \
            " (the class has no env_file)"
        hint, fix, related = self._hint(settings, field, files, sources, instance)
        return self.report_in(
            info, field.stmt,
            f"{settings.name}.{field.name} has no default and nothing sets {names}; "
            f"{self.created(instance, root)}",
            f"{version} reads {names} from the environment{files_clause}; no source of the "
            f"project sets it{hint}. {settings.name}() then raises "
            f"{_missing(model, settings, field)}.",
            fix, severity=self.severity_for(model, instance),
            related=(self.instance_location(instance), *related))

    @staticmethod
    def _hint(settings: SettingsClass, field: SettingsField, files: List[DotenvFile],
              sources: EnvSources, instance: Instance) -> Tuple[str, str, Tuple[Location, ...]]:
        root = sources.root
        names = field.env_names or (field.name,)
        first = settings.shown(names[:1])
        default = (f"Give {settings.name}.{field.name} a development default, or set "
                   f"{first} where the app runs")
        for path, parsed in files:
            template = sources.template_for(path) if parsed is None else None
            if template is not None and template.get(names[0], settings.case_sensitive):
                shown = _relative(template.path, root)
                return (f" ({_relative(path, root)} does not exist; {shown} lists {first})",
                        f"Create {_relative(path, root)} from {shown} (cp {shown} "
                        f"{_relative(path, root)}, then fill in real values). {default}.",
                        (Location(str(template.path), 1, 0, "the template"),))
        for name in names:
            entry = sources.unloaded(name, settings.case_sensitive)
            if entry is not None:
                where = entry.where(root)
                if is_template(entry.path):
                    return (f" ({where} lists it, but nothing loads that file)",
                            f"Create .env from {entry.path.name} and read it: model_config = "
                            f"SettingsConfigDict(env_file=Path(__file__).resolve().parent / "
                            f"\".env\") with the real path. {default}.",
                            (Location(str(entry.path), entry.line, 0, f"{entry.key} is here"),))
                return (f" ({where} sets {entry.key}, but the class does not read that "
                        "file)",
                        f"Make the class read that file (model_config = SettingsConfigDict("
                        f"env_file=...) with its path) and name the variable {first} there. "
                        f"{default}.",
                        (Location(str(entry.path), entry.line, 0, f"{entry.key} is here"),))
        factory = instance.module.scopes.enclosing_function(instance.call)
        lazily = (f"call {factory.name}() where the settings are needed (Depends({factory.name}))"
                  " instead of at import") if factory else \
            "create the settings lazily (@lru_cache def get_settings())"
        return "", f"{default} (compose environment:, the deployment's secrets), or {lazily}.", ()


class DotenvKeyForbidden(_SettingsRule):
    code = "SBA503"
    name = "dotenv-key-forbidden"
    versions = ("pydantic-settings >= 2.0: dotenv keys reach the model, which forbids extras by "
                "default.")
    severity = Severity.BLOCKING
    summary = "The settings' env_file sets keys the class does not define, with extra='forbid'"
    references = ("C02",)
    what = ("A `BaseSettings` class created at boot, with pydantic-settings 2's default "
            "`extra=\"forbid\"`, whose `env_file` sets a (non-empty) variable that matches none "
            "of its fields. With an `env_prefix`, pydantic-settings still counts every key of "
            "the file: keys without the prefix are extra too (only a key spelled exactly like a "
            "field name is let through).")
    why = ("Unlike the process environment, the dotenv source passes unknown keys on to the "
           "model, which forbids them: `pydantic_core._pydantic_core.ValidationError: 1 "
           "validation error for Settings\\nopenai_api_key\\n  Extra inputs are not permitted "
           "[type=extra_forbidden, input_value='...', input_type=str]` (pydantic-settings "
           "2.16.3), at import when `settings = Settings()` is module-level. A `.env` shared "
           "with other tools (compose, the frontend) hits this at once.")
    how_to_fix = ("Add `extra=\"ignore\"` to `model_config = SettingsConfigDict(env_file=..., "
                  "extra=\"ignore\")`, or define the keys as fields, or remove them from the "
                  "file.")
    fix_safety = ("Safe: `extra=\"ignore\"` only drops keys the class never reads; misspelt "
                  "keys are then silently ignored too.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

                    database_url: str = "sqlite:///./app.db"


                settings = Settings()
                app = FastAPI()
            ''',
            ".env": "DATABASE_URL=sqlite:///./app.db\nPOSTGRES_PASSWORD=secret\n",
        }, note="extra='ignore' drops the compose-only key"),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env", env_prefix="APP_")

                    database_url: str = "sqlite:///./app.db"
                    debug: bool = False


                settings = Settings()
                app = FastAPI(debug=settings.debug)
            ''',
            ".env": "APP_DATABASE_URL=sqlite:///./app.db\nAPP_DEBUG=true\nUNUSED=\n",
        }, note="every non-empty key carries the prefix and names a field"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env")  # expect: SBA503

                    database_url: str = "sqlite:///./app.db"


                settings = Settings()
                app = FastAPI()
            ''',
            ".env": "DATABASE_URL=sqlite:///./app.db\nOPENAI_API_KEY=sk-test\n",
        }, raises="pydantic_core._pydantic_core.ValidationError: 1 validation error for "
                  "Settings\nopenai_api_key\n  Extra inputs are not permitted",
            run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env", env_prefix="APP_")  # expect: SBA503

                    debug: bool = False


                settings = Settings()
                app = FastAPI(debug=settings.debug)
            ''',
            ".env": "APP_DEBUG=true\nPOSTGRES_PASSWORD=secret\n",
        }, raises="pydantic_core._pydantic_core.ValidationError: 1 validation error for "
                  "Settings\npostgres_password\n  Extra inputs are not permitted",
            run="import app.main", note="keys without the prefix are extra too"),
    )

    def check_class(self, model: ProjectModel, settings: SettingsClass,
                    found: List[Instance]) -> Iterator[Finding]:
        files = _dotenv(settings, model.layout.working_dir)
        info = self.info(model, settings)
        if not files or info is None or settings.options.get("extra", "forbid") != "forbid" \
                or settings.options.get("dotenv_filtering") is not None \
                or any(field.env_names is None for field in settings.fields):
            return
        extra = [entry for key, entry in _merged(settings, files).items()
                 if entry.value and not _used(settings, key)]
        if extra:
            yield self._finding(model, info, settings, found[0], extra)

    def _finding(self, model: ProjectModel, info: ModuleInfo, settings: SettingsClass,
                 instance: Instance, extra: List[EnvEntry]) -> Finding:
        root = model.layout.root
        keys = ", ".join(entry.key for entry in extra)
        files = ", ".join(dict.fromkeys(_relative(entry.path, root) for entry in extra))
        version, _ = self.version_clause(model)
        first = settings.normal(extra[0].key)
        count = len(extra)
        return self.report_in(
            info, settings.config_stmt or settings.node,
            f"{settings.name} forbids extra inputs, but its env_file {files} sets {keys}, which "
            f"it does not define",
            f"{version} passes every key of the env_file that matches no field on to the model, "
            f"and {settings.name} keeps the default extra=\"forbid\": {settings.name}() raises "
            f"pydantic_core._pydantic_core.ValidationError: {count} validation "
            f"error{'s' if count > 1 else ''} for {settings.name}\\n{first}\\n  Extra inputs are "
            f"not permitted. {self.created(instance, root)}.",
            f"Add extra=\"ignore\" to {settings.name}'s model_config (SettingsConfigDict("
            f"env_file=..., extra=\"ignore\")), or define {keys} as "
            f"{'fields' if count > 1 else 'a field'}, or remove "
            f"{'them' if count > 1 else 'it'} from {files}.",
            severity=self.severity_for(model, instance),
            related=(self.instance_location(instance),
                     *(Location(str(e.path), e.line, 0, f"{e.key} is set here") for e in extra)))


def _used(settings: SettingsClass, key: str) -> bool:
    """Whether pydantic-settings' dotenv source takes `key` (normalized) for a field."""
    delimiter = settings.options.get("env_nested_delimiter")
    names = {field.name for field in settings.fields}
    if settings.prefix and key in names:
        return True
    for field in settings.fields:
        for name in field.env_names or ():
            wanted = settings.normal(name)
            if key == wanted or (isinstance(delimiter, str) and delimiter
                                 and key.startswith(wanted + delimiter)):
                return True
    return False


class EnvValueNotJson(_SettingsRule):
    code = "SBA504"
    name = "env-value-not-json-for-complex-field"
    versions = ("Any pydantic-settings version (and pydantic 1's BaseSettings): complex values are"
                " parsed as JSON.")
    severity = Severity.BLOCKING
    summary = "A list/dict/set/model settings field whose env_file value is not JSON"
    references = ("C03",)
    what = ("A `BaseSettings` field typed `list`, `dict`, `set`, `tuple` or a nested model "
            "(not `Optional`, not `Annotated[..., NoDecode]`, and decoding not turned off with "
            "`enable_decoding=False`) whose value in the class's `env_file` is not valid JSON, "
            "e.g. `CORS_ORIGINS=http://a.com,http://b.com`.")
    why = ("pydantic-settings decodes complex values as JSON before any validator runs: "
           "`pydantic_settings.exceptions.SettingsError: error parsing value for field "
           "\"CORS_ORIGINS\" from source \"DotEnvSettingsSource\"` (pydantic-settings 2.16.3), "
           "at import when the settings object is module-level. A `field_validator(mode=\"before\")` "
           "that splits commas never sees the value.")
    how_to_fix = ("Write the value as JSON (`CORS_ORIGINS=[\"http://a.com\",\"http://b.com\"]`), or "
                  "annotate the field `Annotated[list[str], NoDecode]` and split it in a "
                  "`field_validator(\"CORS_ORIGINS\", mode=\"before\")`.")
    fix_safety = "Safe: the JSON spelling yields the same list."
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import List

                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env")

                    CORS_ORIGINS: List[str] = []


                settings = Settings()
                app = FastAPI()
            ''',
            ".env": 'CORS_ORIGINS=["http://localhost:3000","https://app.example.com"]\n',
        }),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import Annotated, List

                from fastapi import FastAPI
                from pydantic import field_validator
                from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env")

                    CORS_ORIGINS: Annotated[List[str], NoDecode] = []

                    @field_validator("CORS_ORIGINS", mode="before")
                    @classmethod
                    def split(cls, value: object) -> object:
                        return value.split(",") if isinstance(value, str) else value


                settings = Settings()
                app = FastAPI()
            ''',
            ".env": "CORS_ORIGINS=http://localhost:3000,https://app.example.com\n",
        }, note="NoDecode hands the raw text to the validator"),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env")

                    CORS_ORIGINS: list[str] = []  # expect: SBA504


                settings = Settings()
                app = FastAPI()
            ''',
            ".env": "CORS_ORIGINS=http://localhost:3000,https://app.example.com\n",
        }, raises='pydantic_settings.exceptions.SettingsError: error parsing value for field '
                  '"CORS_ORIGINS" from source "DotEnvSettingsSource"', run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import Dict

                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_file=".env", env_prefix="APP_")

                    feature_flags: Dict[str, bool] = {}  # expect: SBA504


                settings = Settings()
                app = FastAPI()
            ''',
            ".env": "APP_FEATURE_FLAGS=beta=true\n",
        }, raises='pydantic_settings.exceptions.SettingsError: error parsing value for field '
                  '"feature_flags" from source "DotEnvSettingsSource"', run="import app.main"),
    )

    def check_class(self, model: ProjectModel, settings: SettingsClass,
                    found: List[Instance]) -> Iterator[Finding]:
        files = _dotenv(settings, model.layout.working_dir)
        info = self.info(model, settings)
        if not files or info is None or settings.options.get("enable_decoding") is False:
            return
        merged = _merged(settings, files)
        for field in settings.fields:
            entry = _value_of(settings, field, merged)
            if field.complex and entry is not None and entry.value and not _is_json(entry.value):
                yield self._finding(model, info, settings, field, found[0], entry)

    def _finding(self, model: ProjectModel, info: ModuleInfo, settings: SettingsClass,
                 field: SettingsField, instance: Instance, entry: EnvEntry) -> Finding:
        root = model.layout.root
        version, _ = self.version_clause(model)
        where = entry.where(root)
        return self.report_in(
            info, field.stmt,
            f"{settings.name}.{field.name} is a complex field, but {entry.key} in {where} is "
            f"not JSON",
            f"{version} decodes list, dict, set, tuple and model fields as JSON before "
            f"validation; {settings.name}() raises pydantic_settings.exceptions.SettingsError: "
            f"error parsing value for field \"{field.name}\" from source "
            f"\"DotEnvSettingsSource\". {self.created(instance, root)}.",
            f"Write {entry.key} as JSON in {where} (e.g. {entry.key}=[\"a\",\"b\"] for a list), "
            f"or annotate the field Annotated[..., NoDecode] and split the text in a "
            f"field_validator({field.name!r}, mode=\"before\").",
            severity=self.severity_for(model, instance),
            related=(self.instance_location(instance),
                     Location(str(entry.path), entry.line, 0, f"{entry.key} is set here")))


def _value_of(settings: SettingsClass, field: SettingsField,
              merged: Dict[str, EnvEntry]) -> Optional[EnvEntry]:
    for name in field.env_names or ():
        entry = merged.get(settings.normal(name))
        if entry is not None:
            return entry
    return None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


class V1EnvBindingIgnored(_SettingsRule):
    code = "SBA505"
    name = "v1-env-binding-ignored"
    versions = ("pydantic >= 2.0 with pydantic-settings 2: `Field(env=...)` and `Config.fields` "
                "are ignored.")
    severity = Severity.RUNTIME
    summary = "A pydantic-1 env binding that pydantic-settings 2 ignores, on a required field"
    references = ("C04",)
    what = ("On pydantic-settings 2, a field without a default bound to a variable the pydantic-1 "
            "way, `Field(..., env=\"BACKEND_API_URL\")` or `class Config: fields = {\"api_url\": "
            "{\"env\": \"BACKEND_API_URL\"}}`, when that name differs from the one pydantic-"
            "settings 2 really reads (the field name with `env_prefix`). SBA211 reports "
            "`Field(env=)` as a pydantic-1 idiom when it is harmless (a default, or the same "
            "name) and the `fields` key of `class Config`; this rule is the configuration-side "
            "finding where the app reads the wrong variable, and SBA211 leaves that `Field(env=)` "
            "to it.")
    why = ("pydantic 2 keeps `env=` only as JSON-schema extra (`PydanticDeprecatedSince20: Using "
           "extra keyword arguments on `Field` is deprecated ... (Extra keys: 'env')`) and drops "
           "`Config.fields` (`UserWarning: Valid config keys have changed in V2: * 'fields' has "
           "been removed`). The field is read from its own name, so with BACKEND_API_URL set "
           "the settings still fail: `pydantic_core._pydantic_core.ValidationError: 1 validation "
           "error for Settings\\napi_url\\n  Field required` (pydantic 2.14.4, pydantic-settings "
           "2.16.3).")
    how_to_fix = ("Use `Field(validation_alias=\"BACKEND_API_URL\")` (or `AliasChoices(...)` for "
                  "several names), or rename the field after the variable, or an `env_prefix`.")
    fix_safety = ("Safe: `validation_alias` reads exactly the variable the pydantic-1 binding "
                  "named.")
    valid = (
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic import Field
                from pydantic_settings import BaseSettings


                class Settings(BaseSettings):
                    api_url: str = Field(validation_alias="BACKEND_API_URL")


                settings = Settings()
                app = FastAPI()
            ''',
        }, env={"BACKEND_API_URL": "http://backend:8000"}),
        Valid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings, SettingsConfigDict


                class Settings(BaseSettings):
                    model_config = SettingsConfigDict(env_prefix="BACKEND_")

                    api_url: str = "http://localhost:8000"


                settings = Settings()
                app = FastAPI()
            ''',
        }),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic import Field
                from pydantic_settings import BaseSettings


                class Settings(BaseSettings):
                    api_url: str = Field(..., env="BACKEND_API_URL")  # expect: SBA505


                settings = Settings()
                app = FastAPI()
            ''',
            "docker-compose.yml": '''
                services:
                  api:
                    build: .
                    command: uvicorn app.main:app --host 0.0.0.0
                    environment:
                      BACKEND_API_URL: http://backend:8000
            ''',
        }, raises="pydantic_core._pydantic_core.ValidationError: 1 validation error for "
                  "Settings\napi_url\n  Field required", run="import app.main",
            env={"BACKEND_API_URL": "http://backend:8000"}),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic_settings import BaseSettings


                class Settings(BaseSettings):
                    api_url: str  # expect: SBA505

                    class Config:
                        fields = {"api_url": {"env": "BACKEND_API_URL"}}


                def get_settings() -> Settings:
                    return Settings()


                app = FastAPI()
            ''',
        }, raises="pydantic_core._pydantic_core.ValidationError: 1 validation error for "
                  "Settings\napi_url\n  Field required", run="import app.main\napp.main.get_settings()",
            env={"BACKEND_API_URL": "http://backend:8000"}),
    )

    def check_project(self, model: ProjectModel) -> Iterator[Finding]:
        if _pydantic_1(model):
            return
        boot = by_class(model)
        for info in model:
            if info.tree is None or "env" not in (info.source.text or ""):
                continue
            for settings in settings_classes(model.context(info)):
                key = (settings.module.path, settings.node.lineno)
                yield from self._misread(model, info, settings, boot.get(key, []))

    def _misread(self, model: ProjectModel, info: ModuleInfo, settings: SettingsClass,
                 found: List[Instance]) -> Iterator[Finding]:
        version = model.environment.version(_DIST)
        if version is not None and version < _V2:
            return
        for field in settings.fields:
            if not legacy_binding_misread(settings, field) or field.legacy_env is None:
                continue
            node, ignored = field.legacy_env
            reads = settings.shown(field.env_names)
            shown, known = self.version_clause(model)
            when = self.created(found[0], model.layout.root) if found else \
                f"{settings.name}() fails when it is created"
            yield self.report_in(
                info, field.stmt,
                f"{settings.name}.{field.name} is bound to {ignored} the pydantic-1 way; "
                f"{shown} ignores that and reads {reads}",
                f"{shown} with pydantic 2 drops the binding ({_how(node)}), so {ignored} is "
                f"never read; without {reads} set, {settings.name}() raises pydantic_core."
                f"_pydantic_core.ValidationError: 1 validation error for {settings.name}\\n"
                f"{field.alias or field.name}\\n  Field required ({when}).",
                f"Declare the field {field.name}: ... = Field(validation_alias={ignored!r}) and "
                f"drop the pydantic-1 binding.",
                severity=self.severity if known else Severity.WARNING)


def _how(node: ast.AST) -> str:
    if isinstance(node, ast.Dict):
        return "class Config: fields is removed in pydantic 2"
    return "Field(env=...) is kept only as JSON-schema extra"
