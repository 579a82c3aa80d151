"""The agents, experts and board and team templates an admin edits, and the version that says when they changed.

Every change runs in one transaction that first locks the version row (PostgreSQL: ``FOR UPDATE``;
SQLite: this process's writer lock and the database's single writer), reads the catalog as it is,
lets the caller check the change against it, writes it and increments the version. Two admins
editing at once are thus checked one after the other, never against a stale catalog; every process
notices a change by reading the version, one small query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import JSON, Column, DateTime, String, Text, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field as ColumnField
from sqlmodel import Session, SQLModel, col, delete, select

from agentkit_app.store.db import in_session, in_session_now, writer_lock
from agentkit_app.store.models import SessionRecord, utcnow

NAME_CHARS = 40
LABEL_CHARS = 80
DESCRIPTION_CHARS = 500
PROMPT_CHARS = 8000
PERSONA_CHARS = 4000
AVATAR_CHARS = 200
MODEL_CHARS = 100
MAX_TOOLS = 20
MAX_MEMBERS = 12
TemplateKind = Literal["board", "team"]
EntryKind = Literal["agent", "expert", "template"]


# What an admin sets on an agent (the name, its key, is fixed when it is created).
# Limits and formats are checked by the service (service/catalog_rules.py), in one place.
class AgentFields(BaseModel):
    display_name: str
    description: str = ""
    system_prompt: str
    model: str | None = Field(default=None, description="null: the deployment's model")
    tools: list[str] = Field(default_factory=list)
    enabled: bool = Field(default=True, description="false: hidden from the picker; its sessions keep it")


# An agent as stored and listed.
class AgentPublic(AgentFields):
    name: str


# What an admin sets on an expert persona.
class ExpertFields(BaseModel):
    avatar: str = Field(description="an emoji, or a picture under /assets/")
    color: str = Field(description="a #hex colour such as #6366f1")
    persona: str
    role: str = "expert"
    is_moderator: bool = False


# An expert as stored and listed.
class ExpertPublic(ExpertFields):
    name: str


# What an admin sets on a template: a board's members, or a team's lead and members.
class TemplateFields(BaseModel):
    kind: TemplateKind
    lead: str | None = Field(default=None, description="a team's lead (teams only)")
    experts: list[str] = Field(description="the members, by expert name")


# A template as stored and listed.
class TemplatePublic(TemplateFields):
    name: str


# Everything in the catalog at one version.
class CatalogSnapshot(BaseModel):
    version: int
    agents: list[AgentPublic]
    experts: list[ExpertPublic]
    templates: list[TemplatePublic]


AnyEntry = AgentPublic | ExpertPublic | TemplatePublic


class CatalogAgentRecord(SQLModel, table=True):
    __tablename__ = "catalog_agents"

    name: str = ColumnField(primary_key=True, max_length=NAME_CHARS)
    position: int = 0
    display_name: str = ColumnField(max_length=LABEL_CHARS)
    description: str = ColumnField(default="", sa_column=Column(Text, nullable=False))
    system_prompt: str = ColumnField(sa_column=Column(Text, nullable=False))
    model: str | None = ColumnField(default=None, max_length=MODEL_CHARS)
    tools: list[str] = ColumnField(default_factory=list, sa_column=Column(JSON, nullable=False))
    enabled: bool = True
    updated_at: datetime = ColumnField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class CatalogExpertRecord(SQLModel, table=True):
    __tablename__ = "catalog_experts"

    # the name folded to lower case: names differing only in case would be the same expert in a command
    key: str = ColumnField(primary_key=True, max_length=NAME_CHARS * 2)
    name: str = ColumnField(max_length=NAME_CHARS)
    position: int = 0
    avatar: str = ColumnField(sa_type=String(AVATAR_CHARS))
    color: str = ColumnField(sa_type=String(7))
    persona: str = ColumnField(sa_column=Column(Text, nullable=False))
    role: str = ColumnField(default="expert", max_length=NAME_CHARS)
    is_moderator: bool = False
    updated_at: datetime = ColumnField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class CatalogTemplateRecord(SQLModel, table=True):
    __tablename__ = "catalog_templates"

    name: str = ColumnField(primary_key=True, max_length=NAME_CHARS)
    position: int = 0
    kind: str = ColumnField(sa_type=String(8))
    lead: str | None = ColumnField(default=None, max_length=NAME_CHARS)
    experts: list[str] = ColumnField(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = ColumnField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class CatalogVersionRecord(SQLModel, table=True):
    __tablename__ = "catalog_version"

    id: int = ColumnField(default=1, primary_key=True)
    version: int = 1


_TABLES: dict[EntryKind, type[CatalogAgentRecord | CatalogExpertRecord | CatalogTemplateRecord]] = {
    "agent": CatalogAgentRecord,
    "expert": CatalogExpertRecord,
    "template": CatalogTemplateRecord,
}


@dataclass(frozen=True)
class CatalogEdit:
    """One change: ``put`` (create or replace by name) or delete ``kind``'s entry ``name``."""

    kind: EntryKind
    name: str
    put: AnyEntry | None = None


