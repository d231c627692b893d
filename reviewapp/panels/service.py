"""Panels seen from outside: lookups, the facts the conflict rules read, the one check for changes after scoring
started, the expert's pledge and what an expert may see. Changes live in membership, assignment, conflicts and
declarations."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.models import Application, ApplicationParty, Enterprise, FormalStatus
from reviewapp.audit import Actor
from reviewapp.clock import today_beijing, utcnow
from reviewapp.db import chunked
from reviewapp.errors import NotFound, ServiceError
from reviewapp.panels import rules
from reviewapp.panels.models import (
    Conflict,
    Expert,
    ExpertEmployment,
    ExpertRelation,
    Panel,
    PanelMember,
    Pledge,
)
from reviewapp.rounds.models import Round
from reviewapp.rounds.service import get_round

audit.register_labels(
    actions={
        "panel.create": "新建专家组",
        "panel.update": "修改专家组",
        "panel.delete": "删除专家组",
        "panel.member_add": "添加专家组成员",
        "panel.member_remove": "移出专家组成员",
        "panel.chair_set": "指定专家组组长",
        "panel.assign": "分配申报项目",
        "panel.auto_assign": "自动分配申报项目",
        "conflict.recompute": "重新计算回避关系",
        "round.coi_settings": "修改回避规则",
        "pledge.sign": "签署保密与公正承诺",
        "pledge.declare": "提交回避声明",
        "pledge.reset": "要求重新确认回避声明",
    },
    entities={"panel": "专家组", "round": "评审批次", "pledge": "承诺与回避声明", "conflict": "回避关系"},
)

PASSED = FormalStatus.passed.value
# --- lookups --------------------------------------------------------------------------------------


def get_panel(session: Session, panel_id: int, *, round_id: int | None = None) -> Panel:
    panel = session.get(Panel, panel_id)
    if panel is None or (round_id is not None and panel.round_id != round_id):
        raise NotFound("未找到该专家组。")
    return panel


def get_expert(session: Session, expert_id: int) -> Expert:
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound("未找到该专家。")
    return expert


NO_EXPERT = "您的账号尚未关联专家信息，请联系工作人员。"


def expert_of_user(session: Session, *, user_id: int) -> Expert | None:
    return session.exec(select(Expert).where(Expert.user_id == user_id)).first()


def round_panels(session: Session, round_id: int) -> list[Panel]:
    return list(session.exec(select(Panel).where(Panel.round_id == round_id).order_by(Panel.industry_group, Panel.id)))


def panel_members(session: Session, panel_id: int) -> list[tuple[PanelMember, Expert]]:
    stmt = (
        select(PanelMember, Expert)
        .join(Expert, Expert.id == PanelMember.expert_id)  # type: ignore[arg-type]
        .where(PanelMember.panel_id == panel_id)
        .order_by(col(PanelMember.is_chair).desc(), PanelMember.id)
    )
    return [(m, e) for m, e in session.exec(stmt)]


def round_membership(session: Session, round_id: int) -> dict[int, set[int]]:
    """panel id -> expert ids, for every panel of the round (empty panels included)."""
    result: dict[int, set[int]] = {p.id: set() for p in round_panels(session, round_id)}  # type: ignore[misc]
    stmt = (
        select(PanelMember.panel_id, PanelMember.expert_id)
        .join(Panel, Panel.id == PanelMember.panel_id)  # type: ignore[arg-type]
        .where(Panel.round_id == round_id)
    )
    for panel_id, expert_id in session.exec(stmt):
        result.setdefault(panel_id, set()).add(expert_id)
    return result


def expert_panels(session: Session, *, expert_id: int, round_id: int | None = None) -> list[Panel]:
    stmt = select(Panel).join(PanelMember, PanelMember.panel_id == Panel.id).where(PanelMember.expert_id == expert_id)  # type: ignore[arg-type]
    if round_id is not None:
        stmt = stmt.where(Panel.round_id == round_id)
    return list(session.exec(stmt.order_by(Panel.round_id.desc(), Panel.id)))  # type: ignore[attr-defined]


# --- changes after scoring has started ------------------------------------------------------------

# The scoring capability registers here a function that counts the *submitted* score sheets a panel change
# would orphan: fn(session, *, round_id, panel_id, expert_ids, application_ids) -> int, where expert_ids are
# members leaving the panel (their sheets on the panel's applications) and application_ids are applications
# leaving the panel (every member's sheets on them). Until it does, no score sheets exist and the count is 0.
SubmittedScoresCounter = Callable[..., int]
SUBMITTED_SCORE_COUNTERS: list[SubmittedScoresCounter] = []


def guard_panel_change(
    session: Session,
    *,
    rnd: Round,
    panel_id: int,
    reason: str,
    leaving_expert_ids: Iterable[int] = (),
    leaving_application_ids: Iterable[int] = (),
) -> str:
    """The one check every change of a panel's members, chair or applications passes through.

    Before scoring starts anything goes. Afterwards a written reason is required (it goes into the audit
    entry), and a change that would take away a submitted score sheet is refused outright: a score is never
    dropped silently. Returns the cleaned reason ("" before scoring).
    """
    if rnd.scoring_started_at is None:
        return ""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ServiceError("评分已开始，调整专家组须填写调整原因（至少 4 个字）。", field="reason")
    experts, apps = set(leaving_expert_ids), set(leaving_application_ids)
    if experts or apps:
        affected = sum(
            counter(session, round_id=rnd.id, panel_id=panel_id, expert_ids=experts, application_ids=apps)
            for counter in SUBMITTED_SCORE_COUNTERS
        )
        if affected:
            raise ServiceError(
                f"此调整涉及 {affected} 份已提交的评分表，不能直接调整。请先按程序处理这些评分表（退回或作废并记录原因），再调整专家组。",
                field="reason",
            )
    return reason[:300]


def with_reason(summary: str, reason: str) -> str:
    return f"{summary}（原因：{reason}）" if reason else summary


def reset_declarations(session: Session, *, actor: Actor, round_id: int, expert_ids: Iterable[int], why: str) -> int:
    """Experts whose panel gained enterprises must go through the declaration list again before seeing anything."""
    ids = sorted(set(expert_ids))
    if not ids:
        return 0
    pledges = list(
        session.exec(
            select(Pledge).where(
                Pledge.round_id == round_id,
                col(Pledge.expert_id).in_(ids),
                col(Pledge.declaration_done_at).is_not(None),
            )
        )
    )
    for pledge in pledges:
        pledge.declaration_done_at = None
        session.add(pledge)
        audit.record(
            session,
            actor=actor,
            action="pledge.reset",
            entity_type="pledge",
            entity_id=pledge.id,
            summary=f"因{why}，专家（编号 {pledge.expert_id}）须重新确认回避声明",
        )
    session.flush()
    return len(pledges)


# --- pledge, declaration and what an expert may see -----------------------------------------------


def pledge_hash(text: str) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


class PledgeRequired(ServiceError):
    """The expert must (re)sign the pledge or finish the declaration before seeing anything of the round."""

    def __init__(self, message: str, *, next_url: str) -> None:
        super().__init__(message)
        self.next_url = next_url


def get_pledge(session: Session, *, expert_id: int, round_id: int) -> Pledge | None:
    return session.exec(select(Pledge).where(Pledge.expert_id == expert_id, Pledge.round_id == round_id)).first()


def pledge_state(pledge: Pledge | None, rnd: Round) -> str:
    """unsigned | resign (the text changed since signing) | declare (signed, declaration pending) | done."""
    if pledge is None:
        return "unsigned"
    if pledge.pledge_text_sha256 != pledge_hash(rnd.pledge_text):
        return "resign"
    if pledge.declaration_done_at is None:
        return "declare"
    return "done"


PLEDGE_STATE_LABELS = {
    "unsigned": "未签署承诺",
    "resign": "承诺书已更新，须重新签署",
    "declare": "已签署承诺，待完成回避声明",
    "done": "已完成承诺与回避声明",
}


def require_pledge(session: Session, *, expert_id: int, round_id: int) -> Pledge:
    """The gate every expert-facing page of a round calls first: raises PledgeRequired (with where to go) unless
    the expert sits on a panel of the round, has signed the current pledge text and finished the declaration."""
    rnd = get_round(session, round_id)
    if not expert_panels(session, expert_id=expert_id, round_id=round_id):
        raise NotFound("您不是该批次任何专家组的成员。")
    return pledge_gate(get_pledge(session, expert_id=expert_id, round_id=round_id), rnd)


def pledge_gate(pledge: Pledge | None, rnd: Round) -> Pledge:
    """require_pledge's answer for an expert known to sit on a panel of `rnd`, from their pledge row."""
    round_id = rnd.id
    state = pledge_state(pledge, rnd)
    if state in {"unsigned", "resign"}:
        raise PledgeRequired(
            "查看评审内容前，请先阅读并签署保密与公正承诺。", next_url=f"/expert/rounds/{round_id}/pledge"
        )
    if state == "declare":
        raise PledgeRequired(
            "请先逐一核对本组申报企业，完成回避声明。", next_url=f"/expert/rounds/{round_id}/declaration"
        )
    return pledge  # type: ignore[return-value]


