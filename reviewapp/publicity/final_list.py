"""The final list: publishing it with one certification per listed application (through
reviewapp.reports.certifications.service.certify), and the public notice page of a published round.

Every operation writes its audit entry in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import NotFound, ServiceError
from reviewapp.publicity import rules
from reviewapp.publicity.models import (
    PublicityPeriod,
)
from reviewapp.publicity.periods import get_period, period_columns
from reviewapp.ranking import recommendations as ranking
from reviewapp.reports.certifications import service as reports
from reviewapp.rounds.models import Round

audit.register_labels(actions={"publicity.final_publish": "发布最终名单"}, entities={})


def publish_final_list(session: Session, *, actor: Actor, round_id: int, valid_from: date) -> list[int]:
    """Publish the final list: one certification per listed application, valid from `valid_from`. Once: a second
    call creates nothing. Returns the certified application ids."""
    period = get_period(session, round_id, for_update=True)
    if period is None or period.published_at is None:
        raise ServiceError("公示尚未发布，不能发布最终名单。")
    view = ranking.round_list(session, round_id=round_id)
    if view.list is None or view.list.marked_final_at is None:
        raise ServiceError("推荐名单尚未定稿，不能发布最终名单。")
    ids = [r.application.id for r in view.listed]
    if period.final_published_at is not None:
        return ids  # already published: nothing new
    created = reports.certify(session, actor=actor, round_id=round_id, application_ids=ids, valid_from=valid_from)  # type: ignore[arg-type]
    period.final_published_at = utcnow()
    period.final_published_by = actor.user_id
    period.final_valid_from = valid_from
    period.row_version += 1
    session.add(period)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="publicity.final_publish",
        entity_type="publicity_period",
        entity_id=period.id,
        summary=(
            f"发布「{view.round.name}」最终名单：{len(ids)}个项目，新建认定{len(created)}个，"
            f"有效期自{rules.cn_date(valid_from)}起"
        ),
        after={"application_ids": ids, "valid_from": valid_from.isoformat()},
    )
    return ids  # type: ignore[return-value]


# --- the public page ------------------------------------------------------------------------------------------


@dataclass
class PublicRow:
    position: int
    cells: list[str]


@dataclass
class PublicNotice:
    """Only what the public may read: the notice, the chosen columns of the listed applications, the period."""

    round_name: str
    tier_label: str
    period: PublicityPeriod
    columns: list[str]
    rows: list[PublicRow]


def published_rounds(session: Session) -> list[tuple[Round, PublicityPeriod]]:
    return list(
        session.exec(
            select(Round, PublicityPeriod)
            .join(PublicityPeriod, col(PublicityPeriod.round_id) == col(Round.id))
            .where(col(PublicityPeriod.published_at).is_not(None))
            .order_by(col(PublicityPeriod.start_date).desc(), col(Round.id).desc())
        ).all()
    )


def _cell(column: str, row: ranking.ListRow) -> str:
    if column == "企业名称":
        return row.enterprise.name
    if column == "工厂名称":
        return row.application.factory_name
    if column == "所在地市":
        return row.enterprise.city
    if column == "所属行业":
        return row.enterprise.industry_group
    if column == "项目名称":
        return row.application.project_name
    if column == rules.SCORE_COLUMN:
        return f"{row.entry.aggregate.display:.1f}"
    raise ValueError(column)


def public_notice(session: Session, *, round_id: int, preview: bool = False) -> PublicNotice:
    """The public page of a round under publicity; NotFound unless published (staff may `preview` a saved one)."""
    period = get_period(session, round_id)
    if period is None or (period.published_at is None and not preview):
        raise NotFound("未找到该公示，或公示已撤回。")
    view = ranking.round_list(session, round_id=round_id)
    columns = rules.shown_columns(period_columns(period), publish_scores=view.round.publish_scores)
    rows = [PublicRow(r.position, [_cell(c, r) for c in columns]) for r in view.listed]
    return PublicNotice(view.round.name, view.round.tier_label, period, columns, rows)
