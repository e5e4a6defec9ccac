"""SBA211 beyond its documented examples: every idiom with the severity pydantic 2.14.4 gives
it, healthy pydantic-2 code (and pydantic.v1, sqlmodel) silent, across files through flake8; and
in-process under other installed pydantic versions."""
from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

from flake8_runner import Flake8Run

from flake8_stability.context import ModuleContext, ProjectContext
from flake8_stability.environment import Environment
from flake8_stability.findings import Finding
from flake8_stability.rules import rule_for

_MARK = re.compile(r"# SBA211 (blocking|runtime|warning)")


def _dedent(files: Dict[str, str]) -> Dict[str, str]:
    return {name: textwrap.dedent(source).lstrip("\n") for name, source in files.items()}


PROJECT = _dedent({
    "app/__init__.py": "",
    "app/schemas.py": '''
        from typing import ClassVar, List, Literal, Optional

        import pydantic as pd
        from pydantic import BaseModel, ConfigDict, Field, computed_field, conlist, constr
        from pydantic import root_validator
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Base(BaseModel):
            kind: ClassVar[str] = "base"
            version: int = 1

        class UserOut(Base):
            kind = "user"
            role = "member"  # SBA211 blocking
            version = 2  # SBA211 blocking
            code: str = Field(..., regex=r"^[a-z]+$")  # SBA211 blocking
            tags: List[str] = pd.Field(default_factory=list, min_items=1)  # SBA211 warning
            level: str = Field("a", const=True)  # SBA211 blocking
            slug: constr(regex=r"^[a-z-]+$")  # SBA211 blocking
            ids: conlist(int, max_items=3)  # SBA211 blocking
            nickname: Optional[str] = Field(None, regex=None)

            class Config:
                orm_mode = True  # SBA211 runtime
                allow_population_by_field_name = True  # SBA211 warning
                smart_union = True  # SBA211 warning
                title = "User"

            @root_validator(pre=True)
            def before(cls, values):
                return values

            @root_validator(skip_on_failure=True)
            def after(cls, values):
                return values

            @pd.root_validator()  # SBA211 blocking
            def check(cls, values):
                return values

        class Wrapped(BaseModel):
            __root__: List[int]  # SBA211 blocking

        class Frozen(BaseModel):
            model_config = ConfigDict(frozen=True)

            class Config:  # SBA211 blocking
                extra = "forbid"

        class Settings(BaseSettings):
            database_url: str = Field("sqlite:///./app.db", env="DATABASE_URL")  # SBA211 warning
            debug: bool = False

            class Config:
                env_file = ".env"
                case_sensitive = False

        def build():
            class Late(BaseModel):
                name = "late"  # SBA211 runtime
            return Late
    ''',
    "app/healthy.py": '''
        from typing import Annotated, ClassVar

        from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, computed_field,
                              field_validator, model_validator)
        from pydantic.v1 import BaseModel as V1Model
        from pydantic.v1 import Field as V1Field
        from pydantic.v1 import root_validator as v1_root_validator
        from pydantic_settings import BaseSettings, SettingsConfigDict
        from sqlmodel import Field as SQLField
        from sqlmodel import SQLModel

        Code = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

        class Item(BaseModel):
            model_config = {"from_attributes": True, "frozen": True}

            label: ClassVar[str] = "item"
            _secret = "hidden"
            code: Code
            name: str = Field(min_length=1, max_length=50, pattern=r"^\\w+$")
            size = staticmethod(len)

            @computed_field
            @property
            def upper(self) -> str:
                return self.name.upper()

            @field_validator("name")
            @classmethod
            def strip(cls, value: str) -> str:
                return value.strip()

            @model_validator(mode="after")
            def check(self) -> "Item":
                return self

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_file=".env", env_prefix="APP_")

            database_url: str = Field("sqlite+aiosqlite:///./app.db", validation_alias="DB_URL")

        class Legacy(V1Model):
            name = "legacy"
            code: str = V1Field(..., regex="^a")

            class Config:
                orm_mode = True

            @v1_root_validator
            def check(cls, values):
                return values

        class Hero(SQLModel, table=True):
            __tablename__ = "heroes"

            id: int = SQLField(default=None, primary_key=True)
            name: str = SQLField(regex=r"^[A-Z]", index=True)

            class Config:
                orm_mode = True  # SBA211 warning

        class Plain:
            name = "not a model"

            class Config:
                orm_mode = True
    ''',
    "app/crud.py": '''
        from app.schemas import UserOut

        def to_schema(row):
            return UserOut.from_orm(row)
    ''',
    "app/extended.py": '''
        from app.schemas import Base

        class Admin(Base):
            role = "admin"

            class Config:
                orm_mode = True  # SBA211 warning
    ''',
})


