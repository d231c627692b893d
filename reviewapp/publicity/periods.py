"""A round's publicity period (公示): its dates, contact and notice text, what stops publishing it, publishing and
withdrawing it; and publicity's blocker on ranking's list (the period must have run out, every spot check have
its outcome).

The list itself belongs to reviewapp.ranking (reviewapp.ranking.recommendations). Every operation writes its
audit entry in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from reviewapp import audit, clock
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict, NotFound, ServiceError
from reviewapp.publicity import rules
from reviewapp.publicity.calendar import period_end
from reviewapp.publicity.models import (
    PublicityPeriod,
    SpotCheck,
)
from reviewapp.ranking import recommendations as ranking
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round

audit.register_labels(
    actions={
        "publicity.save": "设置公示",
        "publicity.publish": "发布公示",
        "publicity.withdraw": "撤回公示",
    },
    entities={"publicity_period": "公示"},
)

MAX_WORKING_DAYS = 30

# --- the publicity period -------------------------------------------------------------------------------------


def get_period(session: Session, round_id: int, *, for_update: bool = False) -> PublicityPeriod | None:
    stmt = select(PublicityPeriod).where(PublicityPeriod.round_id == round_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def period_columns(period: PublicityPeriod) -> list[str]:
    try:
        return [str(c) for c in json.loads(period.columns_json or "[]")]
    except ValueError:
        return list(rules.DEFAULT_COLUMNS)


def new_period_values(rnd: Round, *, today: date) -> dict[str, object]:
    """What the setup form shows before a round has a period."""
    return {
        "start_date": today,
        "working_days": rnd.publicity_working_days,
        "columns": list(rules.DEFAULT_COLUMNS),
        "notice_template": rules.DEFAULT_NOTICE_TEMPLATE,
        "notice_text": "",
        "contact_unit": "",
        "contact_address": "",
        "contact_phone": "",
        "contact_email": "",
    }


def render_period_notice(rnd: Round, period: PublicityPeriod) -> str:
    return rules.render_notice(period.notice_template, _values(rnd, period))


def _values(rnd: Round, period: PublicityPeriod) -> dict[str, str]:
    return rules.notice_values(
        round_name=rnd.name,
        start=period.start_date,
        end=period.end_date,
        working_days=period.working_days,
        contact_unit=period.contact_unit,
        contact_address=period.contact_address,
        contact_phone=period.contact_phone,
        contact_email=period.contact_email,
    )


def _snapshot(period: PublicityPeriod) -> dict[str, object]:
    return {
        "start_date": period.start_date.isoformat(),
        "working_days": period.working_days,
        "end_date": period.end_date.isoformat(),
        "columns": period_columns(period),
        "contact_unit": period.contact_unit,
        "contact_address": period.contact_address,
        "contact_phone": period.contact_phone,
        "contact_email": period.contact_email,
        "notice_text": period.notice_text,
    }


def save_period(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    row_version: int | None,
    start_date: date,
    working_days: int,
    columns: Sequence[str],
    notice_template: str,
    notice_text: str,
    regenerate: bool,
    contact_unit: str = "",
    contact_address: str = "",
    contact_phone: str = "",
    contact_email: str = "",
) -> PublicityPeriod:
    """Create or change the round's period. The end date is computed on the official calendar and stored; the
    notice text is rendered from the round's template when asked (or when left empty). `row_version` None: the
    form was a new one (refused if someone created the period meanwhile)."""
    rnd = rounds.get_round(session, round_id, for_update=True)
    period = get_period(session, round_id, for_update=True)
    if (period.row_version if period else None) != row_version:
        raise Conflict("公示设置已被他人修改，您这次的修改未保存。请刷新后核对。")
    if period is not None and period.published_at is not None:
        raise ServiceError("公示已发布，不能修改。如需修改，请先撤回公示。")
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        raise ServiceError(f"公示期应为 1 到 {MAX_WORKING_DAYS} 个工作日。", field="working_days")
    problems = rules.column_problems(list(columns), publish_scores=rnd.publish_scores)
    if problems:
        raise ServiceError(problems[0], field="columns")
    problems = rules.template_problems(notice_template)
    if problems:
        raise ServiceError(problems[0], field="notice_template")
    if not notice_template.strip():
        raise ServiceError("公告模板不能为空。", field="notice_template")
    before = _snapshot(period) if period else None
    if period is None:
        period = PublicityPeriod(round_id=round_id, start_date=start_date, end_date=start_date, row_version=0)
    period.start_date = start_date
    period.working_days = working_days
    period.end_date = period_end(start_date, working_days)
    period.columns_json = json.dumps(
        rules.shown_columns(columns, publish_scores=rnd.publish_scores), ensure_ascii=False
    )
    period.notice_template = notice_template.replace("\r\n", "\n").strip()
    period.contact_unit = contact_unit.strip()
    period.contact_address = contact_address.strip()
    period.contact_phone = contact_phone.strip()
    period.contact_email = contact_email.strip()
    text = notice_text.replace("\r\n", "\n").strip()
    period.notice_text = render_period_notice(rnd, period) if regenerate or not text else text
    period.updated_at = utcnow()
    period.row_version += 1
    session.add(period)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="publicity.save",
        entity_type="publicity_period",
        entity_id=period.id,
        summary=(
            f"设置「{rnd.name}」的公示：{rules.cn_date(period.start_date)}至{rules.cn_date(period.end_date)}"
            f"（{period.working_days}个工作日）"
        ),
        before=before,
        after=_snapshot(period),
    )
    return period


@dataclass
class PublicityStatus:
    """Everything the staff page shows: the period, the list it would publish, and what stops each step."""

    round: Round
    period: PublicityPeriod | None
    view: ranking.RoundList
    publish_problems: list[str]
    final_problems: list[str]

    @property
    def published(self) -> bool:
        return self.period is not None and self.period.published_at is not None

    @property
    def marked_final(self) -> bool:
        return self.view.list is not None and self.view.list.marked_final_at is not None

    @property
    def final_published(self) -> bool:
        return self.period is not None and self.period.final_published_at is not None

    @property
    def columns(self) -> list[str]:
        if self.period is None:
            return []
        return rules.shown_columns(period_columns(self.period), publish_scores=self.round.publish_scores)


def publicity_status(session: Session, *, round_id: int) -> PublicityStatus:
    view = ranking.round_list(session, round_id=round_id)
    period = get_period(session, round_id)
    if period is None:
        problems = [f"专家组「{p.name}」尚未定稿。" for p in view.open_panels]
        problems += [] if view.listed else ["推荐名单上没有项目。"]
        problems.append("尚未设置公示期和公告。")
    else:
        problems = rules.publish_problems(
            open_panels=[p.name for p in view.open_panels],
            listed=len(view.listed),
            contact_unit=period.contact_unit,
            contact_address=period.contact_address,
            contact_phone=period.contact_phone,
            notice_text=period.notice_text,
        )
    return PublicityStatus(
        round=view.round,
        period=period,
        view=view,
        publish_problems=problems,
        final_problems=ranking.final_list_problems(session, view),
    )


def publish(session: Session, *, actor: Actor, round_id: int, row_version: int) -> PublicityPeriod:
    """Put the round's notice and list on the public page."""
    period = _locked_period(session, round_id, row_version)
    if period.published_at is not None:
        return period  # a double click is harmless
    status = publicity_status(session, round_id=round_id)
    if status.publish_problems:
        raise ServiceError("还不能发布公示：" + "；".join(status.publish_problems))
    period.published_at = utcnow()
    period.published_by = actor.user_id
    period.row_version += 1
    session.add(period)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="publicity.publish",
        entity_type="publicity_period",
        entity_id=period.id,
        summary=(
            f"发布「{status.round.name}」的公示：{len(status.view.listed)}个项目，"
            f"{rules.cn_date(period.start_date)}至{rules.cn_date(period.end_date)}"
        ),
        after={**_snapshot(period), "listed": [r.application.id for r in status.view.listed]},
    )
    return period