def _key(kind: EntryKind, name: str) -> str:
    return name.casefold() if kind == "expert" else name


def _snapshot(db: Session, version: int) -> CatalogSnapshot:
    def rows(table: type[SQLModel]) -> list[dict[str, object]]:
        ordered = select(table).order_by(col(table.position))  # type: ignore[attr-defined]
        return [row.model_dump() for row in db.exec(ordered)]

    return CatalogSnapshot(
        version=version,
        agents=[AgentPublic.model_validate(r) for r in rows(CatalogAgentRecord)],
        experts=[ExpertPublic.model_validate(r) for r in rows(CatalogExpertRecord)],
        templates=[TemplatePublic.model_validate(r) for r in rows(CatalogTemplateRecord)],
    )


def _current(db: Session) -> CatalogSnapshot | None:
    row = db.get(CatalogVersionRecord, 1)
    return _snapshot(db, row.version) if row else None


def _put(db: Session, edit: CatalogEdit) -> None:
    table = _TABLES[edit.kind]
    assert edit.put is not None
    values = edit.put.model_dump()
    key = _key(edit.kind, edit.name)
    row = db.get(table, key)
    if row is None:
        last = db.exec(select(func.max(table.position))).one()  # type: ignore[attr-defined]
        position = 0 if last is None else last + 1
        if edit.kind == "expert":
            values["key"] = key
        db.add(table.model_validate({**values, "position": position}))
        return
    for field, value in values.items():
        setattr(row, field, value)
    row.updated_at = utcnow()
    db.add(row)


class CatalogStore:
    """Reads and changes the catalog tables of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer_lock(engine)

    async def version(self) -> int | None:
        """Return the catalog's version, or None before it is seeded."""

        def work(db: Session) -> int | None:
            row = db.get(CatalogVersionRecord, 1)
            return row.version if row else None

        return await in_session(self.engine, work)

    def snapshot_now(self) -> CatalogSnapshot | None:
        """Return the catalog as it is (blocking), or None before it is seeded."""
        return in_session_now(self.engine, _current)

    async def snapshot(self) -> CatalogSnapshot | None:
        """Return the catalog as it is, or None before it is seeded."""
        return await in_session(self.engine, _current)

    def seed_now(self, seed: CatalogSnapshot) -> bool:
        """Store ``seed`` as version 1 if the catalog is empty (blocking); return whether it was stored.

        Several processes starting at once may all try: the version row's key lets one of them win.
        """

        def work(db: Session) -> bool:
            if db.get(CatalogVersionRecord, 1) is not None:
                return False
            try:  # another process's seed shows as a duplicate key at the first flush or at the commit
                db.add(CatalogVersionRecord(id=1, version=1))
                for kind, entries in (
                    ("agent", seed.agents),
                    ("expert", seed.experts),
                    ("template", seed.templates),
                ):
                    for entry in entries:
                        _put(db, CatalogEdit(kind, entry.name, entry))  # type: ignore[arg-type]
                        db.flush()
                db.commit()
            except IntegrityError:
                db.rollback()
                return False
            return True

        return in_session_now(self.engine, work, lock=self._writer)

    async def change(self, check: Callable[[CatalogSnapshot], CatalogEdit]) -> int:
        """Apply the edit ``check`` returns for the catalog as it is now; return the new version.

        ``check`` raises to refuse the change; nothing is written then. The catalog must be seeded.
        """

        def work(db: Session) -> int:
            row = db.exec(
                select(CatalogVersionRecord).where(CatalogVersionRecord.id == 1).with_for_update()
            ).one()
            edit = check(_snapshot(db, row.version))
            if edit.put is None:
                table = _TABLES[edit.kind]
                pk = col(table.key if edit.kind == "expert" else table.name)  # type: ignore[union-attr]
                db.exec(delete(table).where(pk == _key(edit.kind, edit.name)))  # type: ignore[call-overload]
            else:
                _put(db, edit)
            row.version += 1
            db.add(row)
            db.commit()
            return row.version

        return await in_session(self.engine, work, lock=self._writer)

    async def sessions_using(self, agent_name: str) -> int:
        """Return how many sessions (archived and deleted ones too) are bound to the agent."""

        def work(db: Session) -> int:
            query = (
                select(func.count()).select_from(SessionRecord).where(SessionRecord.agent_name == agent_name)
            )
            return int(db.exec(query).one())

        return await in_session(self.engine, work)
