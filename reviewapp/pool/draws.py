"""Draws (抽取) for a round: freeze the candidates with recusal applied, draw with a recorded seed, re-draw with a
reason, confirm or decline (the next backup comes in), seal the names, and write the result into the panels."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from reviewapp import audit
from reviewapp.applications.models import Application, Enterprise
from reviewapp.audit import Actor
from reviewapp.auth.models import Role, User
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError

# The panels package is being split into modules; these are the few names the pool uses from it.
from reviewapp.panels import rules as coi
from reviewapp.panels.membership import add_member
from reviewapp.panels.models import Conflict, ConflictRule, Expert, Panel, PanelMember
from reviewapp.panels.service import application_facts, expert_facts, round_panels
from reviewapp.pool import rules
from reviewapp.pool.models import Draw, DrawPick, DrawState, PickRole, PickStatus
from reviewapp.pool.profiles import pool_entries
from reviewapp.rounds.models import Round
from reviewapp.rounds.service import get_round

audit.register_labels(
    actions={
        "pool.draw_freeze": "冻结抽取候选名单",
        "pool.draw": "随机抽取专家",
        "pool.redraw": "重新抽取专家",
        "pool.draw_view": "查看抽取结果",
        "pool.respond": "记录专家确认结果",
        "pool.apply": "抽取结果写入专家组",
    },
    entities={"pool_draw": "专家抽取"},
)

OPEN_STATES = (DrawState.frozen.value, DrawState.drawn.value, DrawState.applied.value)


# --- lookups ----------------------------------------------------------------------------------------------------


def get_draw(session: Session, draw_id: int, *, for_update: bool = False) -> Draw:
    stmt = select(Draw).where(Draw.id == draw_id)
    if for_update:
        stmt = stmt.with_for_update()
    found = session.exec(stmt).first()
    if found is None:
        raise NotFound("未找到该抽取记录。")
    return found


def round_draws(session: Session, round_id: int) -> list[Draw]:
    return list(session.exec(select(Draw).where(Draw.round_id == round_id).order_by(col(Draw.seq).desc())))


def current_draw(session: Session, round_id: int) -> Draw | None:
    return session.exec(
        select(Draw).where(Draw.round_id == round_id, col(Draw.state).in_(OPEN_STATES)).order_by(col(Draw.seq).desc())
    ).first()


def last_seq(session: Session, round_id: int) -> int:
    return int(session.exec(select(func.coalesce(func.max(Draw.seq), 0)).where(Draw.round_id == round_id)).one())


def picks_of(session: Session, draw_id: int) -> list[DrawPick]:
    return list(
        session.exec(select(DrawPick).where(DrawPick.draw_id == draw_id).order_by(DrawPick.panel_id, DrawPick.position))
    )


def input_of(draw: Draw) -> rules.DrawInput:
    return rules.DrawInput.from_canonical(draw.input_json)


def supervisors(session: Session) -> list[User]:
    """Who may supervise a draw (监督人): staff and admin accounts that are active."""
    return list(
        session.exec(
            select(User)
            .where(col(User.role).in_([Role.staff.value]), User.is_active == True)  # noqa: E712
            .order_by(User.username)
        )
    )


def display_name(session: Session, actor: Actor) -> str:
    """The name the record prints: the account's display name, else the actor's name."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    return (user.display_name if user and user.display_name else actor.name)[:64]


# --- sealing ----------------------------------------------------------------------------------------------------


def review_opened(rnd: Round) -> bool:
    """Once the round's review opens the drawn names are no longer sealed."""
    return rnd.scoring_started_at is not None


def names_visible(draw: Draw, rnd: Round, user: User) -> bool:
    """The list stays sealed until the round's review opens: before that only the staff member who drew and the
    supervisor see the names."""
    return review_opened(rnd) or user.id in {draw.drawn_by, draw.supervisor_id}


