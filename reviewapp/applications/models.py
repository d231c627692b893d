"""Enterprises and their applications, with scenarios, solution providers/consultants and formal-review outcome."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow

# The enumerations of the official 名单汇总表 footnotes (policy 000 附件1).
INDUSTRY_GROUPS = ("原材料", "电子信息", "装备制造", "消费品")  # 所属行业
ENTERPRISE_NATURES = ("中央企业", "地方国企", "民营企业", "三资企业")  # 企业性质
ENTERPRISE_SIZES = ("大型企业", "中型企业", "小型企业", "微型企业")  # 企业类型


class Enterprise(SQLModel, table=True):
    """An enterprise, identified by its 统一社会信用代码 (stored normalised: upper case, half-width).

    The official 名单汇总表 has no credit-code column, so a code may be unknown (None) until a file or staff
    supplies it; such an enterprise is matched by its exact name, and formal review flags the missing code.
    """

    __tablename__ = "enterprise"

    id: int | None = Field(default=None, primary_key=True)
    credit_code: str | None = Field(default=None, max_length=18, unique=True, index=True)
    name: str = Field(max_length=200, index=True)
    city: str = Field(default="", max_length=32, index=True)  # 地市
    group_name: str = Field(default="", max_length=200)  # 集团
    group_credit_code: str = Field(default="", max_length=18, index=True)
    nature: str = Field(default="", max_length=16)  # 企业性质
    size_type: str = Field(default="", max_length=16)  # 企业类型
    industry_group: str = Field(default="", max_length=16, index=True)  # 所属行业
    industry_mid: str = Field(default="", max_length=3)  # 行业中类 (GB/T 4754, 3 digits)
    industry_small: str = Field(default="", max_length=4)  # 行业小类 (4 digits, begins with its 中类)
    above_designated_size: bool = True  # 规上企业
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class FormalStatus(StrEnum):
    pending = "pending"
    passed = "passed"
    failed = "failed"

    @property
    def label(self) -> str:
        return {"pending": "待审查", "passed": "通过", "failed": "不通过"}[self.value]


class Application(SQLModel, table=True):
    """One factory's application in one round. Same credit code + factory name + round = same application."""

    __tablename__ = "application"
    __table_args__ = (UniqueConstraint("round_id", "enterprise_id", "factory_name"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    serial: int = 0  # 序号 in the submitted list: the order of arrival
    factory_name: str = Field(max_length=200)
    project_name: str = Field(default="", max_length=200)
    tier: str = Field(max_length=16)  # tier applied for (rounds.models.Tier)
    maturity_score: Decimal | None = Field(default=None, max_digits=5, decimal_places=2)
    maturity_level: int | None = None
    is_branch: bool = False  # 分支机构 (not an independent legal person)
    branch_industry: str = Field(default="", max_length=32)
    major_accident: bool = False  # 发生重大安全/质量/环境事故
    serious_dishonesty: bool = False  # 严重失信主体
    is_overseas: bool = False
    overseas_factory_name: str = Field(default="", max_length=200)
    employees: int | None = None
    revenue_10k_yuan: Decimal | None = Field(default=None, max_digits=14, decimal_places=2)
    overseas_intro: str = ""
    contact_name: str = Field(default="", max_length=64)
    contact_phone: str = Field(default="", max_length=64)
    # formal review (形式审查)
    formal_status: str = Field(default=FormalStatus.pending.value, max_length=16, index=True)
    formal_checks_json: str = ""  # last computed checks: [{"code","label","ok","reason","overridden",...}]
    formal_failed_codes: str = Field(default="", max_length=200, index=True)  # ",code,code," of open failures
    formal_note: str = ""  # staff's written reason for the decision (required when failing a clean application)
    formal_decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    formal_decided_at: datetime | None = None
    # assignment
    panel_id: int | None = Field(default=None, foreign_key="panel.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1


class ApplicationScenario(SQLModel, table=True):
    """A scenario the application claims; `scenario_id` is None when the name is not in the round's catalogue."""

    __tablename__ = "application_scenario"
    __table_args__ = (UniqueConstraint("application_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    scenario_id: int | None = Field(default=None, foreign_key="catalogue_scenario.id")
    name: str = Field(max_length=64)
    stage: str = Field(default="", max_length=32)  # 环节, from the catalogue
    sort_order: int = 0


class PartyRole(StrEnum):
    provider = "provider"
    consultant = "consultant"

    @property
    def label(self) -> str:
        return {"provider": "系统解决方案供应商", "consultant": "咨询服务机构"}[self.value]


class ApplicationParty(SQLModel, table=True):
    """A solution provider (系统解决方案供应商) or consultant on an application; the conflict rules use it."""

    __tablename__ = "application_party"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    role: str = Field(max_length=16)  # PartyRole
    name: str = Field(max_length=200)
    credit_code: str = Field(default="", max_length=18, index=True)


class FormalOverride(SQLModel, table=True):
    """Staff set aside one failed formal-review check of one application, with a written reason (audited)."""

    __tablename__ = "formal_override"
    __table_args__ = (UniqueConstraint("application_id", "check_code"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    check_code: str = Field(max_length=32)
    reason: str = Field(max_length=1000)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