def _expected(files: Dict[str, str]) -> Set[Tuple[str, int, str]]:
    return {(name, number, match.group(1))
            for name, text in files.items()
            for number, line in enumerate(text.splitlines(), 1)
            for match in [_MARK.search(line)] if match}


def test_every_idiom_with_the_severity_of_its_failure(lint: Callable[..., Flake8Run]) -> None:
    run = lint(PROJECT)
    found = {(r.path[2:], r.line, r.text.rsplit("[", 1)[1].rstrip("]"))
             for r in run.results if r.code == "SBA211"}
    assert found == _expected(PROJECT)


# -- in-process ------------------------------------------------------------------------------------
def _findings(source: str, versions: Optional[Dict[str, str]], tmp_path: Path) -> List[Finding]:
    text = textwrap.dedent(source).lstrip("\n")
    project = ProjectContext(tmp_path)
    project.__dict__["environment"] = Environment(distributions=dict(versions or {}))
    module = ModuleContext(str(tmp_path / "schemas.py"), text.splitlines(True), ast.parse(text),
                           project)
    return sorted(rule_for("SBA211")().check_module(module), key=lambda f: f.line)


BROKEN = '''
    from pydantic import BaseModel, Field

    class Base(BaseModel):
        version: int = 1

    class User(Base):
        version = 2
        code: str = Field(regex="^a")

        class Config:
            allow_population_by_field_name = True
'''


def test_only_pydantic_2_is_judged(tmp_path: Path) -> None:
    assert _findings(BROKEN, {"pydantic": "1.10.21"}, tmp_path) == []
    assert _findings(BROKEN, {}, tmp_path) == []  # pydantic not installed: nothing known
    assert len(_findings(BROKEN, {"pydantic": "2.14.4"}, tmp_path)) == 3


def test_texts_follow_the_installed_version(tmp_path: Path) -> None:
    override, regex, config = _findings(BROKEN, {"pydantic": "2.10.0"}, tmp_path)
    assert "Field 'version' defined on a base class was overridden by a non-annotated" \
        in override.root_cause
    assert "`regex` is removed. use `pattern` instead" in regex.root_cause
    assert "installed: pydantic 2.10.0" in regex.root_cause
    assert config.message.endswith("renamed to populate_by_name")
    assert config.fix.description == ("Replace class Config with model_config = "
                                      "ConfigDict(populate_by_name=True).")
    assert config.fix.codemod == "pydantic-v2-idioms"
    latest = _findings(BROKEN, {"pydantic": "2.14.4"}, tmp_path)[2]
    assert latest.message.endswith("renamed to validate_by_name")


def test_orm_mode_is_a_warning_until_something_calls_from_orm(tmp_path: Path) -> None:
    source = '''
        from pydantic import BaseModel

        class UserOut(BaseModel):
            id: int

            class Config:
                orm_mode = True
    '''
    unused = _findings(source, {"pydantic": "2.14.4"}, tmp_path)
    assert [f.severity.value for f in unused] == ["warning"]
    caller = "\n        def load(row):\n            return UserOut.model_validate(row)\n"
    used = _findings(source + caller, {"pydantic": "2.14.4"}, tmp_path)
    assert [f.severity.value for f in used] == ["runtime"]
    assert "UserOut.model_validate() at line 10" in used[0].root_cause


def test_code_written_for_both_majors_is_left_alone(tmp_path: Path) -> None:
    source = """
        import pydantic
        from pydantic import BaseModel, Field

        PYDANTIC_V2 = pydantic.VERSION.startswith("2.")

        class Country(BaseModel):
            if PYDANTIC_V2:
                code: str = Field(pattern="^[A-Z]{2}$")
            else:
                code: str = Field(regex="^[A-Z]{2}$")

                class Config:
                    orm_mode = True
    """
    assert _findings(source, {"pydantic": "2.14.4"}, tmp_path) == []