def record_view(session: Session, *, actor: Actor, draw: Draw, what: str, sealed: bool) -> None:
    """Every view of a draw's list is audited (who, what, whether the names were shown)."""
    audit.record(
        session,
        actor=actor,
        action="pool.draw_view",
        entity_type="pool_draw",
        entity_id=draw.id,
        summary=f"查看第 {draw.seq} 次抽取的{what}（{'名单密封' if sealed else '显示姓名'}）",
    )


# --- freezing the candidates ------------------------------------------------------------------------------------


def _panel_exclusions(
    session: Session, *, rnd: Round, panels: list[Panel], candidate_ids: list[int], recent_rounds: int, today: date
) -> tuple[dict[int, set[int]], dict[int, list[str]]]:
    """Recusal before the draw: per panel, the experts conflicted with any of its applications (the panels'
    conflict rules and the round's declarations), and those drawn for the same enterprise in the last N rounds.
    Also returns each panel's enterprise keys (credit code or name)."""
    apps = list(
        session.exec(
            select(Application.id, Application.panel_id, Enterprise.credit_code, Enterprise.name)
            .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
            .where(col(Application.panel_id).in_([p.id for p in panels] or [-1]))
        )
    )
    panel_of = {a[0]: a[1] for a in apps}
    keys: dict[int, list[str]] = defaultdict(list)
    for _id, panel_id, code, name in apps:
        keys[panel_id].append(rules.org_key(name, code))
    excluded: dict[int, set[int]] = {p.id: set() for p in panels}  # type: ignore[misc]
    found = coi.find_conflicts(
        expert_facts(session, candidate_ids).values(),
        application_facts(session, round_id=rnd.id, application_ids=list(panel_of)).values(),
        settings=coi.CoiSettings.of_round(rnd),
        today=today,
    )
    for expert_id, app_id in found:
        excluded[panel_of[app_id]].add(expert_id)
    for expert_id, app_id in session.exec(
        select(Conflict.expert_id, Conflict.application_id).where(
            Conflict.round_id == rnd.id, Conflict.rule == ConflictRule.declaration.value
        )
    ):
        if app_id in panel_of:
            excluded[panel_of[app_id]].add(expert_id)
    if recent_rounds:
        earlier = [
            r
            for r in session.exec(
                select(Draw.round_id)
                .where(Draw.round_id != rnd.id, col(Draw.state).in_(OPEN_STATES))
                .distinct()
                .order_by(col(Draw.round_id).desc())
            )
        ][:recent_rounds]
        served: dict[int, set[str]] = defaultdict(set)
        for expert_id, keys_json in session.exec(
            select(DrawPick.expert_id, DrawPick.enterprise_keys_json)
            .join(Draw, Draw.id == DrawPick.draw_id)  # type: ignore[arg-type]
            .where(
                col(Draw.round_id).in_(earlier or [-1]),
                col(Draw.state).in_(OPEN_STATES),
                col(DrawPick.status).in_([PickStatus.accepted.value, PickStatus.pending.value]),
            )
        ):
            served[expert_id] |= set(json.loads(keys_json))
        for panel in panels:
            mine = set(keys[panel.id])  # type: ignore[index]
            excluded[panel.id] |= {e for e, seen in served.items() if seen & mine}  # type: ignore[index]
    return excluded, keys


