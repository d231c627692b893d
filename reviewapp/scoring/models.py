"""Score sheets, their item scores, and every version of a sheet (autosaves, submits, returns)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class SheetStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "submitted": "已提交", "returned": "退回重评"}[self.value]


NOT_STARTED_LABEL = "未开始"


class ScoreSheet(SQLModel, table=True):
    """One expert's sheet (专家评分表) for one application. `row_version` refuses saves from a stale tab."""

    __tablename__ = "score_sheet"
    __table_args__ = (UniqueConstraint("application_id", "expert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    criteria_version_id: int = Field(foreign_key="criteria_version.id")
    status: str = Field(default=SheetStatus.draft.value, max_length=16, index=True)
    opinion: str = ""
    total: Decimal = Field(default=Decimal(0), max_digits=7, decimal_places=2)
    returned_reason: str = ""  # why the chair returned it, or why staff reopened it
    returned_at: datetime | None = None
    returned_by: int | None = Field(default=None, foreign_key="user_account.id")
    submitted_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1
    # Written on submit (scoring.rules.summary_json): the dimension subtotals and gate outcomes, so that the
    # rankings read one row per sheet instead of its item scores. Only meaningful while status is submitted.
    summary_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ItemScore(SQLModel, table=True):
    """The current value of one criteria item on one sheet."""

    __tablename__ = "item_score"
    __table_args__ = (UniqueConstraint("sheet_id", "node_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # No separate index on sheet_id: the unique (sheet_id, node_id) index serves lookups by sheet, and every
    # autosave writes here, so each index costs.
    sheet_id: int = Field(foreign_key="score_sheet.id")
    node_id: int = Field(foreign_key="criteria_node.id")
    value: Decimal | None = Field(default=None, max_digits=6, decimal_places=2)
    gate: str | None = Field(default=None, max_length=8)  # "pass" | "fail"
    justification: str = ""


class SheetVersion(SQLModel, table=True):
    """The sheet's own history: each autosave records what changed; submit/return/resubmit record everything."""

    __tablename__ = "score_sheet_version"
    __table_args__ = (UniqueConstraint("sheet_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    sheet_id: int = Field(foreign_key="score_sheet.id")  # indexed by the unique (sheet_id, version)
    version: int  # the sheet's row_version after this change
    kind: str = Field(max_length=16)  # save | submit | return | resubmit | reopen
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow)
    change_json: str = ""
