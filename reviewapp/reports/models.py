"""Certifications (认定) with re-reviews and major-change filings, revocations and bans, whistle-blower reports (举报).

Formal review reads Certification (existing 先进级) and Revocation.banned_until (the ban) directly.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow
from reviewapp.crypto import confidential
from reviewapp.rounds.models import TIER_LABELS


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
    source: str = Field(default="round", max_length=16)  # CertificationSource
    note: str = Field(default="", max_length=500)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1

    @property
    def tier_label(self) -> str:
        return TIER_LABELS.get(self.tier, self.tier)  # type: ignore[call-overload]

    @property
    def status_label(self) -> str:
        return CertificationStatus(self.status).label


class CertificationSource(StrEnum):
    round = "round"  # created when a round's final list was published
    manual = "manual"  # entered by staff (certified before the system, or by another body)

    @property
    def label(self) -> str:
        return {"round": "批次发布名单", "manual": "手工录入"}[self.value]


class ReReviewOutcome(StrEnum):
    passed = "passed"
    not_passed = "not_passed"
    not_requested = "not_requested"

    @property
    def label(self) -> str:
        return {"passed": "复核通过", "not_passed": "复核未通过", "not_requested": "到期未申请复核"}[self.value]


class ReReview(SQLModel, table=True):
    """The outcome of a re-review (复核): passed extends the validity 3 years; otherwise the certification lapses."""

    __tablename__ = "certification_rereview"

    id: int | None = Field(default=None, primary_key=True)
    certification_id: int = Field(foreign_key="certification.id", index=True)
    outcome: str = Field(max_length=16)  # ReReviewOutcome
    decided_on: date
    previous_valid_to: date
    new_valid_to: date | None = None  # set when passed
    note: str = Field(default="", max_length=1000)
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def outcome_label(self) -> str:
        return ReReviewOutcome(self.outcome).label


class MajorChange(SQLModel, table=True):
    """经营状况重大变化: the unit must file it (备案) within 3 months of the change (第十九条)."""

    __tablename__ = "major_change"

    id: int | None = Field(default=None, primary_key=True)
    certification_id: int = Field(foreign_key="certification.id", index=True)
    changed_on: date
    filed_on: date | None = None  # None: staff know of the change but the unit has not filed it yet
    description: str = Field(max_length=2000)
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
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


# --- whistle-blower reports (举报) -----------------------------------------------------------------

REPORT_CHANNELS = ("信函", "邮件", "电话", "当面", "网上")


class ReportSource(StrEnum):
    staff = "staff"  # recorded by staff from a letter, call, visit…
    public = "public"  # filed on the public form; the reporter holds a receipt code

    @property
    def label(self) -> str:
        return {"staff": "工作人员登记", "public": "网上举报"}[self.value]


class Report(SQLModel, table=True):
    """A whistle-blower report (举报) against a certification or an application, verified under casework.

    `reporter_name` and `reporter_contact` are confidential (第二十二条): only the report's handlers see them, and
    each view is audited. `receipt_hash` is the HMAC of the public receipt code; the code itself is never stored.
    """

    __tablename__ = "report"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(default="", max_length=20, index=True)  # 举报编号, e.g. JB-2026-00012
    source: str = Field(default=ReportSource.staff.value, max_length=8)
    channel: str = Field(max_length=8)  # one of REPORT_CHANNELS
    received_on: date = Field(index=True)
    certification_id: int | None = Field(default=None, foreign_key="certification.id", index=True)
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    target_name: str = Field(max_length=200)  # 被举报单位, as reported
    target_factory: str = Field(default="", max_length=200)
    content: str
    reporter_name: str = Field(default="", max_length=64, sa_type=confidential("report", "reporter_name"))
    reporter_contact: str = Field(default="", max_length=120, sa_type=confidential("report", "reporter_contact"))
    receipt_hash: str | None = Field(default=None, max_length=64, unique=True)
    state: str = Field(max_length=32, index=True)  # reports.rules.REPORT_WORKFLOW state
    conclusion: str = Field(default="", max_length=16, index=True)  # ReportConclusion, once concluded
    reply_deadline: date | None = None  # the unit's reply is due by this day
    rectify_deadline: date | None = None  # rectification is due by this day
    revocation_id: int | None = Field(default=None, foreign_key="revocation.id")
    closed_on: date | None = None
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1

    @property
    def has_identity(self) -> bool:
        return bool(self.reporter_name or self.reporter_contact)


class PublicRequest(SQLModel, table=True):
    """One request to a rate-limited public form, by client address; kept in the database so that every
    app process counts the same requests."""

    __tablename__ = "public_request"

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=32, index=True)  # e.g. "report.submit", "report.lookup"
    client_addr: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class PenetrationCount(SQLModel, table=True):
    """Counts staff enter for the annual report: 智能工厂普及率 = 规上企业 with maturity ≥ 二级 / all 规上企业."""

    __tablename__ = "penetration_count"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    above_size_total: int  # 规上工业企业总数
    above_size_level2: int  # 其中 智能制造能力成熟度 二级及以上
    source: str = Field(default="", max_length=200)  # 数据来源
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1