def freeze(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    conditions: rules.Conditions,
    supervisor_id: int,
    expected_seq: int,
    today: date,
    redraw_reason: str = "",
) -> Draw:
    """Freeze the candidates (recusal applied) and their hash as draw number expected_seq + 1.

    The version check: the form carries the number of draws it saw; if another staff member drew meanwhile the
    numbers differ and this one is refused (and the unique (round, seq) index refuses a race the check missed)."""
    rnd = get_round(session, round_id, for_update=True)
    problems = conditions.problems()
    if problems:
        raise ServiceError("抽取条件有误：" + "；".join(problems))
    if last_seq(session, round_id) != expected_seq:
        raise StaleEdit("其他工作人员刚刚对本批次进行了抽取，请刷新页面查看最新抽取结果后再决定。")
    supervisor = session.get(User, supervisor_id)
    if supervisor is None or supervisor.role not in (Role.staff.value,):
        raise ServiceError("请选择监督人。", field="supervisor_id")
    if supervisor.id == actor.user_id:
        raise ServiceError("监督人不能是抽取人本人。", field="supervisor_id")
    earlier = current_draw(session, round_id)
    reason = (redraw_reason or "").strip()
    if earlier is not None:
        if earlier.state == DrawState.applied.value:
            raise ServiceError("上一次抽取结果已写入专家组，不能重新抽取。")
        if len(reason) < 4:
            raise ServiceError("重新抽取须填写原因（至少 4 个字），原抽取记录将保留。", field="redraw_reason")
        earlier.state = DrawState.superseded.value
        earlier.row_version += 1
        session.add(earlier)
    panels = [p for p in round_panels(session, round_id) if p.finalized_at is None]
    if not panels:
        raise ServiceError("本批次还没有可抽取的专家组，请先在「专家组」中建立专家组并分配申报项目。")
    seated = set(
        session.exec(
            select(PanelMember.expert_id)
            .join(Panel, Panel.id == PanelMember.panel_id)
            .where(Panel.round_id == round_id)
        )
    )  # type: ignore[arg-type]
    entries = [e for e in pool_entries(session) if e.id not in seated]
    excluded, _keys = _panel_exclusions(
        session,
        rnd=rnd,
        panels=panels,
        candidate_ids=[e.id for e in entries],
        recent_rounds=conditions.recent_rounds,
        today=today,
    )
    specs = [rules.PanelSpec(p.id, p.name, tuple(sorted(excluded[p.id]))) for p in panels]  # type: ignore[index, arg-type]
    inp = rules.build_input(entries, specs, conditions, today=today)
    text = inp.canonical()
    draw = Draw(
        round_id=round_id,
        seq=expected_seq + 1,
        input_json=text,
        input_sha256=rules.sha256_hex(text),
        candidate_count=len(inp.candidates),
        drawn_by=actor.user_id,
        drawn_by_name=display_name(session, actor),
        supervisor_id=supervisor.id,
        supervisor_name=supervisor.display_name or supervisor.username,
        redraw_reason=reason[:500] if earlier is not None else "",
        supersedes_id=earlier.id if earlier is not None else None,
        state=DrawState.frozen.value,
    )
    session.add(draw)
    try:
        session.flush()
    except IntegrityError as exc:
        raise StaleEdit("其他工作人员刚刚对本批次进行了抽取，请刷新页面后再决定。") from exc
    audit.record(
        session,
        actor=actor,
        action="pool.redraw" if earlier is not None else "pool.draw_freeze",
        entity_type="pool_draw",
        entity_id=draw.id,
        summary=(
            f"冻结「{rnd.name}」第 {draw.seq} 次抽取的候选名单：{draw.candidate_count} 人，"
            f"哈希 {draw.input_sha256[:16]}…，监督人 {draw.supervisor_name}"
            + (f"（重新抽取，原因：{reason}；第 {earlier.seq} 次抽取保留备查）" if earlier is not None else "")
        ),
        after={"seq": draw.seq, "sha256": draw.input_sha256, "conditions": conditions.to_json()},
    )
    return draw


def _panel_keys(session: Session, draw: Draw) -> dict[int, list[str]]:
    panel_ids = [p.id for p in input_of(draw).panels]
    keys: dict[int, list[str]] = defaultdict(list)
    for panel_id, code, name in session.exec(
        select(Application.panel_id, Enterprise.credit_code, Enterprise.name)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)  # type: ignore[arg-type]
        .where(col(Application.panel_id).in_(panel_ids or [-1]))
    ):
        keys[panel_id].append(rules.org_key(name, code))  # type: ignore[index]
    return keys


