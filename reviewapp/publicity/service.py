"""Publicity (公示) and on-site spot checks (现场抽查) of a round's recommendation list, and publishing the final list.

The list itself belongs to reviewapp.ranking: a spot check that removes an application or requires a correction
writes ranking's ListEntry under ranking.service.lock_list. Publishing the final list creates the certifications
through reviewapp.reports.certifications.service.certify. Every operation writes its audit entry in the caller's transaction.
"""

from __future__ import annotations

import json
import secrets
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
    SpotCheckDraw,
    SpotCheckMethod,
    SpotCheckOutcome,
)
from reviewapp.ranking import service as ranking
from reviewapp.reports.certifications import service as reports
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round

audit.register_labels(
    actions={
        "publicity.save": "设置公示",
        "publicity.publish": "发布公示",
        "publicity.withdraw": "撤回公示",
        "publicity.final_publish": "发布最终名单",
        "spot_check.choose": "选取现场抽查项目",
        "spot_check.draw": "随机抽取现场抽查项目",
        "spot_check.cancel": "取消现场抽查",
        "spot_check.record": "登记现场抽查结论",
    },
    entities={"publicity_period": "公示", "spot_check": "现场抽查"},
)

MAX_WORKING_DAYS = 30
FINDINGS_MAX = 5000
NOTE_MAX = 500
MIN_NOTE = 4


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


# --- spot checks ----------------------------------------------------------------------------------------------


@dataclass
class SpotCheckRow:
    check: SpotCheck
    application: Application
    enterprise: Enterprise
    draw: SpotCheckDraw | None


@dataclass
class SpotCheckPage:
    round: Round
    view: ranking.RoundList
    checks: list[SpotCheckRow]
    draws: list[SpotCheckDraw]

    @property
    def candidates(self) -> list[ranking.ListRow]:
        """Listed applications not chosen yet."""
        chosen = {c.check.application_id for c in self.checks}
        return [r for r in self.view.listed if r.application.id not in chosen]

    @property
    def pending(self) -> list[SpotCheckRow]:
        return [c for c in self.checks if c.check.outcome is None]


def spot_check_page(session: Session, *, round_id: int) -> SpotCheckPage:
    view = ranking.round_list(session, round_id=round_id)
    draws = {
        d.id: d
        for d in session.exec(
            select(SpotCheckDraw).where(SpotCheckDraw.round_id == round_id).order_by(col(SpotCheckDraw.id))
        )
    }
    rows = [
        SpotCheckRow(check, app, enterprise, draws.get(check.draw_id) if check.draw_id else None)
        for check, app, enterprise in session.exec(
            select(SpotCheck, Application, Enterprise)
            .join(Application, col(Application.id) == col(SpotCheck.application_id))
            .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
            .where(SpotCheck.round_id == round_id)
            .order_by(col(SpotCheck.id))
        )
    ]
    return SpotCheckPage(round=view.round, view=view, checks=rows, draws=list(draws.values()))


def _choosable(session: Session, round_id: int) -> tuple[Round, dict[int, ranking.ListRow]]:
    """The round locked (choices are serialized per round) and its listed applications not chosen yet."""
    rnd = rounds.get_round(session, round_id, for_update=True)
    page = spot_check_page(session, round_id=round_id)
    if page.view.list is not None and page.view.list.marked_final_at is not None:
        raise ServiceError("推荐名单已定稿，不能再安排现场抽查。")
    return rnd, {r.application.id: r for r in page.candidates}  # type: ignore[misc]


def choose(session: Session, *, actor: Actor, round_id: int, application_ids: Sequence[int]) -> list[SpotCheck]:
    """Staff pick applications of the recommendation list by hand."""
    rnd, candidates = _choosable(session, round_id)
    ids = list(dict.fromkeys(application_ids))
    if not ids:
        raise ServiceError("请至少选择一个项目。", field="application_ids")
    unknown = [i for i in ids if i not in candidates]
    if unknown:
        raise ServiceError("所选项目不在推荐名单上，或已安排抽查。请刷新后重新选择。", field="application_ids")
    checks = [_add_check(session, actor, round_id, a, SpotCheckMethod.manual, None) for a in ids]
    audit.record(
        session,
        actor=actor,
        action="spot_check.choose",
        entity_type="spot_check",
        entity_id=checks[0].id,
        summary=f"手工选取「{rnd.name}」现场抽查项目{len(ids)}个："
        + "、".join(candidates[a].enterprise.name for a in ids),
        after={"application_ids": ids},
    )
    return checks


def draw(session: Session, *, actor: Actor, round_id: int, size: int, seed: int | None = None) -> SpotCheckDraw:
    """A random sample of the listed applications not chosen yet; the seed (given, or generated here) is
    recorded with the population so the draw can be reproduced."""
    rnd, candidates = _choosable(session, round_id)
    if not candidates:
        raise ServiceError("推荐名单上没有可抽取的项目。", field="size")
    if not 1 <= size <= len(candidates):
        raise ServiceError(f"抽取数量应在 1 到 {len(candidates)} 之间。", field="size")
    if seed is None:
        seed = secrets.randbelow(900_000) + 100_000
    population = sorted(candidates)
    drawn = rules.draw_sample(population, size, seed)
    record = SpotCheckDraw(
        round_id=round_id,
        seed=seed,
        sample_size=size,
        population_json=json.dumps(population),
        drawn_json=json.dumps(drawn),
        drawn_by=actor.user_id,
    )
    session.add(record)
    session.flush()
    for a in drawn:
        _add_check(session, actor, round_id, a, SpotCheckMethod.random, record.id)
    audit.record(
        session,
        actor=actor,
        action="spot_check.draw",
        entity_type="spot_check",
        entity_id=record.id,
        summary=(
            f"随机抽取「{rnd.name}」现场抽查项目：从{len(population)}个中抽取{size}个，随机种子{seed}："
            + "、".join(candidates[a].enterprise.name for a in drawn)
        ),
        after={"seed": seed, "size": size, "population": population, "drawn": drawn},
    )
    return record


