"""The trail of any tracked case (objection, whistle-blower report): its steps and the staff who handle it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class CaseStep(SQLModel, table=True):
    """One recorded step of a case: a state transition, or an event that keeps the state (note, assignment…).

    `case_type` is the workflow's name (e.g. "report", "objection"); files attach through
    reviewapp.files.StoredFile with owner_type "case_step" and owner_id = this id.
    """

    __tablename__ = "case_step"
    __table_args__ = (UniqueConstraint("case_type", "case_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_type: str = Field(max_length=32, index=True)
    case_id: int = Field(index=True)
    seq: int  # 1, 2, 3 … within the case
    code: str = Field(max_length=32)  # transition code, or an event code such as "note", "assign"
    from_state: str = Field(max_length=32)
    to_state: str = Field(max_length=32)  # equal to from_state for events
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_name: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow)
    note: str = ""
    data_json: str = ""  # the values recorded with the step (deadlines, conclusion, reply…), display-ready

    @property
    def data(self) -> dict[str, Any]:
        return dict(json.loads(self.data_json)) if self.data_json else {}

    @property
    def is_transition(self) -> bool:
        return self.from_state != self.to_state


class CaseHandler(SQLModel, table=True):
    """A staff member assigned to handle a case (承办人): only they take its steps and see confidential parts."""

    __tablename__ = "case_handler"
    __table_args__ = (UniqueConstraint("case_type", "case_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_type: str = Field(max_length=32, index=True)
    case_id: int = Field(index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    assigned_by: int | None = Field(default=None, foreign_key="user_account.id")
    assigned_at: datetime = Field(default_factory=utcnow)
