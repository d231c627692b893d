"""Rounds (批次) with their rule settings, versioned criteria trees (要素条件), and the reference catalogues."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class Scenario(SQLModel, table=True):
    """One typical scenario (典型场景) of a versioned catalogue, with its 环节."""

    __tablename__ = "catalogue_scenario"
    __table_args__ = (UniqueConstraint("catalogue_version", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    catalogue_version: str = Field(max_length=16, index=True)
    stage_no: int
    stage: str = Field(max_length=32)
    number: int | None = None
    name: str = Field(max_length=64)
    source: str = Field(default="", max_length=64)
    sort_order: int = 0


class MaturityLevel(SQLModel, table=True):
    """GB/T 39116-2020 levels; the score bands are unverified and therefore editable data."""

    __tablename__ = "catalogue_maturity_level"

    level: int = Field(primary_key=True)
    name: str = Field(max_length=16)
    meaning: str = Field(default="", max_length=255)
    score_min: float
    score_max: float


class IndustryCode(SQLModel, table=True):
    """GB/T 4754-2017 codes: 门类 letters, and 大类 (2 digits) of manufacturing."""

    __tablename__ = "catalogue_industry_code"

    code: str = Field(primary_key=True, max_length=8)
    name: str = Field(max_length=64)
    section: str = Field(max_length=1)
    level: str = Field(max_length=8)  # 门类 / 大类


# --- rounds and criteria --------------------------------------------------------------------------


class Tier(StrEnum):
    basic = "basic"
    advanced = "advanced"
    excellent = "excellent"
    leading = "leading"

    @property
    def label(self) -> str:
        return TIER_LABELS[self]


TIER_LABELS = {Tier.basic: "基础级", Tier.advanced: "先进级", Tier.excellent: "卓越级", Tier.leading: "领航级"}


class Aggregation(StrEnum):
    mean = "mean"
    median = "median"
    trimmed_mean = "trimmed_mean"

    @property
    def label(self) -> str:
        return {"mean": "算术平均", "median": "中位数", "trimmed_mean": "去掉一个最高分和一个最低分后平均"}[self.value]


DEFAULT_PLEDGE = (
    "本人承诺：严格遵守评审纪律，独立、客观、公正地开展评审；对评审材料、评审过程和评审结果严格保密，"
    "不以任何形式泄露、复制或对外提供；与申报单位存在利害关系的，主动申明并回避；不接受申报单位的任何馈赠和请托。"
)


class Round(SQLModel, table=True):
    """A review round (批次). Every rule DOMAIN.md marks [ours] is a column here with a default."""

    __tablename__ = "review_round"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    year: int
    tier: str = Field(max_length=16)  # Tier
    criteria_version_id: int | None = Field(default=None, foreign_key="criteria_version.id")
    scenario_catalogue_version: str = Field(default="2025", max_length=16)
    application_close: date | None = None
    scoring_deadline: datetime | None = None  # stored UTC; shown in Beijing time
    publicity_working_days: int = 5
    # aggregation and ranking
    aggregation: str = Field(default=Aggregation.trimmed_mean.value, max_length=16)
    min_scorers: int = 5
    opinion_min_length: int = 20
    outlier_threshold: Decimal = Field(default=Decimal("15"), max_digits=6, decimal_places=2)
    gate_failure_vetoes: bool = True
    tie_break_json: str = Field(default='["dimension:生产作业", "maturity_score", "application_order"]')
    # formal review (形式审查)
    min_maturity_level: int = 2
    min_scenarios: int = 8
    required_stages_json: str = Field(default='["生产作业", "生产管理", "运营管理"]')
    branch_industries_json: str = Field(default='["石油石化", "有色金属"]')
    # conflict-of-interest rules (回避), each switchable
    coi_same_credit_code: bool = True
    coi_employment: bool = True
    coi_employment_years: int = 3
    coi_provider: bool = True
    coi_declared_relation: bool = True
    coi_same_city: bool = False
    pledge_text: str = Field(default=DEFAULT_PLEDGE)
    # certification and publicity
    validity_years: int = 3
    publish_scores: bool = False
    # lifecycle
    scoring_started_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1

    @property
    def tier_label(self) -> str:
        return TIER_LABELS[Tier(self.tier)]

    @property
    def required_stages(self) -> list[str]:
        return list(json.loads(self.required_stages_json or "[]"))

    @property
    def branch_industries(self) -> list[str]:
        return list(json.loads(self.branch_industries_json or "[]"))

    @property
    def tie_break(self) -> list[str]:
        return list(json.loads(self.tie_break_json or "[]"))


class CriteriaVersion(SQLModel, table=True):
    """One version of a criteria tree (要素条件). Frozen once any round using it has started scoring."""

    __tablename__ = "criteria_version"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    tier: str = Field(default=Tier.advanced.value, max_length=16)
    is_template: bool = False  # shipped defaults are labelled 模板 in the UI
    based_on_id: int | None = Field(default=None, foreign_key="criteria_version.id")
    frozen_at: datetime | None = None
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1


class NodeKind(StrEnum):
    dimension = "dimension"
    points = "points"
    gate = "gate"


class CriteriaNode(SQLModel, table=True):
    """A dimension (parent_id None) or an item: *points* (0..max in steps) or *gate* (pass/fail veto)."""

    __tablename__ = "criteria_node"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="criteria_version.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="criteria_node.id")
    kind: str = Field(max_length=16)  # NodeKind
    code: str = Field(max_length=16)
    title: str = Field(max_length=200)
    guidance: str = ""
    max_points: Decimal = Field(default=Decimal("0"), max_digits=6, decimal_places=2)
    step: Decimal = Field(default=Decimal("0.5"), max_digits=6, decimal_places=2)
    sort_order: int = 0
