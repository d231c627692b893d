"""A round's publicity period (公示): when it runs, the notice text, and whether it is on the public page."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class PublicityPeriod(SQLModel, table=True):
    """One per round. `end_date` is computed from `start_date` and `working_days` on the official calendar (调休
    included) and stored, so that objections can be judged against the period that was announced."""

    __tablename__ = "publicity_period"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", unique=True)
    start_date: date
    working_days: int = 5
    end_date: date
    notice_text: str = ""  # rendered from the editable template, then editable itself
    columns_json: str = '["企业名称", "工厂名称", "所在地市"]'  # list columns shown on the public page
    published_at: datetime | None = None  # on the public page from then on
    published_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1