def _add_check(
    session: Session, actor: Actor, round_id: int, application_id: int, method: SpotCheckMethod, draw_id: int | None
) -> SpotCheck:
    check = SpotCheck(
        round_id=round_id, application_id=application_id, method=method.value, draw_id=draw_id, chosen_by=actor.user_id
    )
    session.add(check)
    session.flush()
    return check


def _locked_check(session: Session, round_id: int, check_id: int, row_version: int) -> SpotCheck:
    check = session.exec(select(SpotCheck).where(SpotCheck.id == check_id).with_for_update()).first()
    if check is None or check.round_id != round_id:
        raise NotFound("未找到该现场抽查记录。")
    if check.row_version != row_version:
        raise Conflict("该抽查记录已被他人修改，您这次的修改未保存。请刷新后核对。")
    return check


def _enterprise_name(session: Session, application_id: int) -> str:
    return session.exec(
        select(Enterprise.name)
        .join(Application, col(Application.enterprise_id) == col(Enterprise.id))
        .where(Application.id == application_id)
    ).one()


def cancel(session: Session, *, actor: Actor, round_id: int, check_id: int, row_version: int) -> None:
    """Take an application off the spot-check plan before anything was recorded about it."""
    check = _locked_check(session, round_id, check_id, row_version)
    if check.outcome is not None:
        raise ServiceError("已登记结论的抽查不能取消。")
    name = _enterprise_name(session, check.application_id)
    before = {"application_id": check.application_id, "method": check.method, "draw_id": check.draw_id}
    session.delete(check)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="spot_check.cancel",
        entity_type="spot_check",
        entity_id=check_id,
        summary=f"取消对「{name}」的现场抽查",
        before=before,
    )


def record_outcome(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    check_id: int,
    row_version: int,
    check_date: date,
    inspectors: str,
    findings: str,
    outcome: str,
    outcome_note: str = "",
) -> SpotCheck:
    """Record what the on-site check found. 存在问题 outcomes change the recommendation list: removed, or kept
    with a correction required; the reason shows on the list. Recorded once."""
    check = _locked_check(session, round_id, check_id, row_version)
    if check.outcome is not None:
        raise ServiceError("该抽查已登记结论，不能重复登记。")
    try:
        result = SpotCheckOutcome(outcome)
    except ValueError:
        raise ServiceError("请选择抽查结论。", field="outcome") from None
    inspectors = (inspectors or "").strip()
    findings = (findings or "").strip()
    note = (outcome_note or "").strip()
    if not inspectors:
        raise ServiceError("请填写抽查人员。", field="inspectors")
    if len(inspectors) > 200:
        raise ServiceError("抽查人员不能超过 200 字。", field="inspectors")
    if not findings:
        raise ServiceError("请填写抽查发现的情况。", field="findings")
    if len(findings) > FINDINGS_MAX:
        raise ServiceError(f"抽查情况不能超过 {FINDINGS_MAX} 字。", field="findings")
    if check_date > clock.today_beijing():
        raise ServiceError("抽查日期不能晚于今天。", field="check_date")
    if result is not SpotCheckOutcome.passed:
        if len(note) < MIN_NOTE:
            what = "移出名单的理由" if result is SpotCheckOutcome.remove else "整改要求"
            raise ServiceError(f"请填写{what}（至少 {MIN_NOTE} 个字，将显示在推荐名单上）。", field="outcome_note")
        if len(note) > NOTE_MAX:
            raise ServiceError(f"说明不能超过 {NOTE_MAX} 字。", field="outcome_note")
    name = _enterprise_name(session, check.application_id)
    list_change: dict[str, object] = {}
    if result is not SpotCheckOutcome.passed:
        ranking.lock_list(session, round_id=round_id)  # refuses once the list is final
        entry = ranking.standing(session, round_id=round_id, application_id=check.application_id)
        reason = rules.list_reason(check_date=check_date, note=note)
        if result is SpotCheckOutcome.remove:
            entry.removed = True
            entry.removed_reason = reason
            list_change = {"removed": True, "removed_reason": reason}
        else:
            entry.correction_required = True
            entry.correction_note = reason
            list_change = {"correction_required": True, "correction_note": reason}
        entry.updated_at = utcnow()
        entry.updated_by = actor.user_id
        session.add(entry)
    check.check_date = check_date
    check.inspectors = inspectors
    check.findings = findings
    check.outcome = result.value
    check.outcome_note = note
    check.recorded_at = utcnow()
    check.recorded_by = actor.user_id
    check.row_version += 1
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="spot_check.record",
        entity_type="spot_check",
        entity_id=check.id,
        summary=f"登记对「{name}」的现场抽查结论：{result.label}" + (f"（{note}）" if note else ""),
        after={
            "application_id": check.application_id,
            "check_date": check_date.isoformat(),
            "inspectors": inspectors,
            "outcome": result.value,
            "outcome_note": note,
            "list": list_change,
        },
    )
    return check


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