def sign_pledge(session: Session, *, actor: Actor, expert_id: int, round_id: int, agreed: bool) -> Pledge:
    rnd = get_round(session, round_id)
    if not expert_panels(session, expert_id=expert_id, round_id=round_id):
        raise NotFound("您不是该批次任何专家组的成员。")
    if not agreed:
        raise ServiceError("请勾选“本人已阅读并承诺遵守”后再签署。", field="agree")
    pledge = get_pledge(session, expert_id=expert_id, round_id=round_id)
    digest = pledge_hash(rnd.pledge_text)
    if pledge is not None and pledge.pledge_text_sha256 == digest:
        return pledge
    resign = pledge is not None
    if pledge is None:
        pledge = Pledge(round_id=round_id, expert_id=expert_id, pledge_text_sha256=digest)
    pledge.pledge_text_sha256 = digest
    pledge.signed_at = utcnow()
    pledge.client_addr = actor.client_addr[:64]
    session.add(pledge)
    session.flush()
    expert = get_expert(session, expert_id)
    audit.record(
        session,
        actor=actor,
        action="pledge.sign",
        entity_type="pledge",
        entity_id=pledge.id,
        summary=f"{expert.name} {'重新' if resign else ''}签署「{rnd.name}」保密与公正承诺",
        after={"round_id": round_id, "expert_id": expert_id, "pledge_text_sha256": digest},
    )
    return pledge


