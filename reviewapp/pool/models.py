"""Pool profiles, draws (抽取) with their picks, and expert evaluations (专家评价)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class PoolStatus(StrEnum):
    in_pool = "在库"
    paused = "暂停"
    out = "出库"


class PoolProfile(SQLModel, table=True):
    """What the draw needs beyond the expert's panels profile: tags, province, availability and pool status."""

    __tablename__ = "pool_profile"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", unique=True)
    tags_json: str = "[]"  # free specialty tags beside the four 所属行业
    province: str = Field(default="", max_length=32)
    availability_json: str = "[]"  # [["2026-10-01", "2026-12-31"], ...]; empty: always available
    status: str = Field(default=PoolStatus.in_pool.value, max_length=8, index=True)
    status_reason: str = Field(default="", max_length=300)
    status_date: date | None = None
    suspended_until: date | None = None  # 暂停 ends by itself on this date (evaluation suspensions)
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1


class DrawState(StrEnum):
    frozen = "frozen"  # candidates frozen and hashed, waiting for the seed
    drawn = "drawn"
    applied = "applied"  # written into the round's panels
    superseded = "superseded"  # a re-draw replaced it; kept for the record


DRAW_STATE_LABELS = {
    DrawState.frozen.value: "待录入随机种子",
    DrawState.drawn.value: "已抽取，确认中",
    DrawState.applied.value: "已写入专家组",
    DrawState.superseded.value: "已作废（重新抽取）",
}


class Draw(SQLModel, table=True):
    """One draw for a round. `input_json` is the canonical frozen input (conditions, panels with their exclusions,
    candidates); `input_sha256` its hash. Given the seed anyone can recompute `result_json` with rules.draw."""

    __tablename__ = "pool_draw"
    __table_args__ = (UniqueConstraint("round_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    seq: int  # 1, 2, ... per round: two staff drawing at once cannot both take the same number
    state: str = Field(default=DrawState.frozen.value, max_length=16)
    input_json: str
    input_sha256: str = Field(max_length=64)
    candidate_count: int = 0
    seed: str = Field(default="", max_length=64)
    seed_source: str = Field(default="", max_length=200)  # e.g. 体彩排列5 第26321期开奖号码
    result_json: str = ""
    drawn_by: int | None = Field(default=None, foreign_key="user_account.id")
    drawn_by_name: str = Field(default="", max_length=64)
    supervisor_id: int | None = Field(default=None, foreign_key="user_account.id")
    supervisor_name: str = Field(default="", max_length=64)
    redraw_reason: str = Field(default="", max_length=500)
    supersedes_id: int | None = Field(default=None, foreign_key="pool_draw.id")
    created_at: datetime = Field(default_factory=utcnow)
    drawn_at: datetime | None = None
    applied_at: datetime | None = None
    row_version: int = 1


class PickRole(StrEnum):
    main = "main"
    backup = "backup"


class PickStatus(StrEnum):
    pending = "pending"  # asked, no answer yet
    accepted = "accepted"
    declined = "declined"
    standby = "standby"  # a backup not (yet) called in
    unused = "unused"  # a backup never needed


PICK_STATUS_LABELS = {
    PickStatus.pending.value: "待确认",
    PickStatus.accepted.value: "同意参加",
    PickStatus.declined.value: "不参加",
    PickStatus.standby.value: "备选",
    PickStatus.unused.value: "未启用",
}


class DrawPick(SQLModel, table=True):
    """One drawn expert of one panel: a main expert, or a backup in order (called in when someone declines)."""

    __tablename__ = "pool_draw_pick"
    __table_args__ = (UniqueConstraint("draw_id", "expert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="pool_draw.id", index=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    role: str = Field(max_length=8)  # PickRole as drawn
    position: int  # order within the panel: mains first, then backups in drawn order
    status: str = Field(default=PickStatus.pending.value, max_length=16)
    replaces_id: int | None = Field(default=None, foreign_key="pool_draw_pick.id")
    reason: str = Field(default="", max_length=500)
    via: str = Field(default="", max_length=16)  # 本人确认 / 电话
    call_note: str = Field(default="", max_length=500)
    recorded_by_name: str = Field(default="", max_length=64)
    responded_at: datetime | None = None
    enterprise_keys_json: str = "[]"  # the panel's enterprises at draw time, for "not the same enterprise in N rounds"
    row_version: int = 1


class Evaluation(SQLModel, table=True):
    """One rater's evaluation (专家评价) of one expert on one finalized panel, 1–5 on each aspect."""

    __tablename__ = "pool_evaluation"
    __table_args__ = (UniqueConstraint("panel_id", "expert_id", "rater_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    rater_id: int = Field(foreign_key="user_account.id")
    rater_name: str = Field(default="", max_length=64)
    rater_role: str = Field(max_length=8)  # 组长 / 工作人员
    punctuality: int
    quality: int
    honesty: int
    attendance: int
    undeclared_conflict: bool = False  # a conflict the expert did not declare was confirmed
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class PoolSettings(SQLModel, table=True):
    """The one row (id=1) of the pool's rules staff may change; without the row the defaults below apply."""

    __tablename__ = "pool_settings"

    id: int | None = Field(default=1, primary_key=True)
    suspend_below: Decimal = Field(default=Decimal("2.5"), max_digits=3, decimal_places=2)  # mean score below: 暂停
    suspend_months: int = 12  # default suspension length offered on the evaluation form
    updated_at: datetime | None = None
    updated_by: str = Field(default="", max_length=64)
    row_version: int = 1
