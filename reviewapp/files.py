"""Uploaded files (attachments, evidence): stored under the data directory, never under static/."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class StoredFile(SQLModel, table=True):
    """One uploaded file, owned by an application, objection, report or case step (`owner_type`, `owner_id`)."""

    __tablename__ = "stored_file"

    id: int | None = Field(default=None, primary_key=True)
    owner_type: str = Field(max_length=32, index=True)
    owner_id: int = Field(index=True)
    filename: str = Field(max_length=255)  # as uploaded, shown to users
    storage_key: str = Field(max_length=80, unique=True)  # random name on disk
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)