def run(session: Session, *, actor: Actor, draw_id: int, seed: str, seed_source: str, row_version: int) -> Draw:
    """Draw with the seed (entered now, or later from a public source such as a lottery number)."""
    draw = get_draw(session, draw_id, for_update=True)
    if draw.row_version != row_version or draw.state != DrawState.frozen.value:
        raise StaleEdit("该抽取已被他人处理（已抽取或已作废），请刷新页面。")
    if draw.drawn_by != actor.user_id:
        raise ServiceError("只有冻结候选名单的工作人员可以录入随机种子并抽取。")
    seed = (seed or "").strip()
    if not seed or len(seed) > 64:
        raise ServiceError("请填写随机种子（如公开开奖号码），不超过 64 个字符。", field="seed")
    result = rules.draw(input_of(draw), seed)
    if not result.ok:
        raise ServiceError("抽取条件无法满足：" + "；".join(result.problems), field="seed")
    keys = _panel_keys(session, draw)
    for pd in result.panels:
        ids = [*pd.mains, *pd.backups]
        for position, expert_id in enumerate(ids, start=1):
            is_main = position <= len(pd.mains)
            session.add(
                DrawPick(
                    draw_id=draw.id,  # type: ignore[arg-type]
                    panel_id=pd.panel_id,
                    expert_id=expert_id,
                    role=(PickRole.main if is_main else PickRole.backup).value,
                    position=position,
                    status=(PickStatus.pending if is_main else PickStatus.standby).value,
                    enterprise_keys_json=json.dumps(sorted(set(keys.get(pd.panel_id, []))), ensure_ascii=False),
                )
            )
    draw.seed = seed
    draw.seed_source = (seed_source or "").strip()[:200]
    draw.result_json = result.to_json()
    draw.state = DrawState.drawn.value
    draw.drawn_at = utcnow()
    draw.row_version += 1
    session.add(draw)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="pool.draw",
        entity_type="pool_draw",
        entity_id=draw.id,
        summary=f"第 {draw.seq} 次抽取：随机种子 {seed}（{draw.seed_source or '工作人员录入'}），"
        f"{len(result.panels)} 个专家组",
        after={"seed": seed, "result": json.loads(draw.result_json)},
    )
    return draw


# --- verification -----------------------------------------------------------------------------------------------


@dataclass
class Verification:
    hash_ok: bool
    result_ok: bool
    recomputed: rules.DrawResult


def verify(draw: Draw) -> Verification:
    hash_ok, same, again = rules.verify(draw.input_json, draw.input_sha256, draw.seed, draw.result_json)
    return Verification(hash_ok=hash_ok, result_ok=same, recomputed=again)


# --- confirmation -----------------------------------------------------------------------------------------------


def _candidates(draw: Draw) -> dict[int, rules.Candidate]:
    return {c.id: c for c in input_of(draw).candidates}