def withdraw(session: Session, *, actor: Actor, round_id: int, row_version: int) -> PublicityPeriod:
    """Take the notice off the public page (e.g. to correct it)."""
    period = _locked_period(session, round_id, row_version)
    if period.published_at is None:
        return period
    if period.final_published_at is not None:
        raise ServiceError("最终名单已发布，不能撤回公示。")
    rnd = rounds.get_round(session, round_id)
    before = period.published_at.isoformat()
    period.published_at = None
    period.published_by = None
    period.row_version += 1
    session.add(period)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="publicity.withdraw",
        entity_type="publicity_period",
        entity_id=period.id,
        summary=f"撤回「{rnd.name}」的公示",
        before={"published_at": before},
        after={"published_at": None},
    )
    return period


def _locked_period(session: Session, round_id: int, row_version: int | None) -> PublicityPeriod:
    period = get_period(session, round_id, for_update=True)
    if period is None:
        raise NotFound("该批次尚未设置公示。")
    if row_version is not None and period.row_version != row_version:
        raise Conflict("公示设置已被他人修改，请刷新后核对再操作。")
    return period


# --- what holds the list up -------------------------------------------------------------------------------------


def _final_list_blockers(session: Session, round_id: int) -> list[str]:
    """The list is final only after publicity has run out and every chosen spot check has its outcome."""
    period = get_period(session, round_id)
    problems = rules.final_list_publicity_problems(
        start_date=period.start_date if period else None,
        end_date=period.end_date if period else None,
        published=bool(period and period.published_at),
        today=clock.today_beijing(),
    )
    pending = session.exec(
        select(Enterprise.name)
        .join(Application, col(Application.enterprise_id) == col(Enterprise.id))
        .join(SpotCheck, col(SpotCheck.application_id) == col(Application.id))
        .where(SpotCheck.round_id == round_id, col(SpotCheck.outcome).is_(None))
    ).all()
    problems += [f"对「{name}」的现场抽查尚未登记结论。" for name in pending]
    return problems


if _final_list_blockers not in ranking.FINAL_LIST_BLOCKERS:
    ranking.FINAL_LIST_BLOCKERS.append(_final_list_blockers)