def visible_applications(
    session: Session, *, expert_id: int, round_id: int, today: date | None = None
) -> list[Application]:
    """What an expert may see and score in a round: applications assigned to the expert's panel, formal review
    passed, with no conflict for this expert. Empty until the pledge and declaration are done.

    Stored conflicts (declarations included) are combined with the rules evaluated now, so an application that
    became conflicted since the last recomputation is hidden as well.
    """
    rnd = get_round(session, round_id)
    panel_ids = [p.id for p in expert_panels(session, expert_id=expert_id, round_id=round_id)]
    if not panel_ids or pledge_state(get_pledge(session, expert_id=expert_id, round_id=round_id), rnd) != "done":
        return []
    apps = list(
        session.exec(
            select(Application)
            .where(
                Application.round_id == round_id,
                col(Application.panel_id).in_(panel_ids),
                Application.formal_status == PASSED,
            )
            .order_by(Application.serial, Application.id)
        )
    )
    return _without_conflicts(session, expert_id=expert_id, rnd=rnd, apps=apps, today=today)


def _without_conflicts(
    session: Session, *, expert_id: int, rnd: Round, apps: list[Application], today: date | None
) -> list[Application]:
    """`apps` less those the expert is conflicted with: stored conflicts (declarations included) and the rules
    evaluated now."""
    if not apps:
        return []
    ids = [a.id for a in apps]
    blocked_stmt = select(Conflict.application_id).where(Conflict.round_id == rnd.id, Conflict.expert_id == expert_id)
    if len(ids) == 1:
        blocked_stmt = blocked_stmt.where(Conflict.application_id == ids[0])
    blocked = set(session.exec(blocked_stmt))
    facts = expert_facts(session, [expert_id]).get(expert_id)
    if facts is not None:
        blocked |= live_conflicts(
            facts, application_facts(session, round_id=rnd.id, application_ids=ids).values(), rnd=rnd, today=today
        )
    return [a for a in apps if a.id not in blocked]


def live_conflicts(
    expert: rules.ExpertFacts, apps: Iterable[rules.ApplicationFacts], *, rnd: Round, today: date | None = None
) -> set[int]:
    """Ids of `apps` the expert is conflicted with by the round's rules evaluated today (stored conflicts aside)."""
    found = rules.find_conflicts(
        [expert], apps, settings=rules.CoiSettings.of_round(rnd), today=today or today_beijing()
    )
    return {app_id for (_e, app_id) in found}