def respond(
    session: Session,
    *,
    actor: Actor,
    pick_id: int,
    accept: bool,
    reason: str = "",
    via: str,
    call_note: str = "",
    as_expert_id: int | None = None,
) -> DrawPick | None:
    """Record an expert's answer (by themselves on their home page, or by staff after the phone call).
    A decline brings in the first backup, in drawn order, with whom the panel still meets the conditions;
    returns that backup's pick (None when no one was called in)."""
    pick = session.exec(select(DrawPick).where(DrawPick.id == pick_id).with_for_update()).first()
    if pick is None or (as_expert_id is not None and pick.expert_id != as_expert_id):
        raise NotFound("未找到该抽取通知。")
    draw = get_draw(session, pick.draw_id, for_update=True)
    if draw.state != DrawState.drawn.value:
        raise ServiceError("该抽取已结束或已作废，不能再确认。")
    if pick.status != PickStatus.pending.value:
        raise StaleEdit("该专家的确认结果已记录，请刷新页面。")
    reason = (reason or "").strip()
    if not accept and len(reason) < 2:
        raise ServiceError("不参加须说明原因。", field="reason")
    if via == "电话" and len((call_note or "").strip()) < 2:
        raise ServiceError("请按通话记录要点填写通话情况。", field="call_note")
    expert = session.get(Expert, pick.expert_id)
    panel = session.get(Panel, pick.panel_id)
    pick.status = (PickStatus.accepted if accept else PickStatus.declined).value
    pick.reason = reason[:500]
    pick.via = via
    pick.call_note = (call_note or "").strip()[:500]
    pick.recorded_by_name = display_name(session, actor)
    pick.responded_at = utcnow()
    pick.row_version += 1
    session.add(pick)
    called: DrawPick | None = None
    broken = ""
    if not accept:
        panel_picks = [p for p in picks_of(session, draw.id) if p.panel_id == pick.panel_id]
        cands = _candidates(draw)
        members = [
            cands[p.expert_id]
            for p in panel_picks
            if p.status in (PickStatus.pending.value, PickStatus.accepted.value) or p.id == pick.id
        ]
        standby = [p for p in panel_picks if p.status == PickStatus.standby.value]
        cond = input_of(draw).conditions
        choice = rules.next_backup(members, cands[pick.expert_id], [cands[p.expert_id] for p in standby], cond)
        if choice is None and standby:
            # No backup keeps every condition: the next one in drawn order still comes in, and the shortfall is
            # said now (on the draw page too) and checked again before the list is written into the panels.
            choice = cands[standby[0].expert_id]
        if choice is not None:
            called = next(p for p in standby if p.expert_id == choice.id)
            called.status = PickStatus.pending.value
            called.replaces_id = pick.id
            called.row_version += 1
            session.add(called)
    session.flush()
    if not accept:
        broken = "；".join(panel_shortfalls(session, draw).get(pick.panel_id, []))
    words = "同意参加" if accept else f"不参加（{reason}）"
    follow = ""
    if not accept:
        follow = f"，递补备选第 {called.position} 位" if called else "，备选专家已用完，须重新抽取"
        if broken:
            follow += f"（递补后不满足抽取条件：{broken}）"
    audit.record(
        session,
        actor=actor,
        action="pool.respond",
        entity_type="pool_draw",
        entity_id=draw.id,
        summary=f"专家组「{panel.name if panel else ''}」抽取专家 {expert.name if expert else ''}：{words}（{via}）{follow}",
        after={"pick_id": pick.id, "status": pick.status, "called_in": called.id if called else None},
    )
    return called


def panel_shortfalls(session: Session, draw: Draw, picks: list[DrawPick] | None = None) -> dict[int, list[str]]:
    """While experts are being asked: per panel, which of the draw's conditions its current experts (asked or
    accepted) break and by how many, e.g. after a decline when no backup keeps the conditions."""
    if draw.state != DrawState.drawn.value:
        return {}
    cond = input_of(draw).conditions
    cands = _candidates(draw)
    active: dict[int, list[rules.Candidate]] = defaultdict(list)
    panels: set[int] = set()
    for p in picks if picks is not None else picks_of(session, draw.id):
        panels.add(p.panel_id)
        if p.status in (PickStatus.pending.value, PickStatus.accepted.value):
            active[p.panel_id].append(cands[p.expert_id])
    out = {pid: rules.condition_problems(active[pid], cond) for pid in sorted(panels)}
    return {pid: problems for pid, problems in out.items() if problems}


def expert_invitations(session: Session, *, expert_id: int) -> list[tuple[DrawPick, Draw, Round, Panel]]:
    """The expert's own picks that were called (not standby backups) in live draws."""
    rows = session.exec(
        select(DrawPick, Draw, Round, Panel)
        .join(Draw, Draw.id == DrawPick.draw_id)  # type: ignore[arg-type]
        .join(Round, Round.id == Draw.round_id)  # type: ignore[arg-type]
        .join(Panel, Panel.id == DrawPick.panel_id)  # type: ignore[arg-type]
        .where(
            DrawPick.expert_id == expert_id,
            col(Draw.state).in_([DrawState.drawn.value, DrawState.applied.value]),
            col(DrawPick.status).in_([PickStatus.pending.value, PickStatus.accepted.value, PickStatus.declined.value]),
        )
        .order_by(col(Draw.id).desc())
    )
    return list(rows.all())  # type: ignore[arg-type]


