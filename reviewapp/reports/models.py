"""Certifications and revocations: formal review reads them (ban, existing 先进级) before reports exist."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class CertificationStatus(StrEnum):
    active = "active"
    revoked = "revoked"
    lapsed = "lapsed"  # re-review (复核) not passed or not requested

    @property
    def label(self) -> str:
        return {"active": "有效", "revoked": "已取消认定", "lapsed": "已失效"}[self.value]


class Certification(SQLModel, table=True):
    """One factory's certification at a tier, created when a round's final list is published (or entered by staff)."""

    __tablename__ = "certification"

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    credit_code: str = Field(max_length=18, index=True)
    factory_name: str = Field(max_length=200)
    tier: str = Field(max_length=16, index=True)  # rounds.models.Tier
    round_id: int | None = Field(default=None, foreign_key="review_round.id", index=True)
    application_id: int | None = Field(default=None, foreign_key="application.id")
    valid_from: date
    valid_to: date
    status: str = Field(default=CertificationStatus.active.value, max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1


class RevocationReason(StrEnum):
    safety = "safety"
    quality = "quality"
    environment = "environment"
    dishonesty = "dishonesty"
    tax_evasion = "tax_evasion"
    falsified = "falsified"
    no_reply = "no_reply"

    @property
    def label(self) -> str:
        return REVOCATION_REASON_LABELS[self]


REVOCATION_REASON_LABELS = {
    RevocationReason.safety: "发生安全事故（含网络安全、数据安全）",
    RevocationReason.quality: "发生质量事故",
    RevocationReason.environment: "发生环境事故",
    RevocationReason.dishonesty: "严重失信",
    RevocationReason.tax_evasion: "偷税漏税",
    RevocationReason.falsified: "弄虚作假",
    RevocationReason.no_reply: "未按要求答复举报核实",
}


class Revocation(SQLModel, table=True):
    """取消认定 and the ban that follows: no new application from this credit code until `banned_until` (≥ 3 years)."""

    __tablename__ = "revocation"

    id: int | None = Field(default=None, primary_key=True)
    certification_id: int | None = Field(default=None, foreign_key="certification.id", index=True)
    credit_code: str = Field(max_length=18, index=True)
    enterprise_name: str = Field(max_length=200)
    reason_category: str = Field(max_length=16)  # RevocationReason
    reason: str = ""
    revoked_on: date
    banned_until: date
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