def can_see_application(session: Session, *, expert_id: int, application_id: int, today: date | None = None) -> bool:
    """For a page about one application: the same answer as visible_applications, evaluated for that application
    alone (reading the whole panel's applications and facts cost the score sheet two thirds of its time)."""
    app = session.get(Application, application_id)
    if app is None or app.panel_id is None or app.formal_status != PASSED:
        return False
    rnd = get_round(session, app.round_id)
    if app.panel_id not in {p.id for p in expert_panels(session, expert_id=expert_id, round_id=app.round_id)}:
        return False
    if pledge_state(get_pledge(session, expert_id=expert_id, round_id=app.round_id), rnd) != "done":
        return False
    return bool(_without_conflicts(session, expert_id=expert_id, rnd=rnd, apps=[app], today=today))


# --- facts for the pure rules ---------------------------------------------------------------------


def expert_facts(session: Session, expert_ids: Iterable[int]) -> dict[int, rules.ExpertFacts]:
    ids = sorted(set(expert_ids))
    jobs: dict[int, list[rules.Employment]] = defaultdict(list)
    relations: dict[int, list[rules.Relation]] = defaultdict(list)
    experts: list[Any] = []
    for chunk in chunked(ids):
        experts += session.exec(
            select(Expert.id, Expert.name, Expert.employer, Expert.employer_credit_code, Expert.city).where(
                col(Expert.id).in_(chunk)
            )
        ).all()
        for row in session.exec(
            select(
                ExpertEmployment.expert_id,
                ExpertEmployment.employer,
                ExpertEmployment.credit_code,
                ExpertEmployment.start,
                ExpertEmployment.end,
            )
            .where(col(ExpertEmployment.expert_id).in_(chunk))
            .order_by(ExpertEmployment.id)
        ):
            jobs[row[0]].append(rules.Employment(employer=row[1], credit_code=row[2], start=row[3], end=row[4]))
        for row in session.exec(
            select(
                ExpertRelation.expert_id,
                ExpertRelation.enterprise_name,
                ExpertRelation.relation,
                ExpertRelation.credit_code,
                ExpertRelation.since,
                ExpertRelation.until,
                ExpertRelation.note,
            )
            .where(col(ExpertRelation.expert_id).in_(chunk))
            .order_by(ExpertRelation.id)
        ):
            relations[row[0]].append(
                rules.Relation(
                    enterprise_name=row[1], relation=row[2], credit_code=row[3], since=row[4], until=row[5], note=row[6]
                )
            )
    return {
        e[0]: rules.ExpertFacts(
            id=e[0],
            name=e[1],
            employer=e[2],
            employer_credit_code=e[3],
            city=e[4],
            employments=tuple(jobs.get(e[0], ())),
            relations=tuple(relations.get(e[0], ())),
        )
        for e in experts
    }


def application_facts(
    session: Session, *, round_id: int, application_ids: Iterable[int] | None = None
) -> dict[int, rules.ApplicationFacts]:
    stmt = (
        select(
            Application.id,
            Enterprise.name,
            Enterprise.credit_code,
            Enterprise.group_name,
            Enterprise.group_credit_code,
            Enterprise.city,
        )
        .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
        .where(Application.round_id == round_id)
    )
    rows: list[Any] = []
    if application_ids is None:
        rows = list(session.exec(stmt))
    else:
        for chunk in chunked(sorted(set(application_ids))):
            rows += session.exec(stmt.where(col(Application.id).in_(chunk))).all()
    parties: dict[int, list[rules.Party]] = defaultdict(list)
    party_stmt = select(
        ApplicationParty.application_id, ApplicationParty.role, ApplicationParty.name, ApplicationParty.credit_code
    )
    if application_ids is None:
        party_stmt = party_stmt.join(Application, Application.id == ApplicationParty.application_id).where(  # type: ignore[arg-type]
            Application.round_id == round_id
        )
        party_rows = list(session.exec(party_stmt.order_by(ApplicationParty.id)))
    else:
        party_rows = []
        for chunk in chunked([r[0] for r in rows]):
            party_rows += session.exec(
                party_stmt.where(col(ApplicationParty.application_id).in_(chunk)).order_by(ApplicationParty.id)
            ).all()
    for app_id, role, name, code in party_rows:
        parties[app_id].append(rules.Party(role=role, name=name, credit_code=code))
    return {
        r[0]: rules.ApplicationFacts(
            id=r[0],
            enterprise_name=r[1],
            credit_code=r[2],
            group_name=r[3],
            group_credit_code=r[4],
            city=r[5],
            parties=tuple(parties.get(r[0], ())),
        )
        for r in rows
    }


