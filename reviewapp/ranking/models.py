"""What people decide on top of the computed ranking: the chair's decisions per application, and the round's
recommendation list (推荐名单) with staff's reordering and the spot-check / objection outcomes that change it.

Scores and the computed order are never stored here: they are recomputed from the submitted sheets by
reviewapp.ranking.rules, so that the stored decisions can never disagree with the scores they rest on.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from reviewapp.clock import utcnow


class PanelDecision(SQLModel, table=True):
    """The panel chair's decision on one application: recommend or not, the group opinion (专家组意见), and a
    place in the panel's order that departs from the computed one (with the written reason it needs)."""

    __tablename__ = "panel_decision"

    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    recommend: bool | None = None  # None: not decided yet
    group_opinion: str = ""
    manual_position: int | None = None  # 1-based place the chair moved it to; None: the computed place
    move_reason: str = ""
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
    row_version: int = 1


class RecommendationList(SQLModel, table=True):
    """The round's recommendation list as a whole: its version (refuses a stale reorder) and whether staff have
    marked it final (公示后定稿)."""

    __tablename__ = "recommendation_list"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", unique=True)
    marked_final_at: datetime | None = None
    marked_final_by: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow)
    row_version: int = 1


class ListEntry(SQLModel, table=True):
    """One recommended application's standing on the round's list, when staff have changed something about it:
    moved it (with a reason), or a spot check / upheld objection removed it or asked for a correction."""

    __tablename__ = "recommendation_entry"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    manual_position: int | None = None
    move_reason: str = ""
    removed: bool = False  # taken off the list (现场抽查不通过 / 异议成立)
    removed_reason: str = ""
    correction_required: bool = False  # stays on the list; the enterprise must correct something
    correction_note: str = ""
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
