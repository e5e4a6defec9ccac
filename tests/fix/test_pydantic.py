"""pydantic-v2-idioms (SBA211): the exact rewrites, the idioms left to the user, and the fixed
models working on the installed pydantic 2."""
from __future__ import annotations

from pathlib import Path

from app_fix_projects import again, findings, fix, fix_examples, run, write

from flake8_stability.rules.dependencies.pydantic_v1 import PydanticV1IdiomOnV2

SCHEMAS = '''
    from typing import List

    from pydantic import BaseModel, Field, conlist, root_validator


    class Country(BaseModel):
        code: str = Field(..., regex=r"^[A-Z]{2}$")
        tags: List[str] = Field(default_factory=list, min_items=1)
        sizes: conlist(int, max_items=3) = []
        full: str = ""

        @root_validator
        def fill(cls, values):
            values["full"] = f"{values['code']}:{len(values['tags'])}"
            return values


    class UserOut(BaseModel):
        id: int
        email: str

        class Config:
            # read ORM rows
            orm_mode = True  # for from_orm
            extra = "forbid"
'''
EXPECTED = '''from typing import List

from pydantic import ConfigDict, BaseModel, Field, conlist, root_validator


class Country(BaseModel):
    code: str = Field(..., pattern=r"^[A-Z]{2}$")
    tags: List[str] = Field(default_factory=list, min_length=1)
    sizes: conlist(int, max_length=3) = []
    full: str = ""

    @root_validator(skip_on_failure=True)
    def fill(cls, values):
        values["full"] = f"{values['code']}:{len(values['tags'])}"
        return values


class UserOut(BaseModel):
    id: int
    email: str

    # read ORM rows
    # for from_orm
    model_config = ConfigDict(from_attributes=True, extra="forbid")
'''
PROOF = '''
from app.schemas import Country, UserOut

class Row:
    id = 1
    email = "ada@example.com"

print(Country(code="FR", tags=["eu"]).full, UserOut.model_validate(Row()).email)
try:
    Country(code="FRA", tags=["eu"])
except ValueError as exc:
    print(type(exc).__name__)
'''


def test_pydantic_v2_idioms(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/schemas.py": SCHEMAS})
    assert "`regex` is removed. use `pattern` instead" in run(
        tmp_path, "import app.schemas").stderr
    applied = fix(tmp_path, "SBA211", "pydantic-v2-idioms")
    schemas = tmp_path / "app/schemas.py"
    assert schemas.read_text() == EXPECTED
    assert applied.skipped == [] and applied.fixed == 5
    assert again(applied) == {str(schemas): EXPECTED}
    assert findings(tmp_path, "SBA211") == []
    proof = run(tmp_path, PROOF)
    assert proof.returncode == 0, proof.stderr
    assert proof.stdout.split() == ["FR:1", "ada@example.com", "ValidationError"]


def test_settings_config_and_what_is_left_alone(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/config.py": '''
        from pydantic import BaseModel, Field, root_validator
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            database_url: str = "sqlite+aiosqlite:///./app.db"

            class Config:
                env_file = ".env"
                allow_population_by_field_name = True


        class Item(BaseModel):
            name: str = Field(..., regex="[a-z]+")
            kind: str = Field("item", const=True)

            @root_validator(pre=False)
            def check(cls, values):
                return values


        class Legacy(BaseModel):
            name: str = ""

            class Config:
                orm_mode = True
                allow_mutation = False
    '''})
    applied = fix(tmp_path, "SBA211", "pydantic-v2-idioms")
    text = (tmp_path / "app/config.py").read_text()
    assert "from pydantic_settings import SettingsConfigDict, BaseSettings\n" in text
    assert ('    model_config = SettingsConfigDict(env_file=".env", validate_by_name=True)\n'
            in text)
    assert "@root_validator(pre=False, skip_on_failure=True)" in text
    assert 'name: str = Field(..., regex="[a-z]+")' in text
    assert sorted(applied.skipped) == [
        (14, "the pattern is not anchored with ^: pydantic 1 matched at the start, pydantic 2 "
             "searches anywhere (add ^ by hand if that is what it meant)"),
        (15, "const= has no exact pydantic 2 keyword: rewrite it by hand"),
        (26, "class Config key allow_mutation has no exact pydantic 2 equivalent"),
        (27, "no exact pydantic 2 spelling: rewrite it by hand"),
    ]
    assert "        orm_mode = True\n        allow_mutation = False\n" in text
    proof = run(tmp_path, "from app.config import Settings\n"
                          "print(Settings.model_config['validate_by_name'])")
    assert "regex" in proof.stderr  # the unanchored regex is still the user's to fix


def test_patterns_pydantic_2_reads_differently_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, {"app/__init__.py": "", "app/codes.py": '''
        from pydantic import BaseModel, Field, constr


        class Codes(BaseModel):
            grade: str = Field(..., regex=r"^A|B")
            word: str = Field(..., regex=r"^(?!admin)\\w+$")
            pair: str = Field(..., regex=r"^(a)\\1$")
            level: constr(regex=r"^(low|high)$") = "low"
            kind: str = Field("a", regex=r"^[|a]$")
    '''})
    applied = fix(tmp_path, "SBA211", "pydantic-v2-idioms")
    text = (tmp_path / "app/codes.py").read_text()
    assert 'level: constr(pattern=r"^(low|high)$") = "low"' in text
    assert 'kind: str = Field("a", pattern=r"^[|a]$")' in text
    assert [why.split(":")[0] for _, why in sorted(applied.skipped)] == [
        "the pattern has a top-level `|`",
        "the pattern uses look-around, back-references or \\Z, which pydantic 2 rejects",
        "the pattern uses look-around, back-references or \\Z, which pydantic 2 rejects"]
    assert [f.line for f in findings(tmp_path, "SBA211")] == [5, 6, 7]


def test_rule_examples(tmp_path: Path) -> None:
    """regex=, the bare root_validator and orm_mode are fixed; the non-annotated attribute is
    the user's."""
    results = fix_examples(PydanticV1IdiomOnV2, "pydantic-v2-idioms", tmp_path)
    assert all(left == len(applied.skipped) for applied, left in results)
    assert [applied.fixed for applied, _ in results] == [1, 1, 0, 1]
    for index in (0, 1):
        proof = run(tmp_path / f"example{index}", "import snippet")
        assert proof.returncode == 0, proof.stderr
    proof = run(tmp_path / "example3", "import snippet\n"
                "print(snippet.to_schema(snippet.UserRow()).email)")
    assert proof.stdout.strip() == "ada@example.com", proof.stderr
