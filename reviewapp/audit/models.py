"""Audit entries and the single-row chain head that serialises appends."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    at: datetime = Field(index=True)
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(default="", max_length=64)
    action: str = Field(max_length=64, index=True)
    entity_type: str = Field(max_length=64, index=True)
    entity_id: str = Field(default="", max_length=64, index=True)
    summary: str = Field(default="", max_length=500)
    before_json: str = ""
    after_json: str = ""
    client_addr: str = Field(default="", max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    hash_alg: str = Field(default="sha256", max_length=16)  # "sha256" or "sm3" (国密), per entry


class AuditHead(SQLModel, table=True):
    """One row (id=1) holding the chain's tip; appenders lock it, and a deleted tail is detected."""

    __tablename__ = "audit_head"

    id: int | None = Field(default=None, primary_key=True)
    last_seq: int = 0
    last_hash: str = Field(default="", max_length=64)