# --- into the panels ----------------------------------------------------------------------------------------------


def apply(session: Session, *, actor: Actor, draw_id: int, row_version: int, today: date) -> Draw:
    """Every panel has its full number accepted: the accepted experts become the panels' members, in drawn order
    (the first becomes chair), through the panels' own service."""
    draw = get_draw(session, draw_id, for_update=True)
    if draw.row_version != row_version or draw.state != DrawState.drawn.value:
        raise StaleEdit("该抽取已被他人处理，请刷新页面。")
    cond = input_of(draw).conditions
    cands = _candidates(draw)
    picks = picks_of(session, draw.id)
    by_panel: dict[int, list[DrawPick]] = defaultdict(list)
    for p in picks:
        by_panel[p.panel_id].append(p)
    missing = []
    for panel_id, ps in by_panel.items():
        accepted = [p for p in ps if p.status == PickStatus.accepted.value]
        if len(accepted) < cond.per_panel:
            panel = session.get(Panel, panel_id)
            missing.append(
                f"「{panel.name if panel else panel_id}」已确认 {len(accepted)} 人，差 {cond.per_panel - len(accepted)} 人"
            )
        elif problems := rules.condition_problems([cands[p.expert_id] for p in accepted], cond):
            panel = session.get(Panel, panel_id)
            missing.append(
                f"「{panel.name if panel else panel_id}」递补后不满足抽取条件：{'、'.join(problems)}，请重新抽取"
            )
    if missing:
        raise ServiceError("尚有专家组人数不足或不满足条件，不能写入：" + "；".join(missing))
    for panel_id, ps in sorted(by_panel.items()):
        for p in sorted(ps, key=lambda p: p.position):
            if p.status == PickStatus.accepted.value:
                add_member(session, actor=actor, panel_id=panel_id, expert_id=p.expert_id, today=today)
            elif p.status == PickStatus.standby.value:
                p.status = PickStatus.unused.value
                session.add(p)
    draw.state = DrawState.applied.value
    draw.applied_at = utcnow()
    draw.row_version += 1
    session.add(draw)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="pool.apply",
        entity_type="pool_draw",
        entity_id=draw.id,
        summary=f"第 {draw.seq} 次抽取结果写入 {len(by_panel)} 个专家组",
    )
    return draw


def expert_names(session: Session, ids: list[int]) -> dict[int, Expert]:
    return {e.id: e for e in session.exec(select(Expert).where(col(Expert.id).in_(ids or [-1])))}  # type: ignore[misc]


def panel_names(session: Session, ids: list[int]) -> dict[int, str]:
    return dict(session.exec(select(Panel.id, Panel.name).where(col(Panel.id).in_(ids or [-1]))).all())  # type: ignore[arg-type]


def record_context(session: Session, draw: Draw) -> dict[str, Any]:
    """What the 抽取记录表 shows: conditions, seed, counts, who drew and supervised, every drawn expert."""
    inp = input_of(draw)
    picks = picks_of(session, draw.id)
    experts = expert_names(session, [p.expert_id for p in picks])
    names = panel_names(session, [p.id for p in inp.panels])
    return {
        "draw": draw,
        "conditions": inp.conditions.describe(),
        "panels": [
            (pid, names.get(pid, str(pid)), [p for p in picks if p.panel_id == pid])
            for pid in [p.id for p in inp.panels]
        ],
        "experts": experts,
        "recused": sum(len(p.excluded) for p in inp.panels),
        "shortfalls": panel_shortfalls(session, draw, picks),
    }
