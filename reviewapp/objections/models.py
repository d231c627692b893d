"""The objection register (异议登记): one row per written objection received during a round's publicity period.

The objector's name, contact and address are confidential (第二十二条, publicity notices): only the objection's
handlers read them, one audited view at a time; they never enter a case step, the audit log or an export.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow
from reviewapp.crypto import confidential

OBJECTION_CHANNELS = ("信函", "邮件", "当面", "电话")


class ObjectorKind(StrEnum):
    unit = "unit"  # a unit's objection carries its official seal (加盖公章)
    person = "person"  # a person's carries a real signature and contact

    @property
    def label(self) -> str:
        return {"unit": "单位", "person": "个人"}[self.value]

    @property
    def seal_label(self) -> str:
        return {"unit": "已加盖单位公章", "person": "已由本人签名"}[self.value]


class Objection(SQLModel, table=True):
    """An objection against one application on a round's publicized recommendation list, verified under casework."""

    __tablename__ = "objection"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(default="", max_length=20, index=True)  # 异议编号, e.g. YY-2026-00003
    round_id: int = Field(foreign_key="review_round.id", index=True)
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    target_name: str = Field(max_length=200)  # 被异议单位 (the enterprise's name when an application is chosen)
    target_factory: str = Field(default="", max_length=200)
    channel: str = Field(max_length=8)  # one of OBJECTION_CHANNELS
    received_on: date = Field(index=True)
    objector_kind: str = Field(max_length=8)  # ObjectorKind
    objector_name: str = Field(
        default="", max_length=200, sa_type=confidential("objection", "objector_name")
    )  # empty = anonymous
    objector_contact: str = Field(default="", max_length=120, sa_type=confidential("objection", "objector_contact"))
    objector_address: str = Field(default="", max_length=300, sa_type=confidential("objection", "objector_address"))
    sealed_or_signed: bool = False  # the unit's seal, or the person's signature, is on the objection
    content: str
    state: str = Field(max_length=32, index=True)  # objections.rules.OBJECTION_WORKFLOW state
    reply_deadline: date | None = None  # the enterprise's explanation is due by this day
    explained_on: date | None = None  # the enterprise's explanation arrived on this day
    conclusion: str = Field(default="", max_length=16)  # rules.CONCLUSION_LABELS, once concluded
    outcome: str = Field(default="", max_length=16)  # rules.OUTCOME_LABELS, once handled
    closed_on: date | None = None
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1

    @property
    def kind_label(self) -> str:
        return ObjectorKind(self.objector_kind).label if self.objector_kind in ObjectorKind.__members__ else ""
