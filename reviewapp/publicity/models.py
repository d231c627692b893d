"""A round's publicity period (公示): when it runs, the notice text, and whether it is on the public page; and the
on-site spot checks (现场抽查) of applications on the recommendation list."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum

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
    # the round's copy of the notice template (placeholders: publicity.rules.PLACEHOLDERS) and who receives objections
    notice_template: str = ""
    contact_unit: str = Field(default="", max_length=120)  # 受理单位
    contact_address: str = Field(default="", max_length=200)
    contact_phone: str = Field(default="", max_length=64)
    contact_email: str = Field(default="", max_length=120)
    # the final list (最终名单) published: certifications were created from it
    final_published_at: datetime | None = None
    final_published_by: int | None = Field(default=None, foreign_key="user_account.id")
    final_valid_from: date | None = None


class SpotCheckMethod(StrEnum):
    manual = "manual"
    random = "random"

    @property
    def label(self) -> str:
        return {"manual": "手工选取", "random": "随机抽样"}[self.value]


class SpotCheckOutcome(StrEnum):
    passed = "passed"
    remove = "remove"
    correct = "correct"

    @property
    def label(self) -> str:
        return {"passed": "通过", "remove": "存在问题-移出名单", "correct": "存在问题-要求整改"}[self.value]


class SpotCheckDraw(SQLModel, table=True):
    """A random draw: from which applications (sorted ids), how many, with which seed. Anyone can redraw the same
    sample from these three with publicity.rules.draw_sample."""

    __tablename__ = "spot_check_draw"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    seed: int
    sample_size: int
    population_json: str  # the application ids drawn from, sorted
    drawn_json: str  # the ids drawn, in draw order
    drawn_at: datetime = Field(default_factory=utcnow)
    drawn_by: int | None = Field(default=None, foreign_key="user_account.id")

    @property
    def population(self) -> list[int]:
        return [int(i) for i in json.loads(self.population_json)]

    @property
    def drawn(self) -> list[int]:
        return [int(i) for i in json.loads(self.drawn_json)]


class SpotCheck(SQLModel, table=True):
    """One application chosen for an on-site check, and what the check found. An outcome other than 通过 changes
    the recommendation list (removed, or correction required) through ranking's ListEntry."""

    __tablename__ = "spot_check"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    method: str = Field(max_length=16)  # SpotCheckMethod
    draw_id: int | None = Field(default=None, foreign_key="spot_check_draw.id")
    chosen_at: datetime = Field(default_factory=utcnow)
    chosen_by: int | None = Field(default=None, foreign_key="user_account.id")
    check_date: date | None = None
    inspectors: str = Field(default="", max_length=200)
    findings: str = ""
    outcome: str | None = Field(default=None, max_length=16)  # SpotCheckOutcome; None: not checked yet
    outcome_note: str = Field(default="", max_length=500)  # the reason the list shows (移出 / 整改)
    recorded_at: datetime | None = None
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
    row_version: int = 1

    @property
    def method_label(self) -> str:
        return SpotCheckMethod(self.method).label

    @property
    def outcome_label(self) -> str:
        return SpotCheckOutcome(self.outcome).label if self.outcome else "待抽查"
