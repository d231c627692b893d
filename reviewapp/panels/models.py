"""Experts with employment history and declared relations, panels and members, conflicts, pledges."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow
from reviewapp.crypto import confidential, keep_blind_index

RELATION_KINDS = ("亲属任职", "投资入股", "法律纠纷", "咨询服务", "其他")


class Expert(SQLModel, table=True):
    """A review expert in the pool; `user_id` links the login account once staff create it."""

    __tablename__ = "expert"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", unique=True)
    name: str = Field(max_length=64, index=True)
    employer: str = Field(default="", max_length=200)
    employer_credit_code: str = Field(default="", max_length=18, index=True)
    title: str = Field(default="", max_length=64)  # 职称
    specialties_json: str = "[]"  # industry groups (所属行业)
    city: str = Field(default="", max_length=32)
    phone: str = Field(default="", max_length=32, sa_type=confidential("expert", "phone"))  # staff only
    email: str = Field(default="", max_length=120)  # staff only
    id_number_hint: str = Field(
        default="", max_length=8, sa_type=confidential("expert", "id_number_hint")
    )  # last digits, to tell namesakes apart on import
    # blind indexes (HMAC-SM3) for exact lookups under 国密; empty by default (reviewapp.crypto)
    phone_index: str = Field(default="", max_length=64, index=True)
    id_number_hint_index: str = Field(default="", max_length=64, index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1


keep_blind_index(Expert, "phone", "phone_index")
keep_blind_index(Expert, "id_number_hint", "id_number_hint_index")


class ExpertEmployment(SQLModel, table=True):
    __tablename__ = "expert_employment"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    employer: str = Field(max_length=200)
    credit_code: str = Field(default="", max_length=18, index=True)
    start: date | None = None
    end: date | None = None  # None: still employed there


class ExpertRelation(SQLModel, table=True):
    """A relation the expert declared in the profile (亲属任职, 投资入股, 法律纠纷, 咨询服务, 其他)."""

    __tablename__ = "expert_relation"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    enterprise_name: str = Field(max_length=200)
    credit_code: str = Field(default="", max_length=18, index=True)
    relation: str = Field(max_length=16)
    since: date | None = None
    until: date | None = None
    note: str = Field(default="", max_length=500)


class Panel(SQLModel, table=True):
    """An expert panel (专家组) of one round, usually one per industry group."""

    __tablename__ = "panel"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    name: str = Field(max_length=120)
    industry_group: str = Field(default="", max_length=16)
    group_opinion: str = ""  # 专家组意见 for the whole panel
    finalized_at: datetime | None = None
    finalized_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1


class PanelMember(SQLModel, table=True):
    __tablename__ = "panel_member"
    __table_args__ = (
        UniqueConstraint("panel_id", "expert_id"),
        # At most one chair per panel, whatever the code above does; "at least one" is the service's job.
        Index(
            "uq_panel_member_one_chair",
            "panel_id",
            unique=True,
            sqlite_where=text("is_chair"),
            postgresql_where=text("is_chair"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    is_chair: bool = False  # 组长


class ConflictRule(StrEnum):
    same_credit_code = "same_credit_code"
    employment = "employment"
    provider = "provider"
    declared_relation = "declared_relation"
    same_city = "same_city"
    declaration = "declaration"

    @property
    def label(self) -> str:
        return CONFLICT_RULE_LABELS[self]


CONFLICT_RULE_LABELS = {
    ConflictRule.same_credit_code: "与申报单位或其集团统一社会信用代码相同",
    ConflictRule.employment: "近年在申报单位任职",
    ConflictRule.provider: "所在单位为该项目的解决方案供应商或咨询机构",
    ConflictRule.declared_relation: "已登记的利害关系",
    ConflictRule.same_city: "与申报单位同一地市",
    ConflictRule.declaration: "评审前回避声明",
}


class Conflict(SQLModel, table=True):
    """Why an expert may not see or score an application: the rule and the evidence in words."""

    __tablename__ = "conflict"
    __table_args__ = (UniqueConstraint("round_id", "expert_id", "application_id", "rule"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    rule: str = Field(max_length=32)  # ConflictRule
    evidence: str = Field(max_length=500)  # e.g. "2023-05 起在该企业任职"
    created_at: datetime = Field(default_factory=utcnow)


class Pledge(SQLModel, table=True):
    """The signed confidentiality and impartiality pledge (保密与公正承诺) and the conflict declaration (回避声明)."""

    __tablename__ = "pledge"
    __table_args__ = (UniqueConstraint("round_id", "expert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    pledge_text_sha256: str = Field(max_length=64)
    signed_at: datetime = Field(default_factory=utcnow)
    declaration_done_at: datetime | None = None  # the list of enterprises has been gone through
    client_addr: str = Field(default="", max_length=64)