# An expert's employments and relations for the conflict rules, as one statement built once (pages about one
# expert: the score sheet, the expert's rounds): rows of (kind "job" | "relation", id, name, credit code, relation,
# from, to, note); read them with expert_facts_from.
_NO_DATE = sa.cast(sa.null(), sa.Date)
_JOBS = select(
    sa.literal("job").label("kind"),
    ExpertEmployment.id,
    ExpertEmployment.employer,
    ExpertEmployment.credit_code,
    sa.literal("").label("tag"),
    ExpertEmployment.start,
    ExpertEmployment.end,
    sa.literal("").label("note"),
).where(ExpertEmployment.expert_id == sa.bindparam("expert_id"))
_RELATIONS = select(
    sa.literal("relation"),
    ExpertRelation.id,
    ExpertRelation.enterprise_name,
    ExpertRelation.credit_code,
    ExpertRelation.relation,
    ExpertRelation.since,
    ExpertRelation.until,
    ExpertRelation.note,
).where(ExpertRelation.expert_id == sa.bindparam("expert_id"))
EXPERT_TIES = sa.union_all(_JOBS, _RELATIONS)
# The same with one application's parties (kind "party", role in the relation column): pair_facts.
_PAIR_TIES = sa.union_all(
    _JOBS,
    _RELATIONS,
    select(
        sa.literal("party"),
        ApplicationParty.id,
        ApplicationParty.name,
        ApplicationParty.credit_code,
        ApplicationParty.role,
        _NO_DATE,
        _NO_DATE,
        sa.literal(""),
    ).where(ApplicationParty.application_id == sa.bindparam("application_id")),
)


def expert_facts_from(expert: Expert, ties: Iterable[Any]) -> rules.ExpertFacts:
    """The expert's facts from their row and the rows of EXPERT_TIES (other kinds of row are skipped), in id
    order as expert_facts reads them."""
    ordered = sorted((t for t in ties if t.kind in ("job", "relation")), key=lambda t: (t.kind, t.id))
    return rules.ExpertFacts(
        id=expert.id,  # type: ignore[arg-type]
        name=expert.name,
        employer=expert.employer,
        employer_credit_code=expert.employer_credit_code,
        city=expert.city,
        employments=tuple(
            rules.Employment(employer=t.employer, credit_code=t.credit_code, start=t.start, end=t.end)
            for t in ordered
            if t.kind == "job"
        ),
        relations=tuple(
            rules.Relation(
                enterprise_name=t.employer,
                relation=t.tag,
                credit_code=t.credit_code,
                since=t.start,
                until=t.end,
                note=t.note,
            )  # fmt: skip
            for t in ordered
            if t.kind == "relation"
        ),
    )


def pair_facts(
    session: Session, *, expert: Expert, application: Application, enterprise: Enterprise
) -> tuple[rules.ExpertFacts, rules.ApplicationFacts]:
    """The conflict rules' facts about one expert and one application, for a page about that pair: the expert's
    employments and relations and the application's parties in one statement (the rows of the expert and the
    enterprise are the caller's). The parties come in (role, id) order, as the pages list them."""
    rows = session.connection().execute(_PAIR_TIES, {"expert_id": expert.id, "application_id": application.id}).all()
    parties = sorted((r for r in rows if r.kind == "party"), key=lambda r: (r.tag, r.id))
    return (
        expert_facts_from(expert, rows),
        rules.ApplicationFacts(
            id=application.id,  # type: ignore[arg-type]
            enterprise_name=enterprise.name,
            credit_code=enterprise.credit_code,
            group_name=enterprise.group_name,
            group_credit_code=enterprise.group_credit_code,
            city=enterprise.city,
            parties=tuple(rules.Party(role=r.tag, name=r.employer, credit_code=r.credit_code) for r in parties),
        ),
    )
