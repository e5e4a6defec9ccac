"""rename-reserved-attribute (SBA321) on real findings."""
from __future__ import annotations

from fixdb_helpers import again, dedent, findings, fix, run, write

_MODELS = '''
    from typing import Optional

    from sqlalchemy import JSON, Column
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
    from sqlmodel import Field, SQLModel


    class Document(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        title: str
        metadata: dict = Field(default_factory=dict, sa_column=Column(JSON))  # free-form


    class Event(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        metadata: Optional[str] = None


    class Base(DeclarativeBase):
        pass


    class Upload(Base):
        __tablename__ = "upload"
        id: Mapped[int] = mapped_column(primary_key=True)
        metadata: Mapped[dict] = mapped_column(JSON)
'''

_FIXED = _MODELS.replace(
    "metadata: dict = Field(default_factory=dict, sa_column=Column(JSON))  # free-form",
    'meta: dict = Field(default_factory=dict, sa_column=Column("metadata", JSON))  # free-form'
).replace(
    "metadata: Optional[str] = None",
    'meta: Optional[str] = Field(default=None, sa_column_kwargs={"name": "metadata"})'
).replace(
    "metadata: Mapped[dict] = mapped_column(JSON)",
    'meta: Mapped[dict] = mapped_column("metadata", JSON)')

_USE = '''
import warnings
warnings.simplefilter("error")
from sqlalchemy import create_engine, inspect
from sqlmodel import Session, SQLModel
from app.models import Base, Document, Event, Upload
engine = create_engine("sqlite://")
SQLModel.metadata.create_all(engine)
Base.metadata.create_all(engine)
with Session(engine) as session:
    session.add(Document(title="report", meta={"pages": 3}))
    session.add(Event(meta="launch"))
    session.add(Upload(meta={"size": 1}))
    session.commit()
    print(session.get(Document, 1).meta, session.get(Event, 1).meta, session.get(Upload, 1).meta)
columns = inspect(engine)
print([sorted(c["name"] for c in columns.get_columns(t)) for t in ("document", "event", "upload")])
'''


def test_rename_reserved_attribute(tmp_path):
    write(tmp_path, {"app/models.py": _MODELS})
    before = run(tmp_path, "from app.models import Document; Document(title='report')")
    assert "'metadata' is a ClassVar of `Document` and cannot be set on an instance." in \
        before.stderr
    outcome, found = fix(tmp_path, "app/models.py", "SBA321", "rename-reserved-attribute")
    assert len(found) == 3 and len(outcome.fixed) == 3
    assert all(not f.fix.safe for f in found)
    assert outcome.module.code == dedent(_FIXED)
    assert findings(tmp_path, "SBA321") == []
    assert again(tmp_path, "app/models.py", "rename-reserved-attribute", found) == \
        dedent(_FIXED)
    assert run(tmp_path, "import app.models").returncode == 0
    after = run(tmp_path, _USE)
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == [
        "{'pages': 3} launch {'size': 1}",
        "[['id', 'metadata', 'title'], ['id', 'metadata'], ['id', 'metadata']]"]


def test_rename_reserved_attribute_picks_a_free_name_and_imports_field(tmp_path):
    write(tmp_path, {"app/models.py": '''
        from typing import Optional

        import sqlmodel


        class Note(sqlmodel.SQLModel, table=True):
            id: Optional[int] = sqlmodel.Field(default=None, primary_key=True)
            meta: str = ""
            metadata: str
    '''})
    outcome, _ = fix(tmp_path, "app/models.py", "SBA321", "rename-reserved-attribute")
    assert len(outcome.fixed) == 1
    code = outcome.module.code
    assert 'metadata_: str = Field(sa_column_kwargs={"name": "metadata"})' in code
    assert "from sqlmodel import Field" in code
    assert findings(tmp_path, "SBA321") == []
    after = run(tmp_path, "from app.models import Note; print(Note(metadata_='x').metadata_)")
    assert after.returncode == 0, after.stderr


def test_rename_reserved_attribute_skips_an_inherited_field(tmp_path):
    write(tmp_path, {"app/models.py": '''
        from typing import Optional

        from sqlmodel import Field, SQLModel


        class EventBase(SQLModel):
            name: str
            metadata: Optional[str] = None


        class Event(EventBase, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)


        class EventRead(EventBase):
            id: int
    '''})
    source = (tmp_path / "app/models.py").read_text()
    outcome, found = fix(tmp_path, "app/models.py", "SBA321", "rename-reserved-attribute")
    assert len(found) == 1 and outcome.fixed == []
    assert "inherited from a base class" in outcome.skipped[0][1]
    assert outcome.module.code == source


def test_rename_reserved_attribute_makes_the_app_import_on_sqlalchemy_2_0(tmp_path):
    from stack_venvs import STACKS, build

    python = str(build(STACKS["sqlalchemy-2.0-no-greenlet"]))
    write(tmp_path, {"app/models.py": '''
        from sqlalchemy import JSON, Column, Integer
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()


        class Upload(Base):
            __tablename__ = "upload"
            id = Column(Integer, primary_key=True)
            metadata = Column(JSON, nullable=True)
    '''})
    before = run(tmp_path, "import app.models", python)
    assert "sqlalchemy.exc.InvalidRequestError: Attribute name 'metadata' is reserved when " \
           "using the Declarative API." in before.stderr
    outcome, found = fix(tmp_path, "app/models.py", "SBA321", "rename-reserved-attribute",
                         python)
    assert [f.severity.value for f in found] == ["blocking"]
    assert "SQLAlchemy 2.0.44" in found[0].root_cause
    assert '    meta = Column("metadata", JSON, nullable=True)\n' in outcome.module.code
    assert findings(tmp_path, "SBA321", python=python) == []
    after = run(tmp_path, "import app.models as m; print(m.Upload.__table__.c.keys())", python)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "['id', 'metadata']"
