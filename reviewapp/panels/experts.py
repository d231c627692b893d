"""The expert pool: profiles with employment history and declared relations (bulk work: expert_import.py)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from reviewapp import audit, crypto
from reviewapp.applications.models import INDUSTRY_GROUPS
from reviewapp.applications.rules import credit_code_problem, normalise_credit_code
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import normalise_text
from reviewapp.panels import rules
from reviewapp.panels.conflicts import refresh_conflicts_for_experts
from reviewapp.panels.models import RELATION_KINDS, Expert, ExpertEmployment, ExpertRelation
from reviewapp.panels.service import get_expert

audit.register_labels(
    actions={
        "expert.create": "新增专家",
        "expert.update": "修改专家信息",
        "expert.employment_add": "添加专家工作经历",
        "expert.employment_delete": "删除专家工作经历",
        "expert.relation_add": "登记专家利害关系",
        "expert.relation_delete": "删除专家利害关系",
        "expert.import": "导入专家",
        "expert.accounts": "批量创建专家账号",
    },
    entities={"expert": "专家"},
)

PROFILE_KEYS = (
    "name",
    "id_number_hint",
    "employer",
    "employer_credit_code",
    "title",
    "specialties",
    "city",
    "phone",
    "email",
    "active",
)


def specialties_of(expert: Expert) -> list[str]:
    return list(json.loads(expert.specialties_json or "[]"))


def clean_profile(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Normalise a profile (from the form or an Excel row) and say what is wrong with it, field by field."""
    out = {
        "name": normalise_text(values.get("name")),
        "id_number_hint": normalise_text(values.get("id_number_hint")).upper(),
        "employer": normalise_text(values.get("employer")),
        "employer_credit_code": normalise_credit_code(values.get("employer_credit_code")),
        "title": normalise_text(values.get("title")),
        "specialties": [s for s in values.get("specialties") or [] if s],
        "city": normalise_text(values.get("city")),
        "phone": normalise_text(values.get("phone")),
        "email": normalise_text(values.get("email")).lower(),
        "active": bool(values.get("active", True)),
    }
    problems: dict[str, str] = {}
    if not out["name"]:
        problems["name"] = "请填写姓名。"
    elif len(out["name"]) > 64:
        problems["name"] = "姓名不能超过 64 个字符。"
    if not out["employer"]:
        problems["employer"] = "请填写工作单位。"
    elif len(out["employer"]) > 200:
        problems["employer"] = "工作单位不能超过 200 个字符。"
    if out["employer_credit_code"]:
        problem = credit_code_problem(out["employer_credit_code"])
        if problem:
            problems["employer_credit_code"] = problem
    bad = [s for s in out["specialties"] if s not in INDUSTRY_GROUPS]
    if bad:
        problems["specialties"] = f"专业领域「{'、'.join(bad)}」无效，应为：{'、'.join(INDUSTRY_GROUPS)}。"
    for key, limit in (("title", 64), ("city", 32), ("phone", 32), ("email", 120)):
        if len(out[key]) > limit:
            problems[key] = f"不能超过 {limit} 个字符。"
    for key, message in rules.contact_problems(
        phone=out["phone"], email=out["email"], id_number_hint=out["id_number_hint"]
    ).items():
        problems.setdefault(key, message)
    return out, problems


def profile_of(expert: Expert) -> dict[str, Any]:
    return {
        "name": expert.name,
        "id_number_hint": expert.id_number_hint,
        "employer": expert.employer,
        "employer_credit_code": expert.employer_credit_code,
        "title": expert.title,
        "specialties": specialties_of(expert),
        "city": expert.city,
        "phone": expert.phone,
        "email": expert.email,
        "active": expert.active,
    }


def apply_profile(expert: Expert, values: dict[str, Any]) -> None:
    for key in PROFILE_KEYS:
        if key == "specialties":
            expert.specialties_json = json.dumps(values["specialties"], ensure_ascii=False)
        else:
            setattr(expert, key, values[key])


def find_namesake(session: Session, *, name: str, id_number_hint: str, exclude_id: int | None = None) -> Expert | None:
    """Experts are told apart by name plus the last four ID digits; the import matches on the same pair."""
    stmt = select(Expert).where(
        Expert.name == name, crypto.equals_query(Expert.id_number_hint, Expert.id_number_hint_index, id_number_hint)
    )
    if exclude_id is not None:
        stmt = stmt.where(Expert.id != exclude_id)
    return session.exec(stmt).first()


NAMESAKE = "专家库中已有同名专家（身份证号后四位也相同）。如是不同的人，请填写身份证号后四位加以区分。"


def create_expert(session: Session, *, actor: Actor, values: dict[str, Any]) -> Expert:
    clean, problems = clean_profile(values)
    if problems:
        key, message = next(iter(problems.items()))
        raise ServiceError(message, field=key)
    if find_namesake(session, name=clean["name"], id_number_hint=clean["id_number_hint"]):
        raise ServiceError(NAMESAKE, field="name")
    expert = Expert(name=clean["name"])
    apply_profile(expert, clean)
    session.add(expert)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="expert.create",
        entity_type="expert",
        entity_id=expert.id,
        summary=f"新增专家 {expert.name}（{expert.employer}）",
        after=_audit_view(clean),
    )
    return expert


def _audit_view(values: dict[str, Any]) -> dict[str, Any]:
    """Contact details and ID digits are personal data: the audit log notes that they changed, not what they are
    (under 国密 they are encrypted in their own columns; the audit log is read by more people)."""
    view = dict(values)
    for key in ("phone", "email", "id_number_hint"):
        if view.get(key):
            view[key] = "（已填写）"
    return view


def update_expert(
    session: Session, *, actor: Actor, expert_id: int, values: dict[str, Any], row_version: int, today: date
) -> Expert:
    expert = get_expert(session, expert_id)
    if expert.row_version != row_version:
        raise StaleEdit("该专家的信息已被他人修改，请刷新后重试。")
    clean, problems = clean_profile(values)
    if problems:
        key, message = next(iter(problems.items()))
        raise ServiceError(message, field=key)
    if find_namesake(session, name=clean["name"], id_number_hint=clean["id_number_hint"], exclude_id=expert.id):
        raise ServiceError(NAMESAKE, field="name")
    before = profile_of(expert)
    if before == clean:
        return expert
    apply_profile(expert, clean)
    touch(expert)
    session.add(expert)
    session.flush()
    changed = [k for k in PROFILE_KEYS if before[k] != clean[k]]
    audit.record(
        session,
        actor=actor,
        action="expert.update",
        entity_type="expert",
        entity_id=expert.id,
        summary=f"修改专家 {expert.name} 的信息（{'、'.join(FIELD_LABELS[k] for k in changed)}）",
        before=_audit_view({k: before[k] for k in changed}),
        after=_audit_view({k: clean[k] for k in changed}),
    )
    refresh_conflicts_for_experts(session, actor=actor, expert_ids=[expert.id], today=today)  # type: ignore[list-item]
    return expert


FIELD_LABELS = {
    "name": "姓名",
    "id_number_hint": "身份证号后四位",
    "employer": "工作单位",
    "employer_credit_code": "单位统一社会信用代码",
    "title": "职称",
    "specialties": "专业领域",
    "city": "所在地市",
    "phone": "手机号码",
    "email": "电子邮箱",
    "active": "状态",
}


def touch(expert: Expert) -> None:
    expert.updated_at = utcnow()
    expert.row_version += 1


def _check_org(name: str, code: str, *, name_field: str, code_field: str, what: str) -> tuple[str, str]:
    name, code = normalise_text(name), normalise_credit_code(code)
    if not name:
        raise ServiceError(f"请填写{what}。", field=name_field)
    if len(name) > 200:
        raise ServiceError(f"{what}不能超过 200 个字符。", field=name_field)
    if code:
        problem = credit_code_problem(code)
        if problem:
            raise ServiceError(problem, field=code_field)
    return name, code


def add_employment(
    session: Session,
    *,
    actor: Actor,
    expert_id: int,
    employer: str,
    credit_code: str,
    start: date | None,
    end: date | None,
    today: date,
) -> ExpertEmployment:
    expert = get_expert(session, expert_id)
    employer, credit_code = _check_org(
        employer, credit_code, name_field="employer", code_field="credit_code", what="工作单位"
    )
    if start and end and end < start:
        raise ServiceError("截止时间不能早于起始时间。", field="end")
    job = ExpertEmployment(expert_id=expert_id, employer=employer, credit_code=credit_code, start=start, end=end)
    session.add(job)
    touch(expert)
    session.add(expert)
    session.flush()
    period = f"{start.isoformat() if start else '?'} 至 {end.isoformat() if end else '今'}"
    audit.record(
        session,
        actor=actor,
        action="expert.employment_add",
        entity_type="expert",
        entity_id=expert_id,
        summary=f"为 {expert.name} 添加工作经历：{employer}（{period}）",
        after={"employer": employer, "credit_code": credit_code, "start": start, "end": end},
    )
    refresh_conflicts_for_experts(session, actor=actor, expert_ids=[expert_id], today=today)
    return job


def delete_employment(session: Session, *, actor: Actor, expert_id: int, employment_id: int, today: date) -> None:
    expert = get_expert(session, expert_id)
    job = session.get(ExpertEmployment, employment_id)
    if job is None or job.expert_id != expert_id:
        raise NotFound("未找到该工作经历。")
    session.delete(job)
    touch(expert)
    session.add(expert)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="expert.employment_delete",
        entity_type="expert",
        entity_id=expert_id,
        summary=f"删除 {expert.name} 的工作经历：{job.employer}",
        before={"employer": job.employer, "credit_code": job.credit_code, "start": job.start, "end": job.end},
    )
    refresh_conflicts_for_experts(session, actor=actor, expert_ids=[expert_id], today=today)


def add_relation(
    session: Session,
    *,
    actor: Actor,
    expert_id: int,
    enterprise_name: str,
    credit_code: str,
    relation: str,
    since: date | None,
    until: date | None,
    note: str,
    today: date,
) -> ExpertRelation:
    expert = get_expert(session, expert_id)
    enterprise_name, credit_code = _check_org(
        enterprise_name, credit_code, name_field="enterprise_name", code_field="credit_code", what="相关企业名称"
    )
    if relation not in RELATION_KINDS:
        raise ServiceError(f"关系类型应为：{'、'.join(RELATION_KINDS)}。", field="relation")
    if since and until and until < since:
        raise ServiceError("截止日期不能早于起始日期。", field="until")
    note = normalise_text(note)[:500]
    row = ExpertRelation(
        expert_id=expert_id,
        enterprise_name=enterprise_name,
        credit_code=credit_code,
        relation=relation,
        since=since,
        until=until,
        note=note,
    )
    session.add(row)
    touch(expert)
    session.add(expert)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="expert.relation_add",
        entity_type="expert",
        entity_id=expert_id,
        summary=f"为 {expert.name} 登记利害关系：{relation}，涉及{enterprise_name}",
        after={
            "enterprise_name": enterprise_name,
            "credit_code": credit_code,
            "relation": relation,
            "since": since,
            "until": until,
        },
    )
    refresh_conflicts_for_experts(session, actor=actor, expert_ids=[expert_id], today=today)
    return row


def delete_relation(session: Session, *, actor: Actor, expert_id: int, relation_id: int, today: date) -> None:
    expert = get_expert(session, expert_id)
    row = session.get(ExpertRelation, relation_id)
    if row is None or row.expert_id != expert_id:
        raise NotFound("未找到该利害关系。")
    session.delete(row)
    touch(expert)
    session.add(expert)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="expert.relation_delete",
        entity_type="expert",
        entity_id=expert_id,
        summary=f"删除 {expert.name} 登记的利害关系：{row.relation}，涉及{row.enterprise_name}",
        before={
            "enterprise_name": row.enterprise_name,
            "relation": row.relation,
            "since": row.since,
            "until": row.until,
        },
    )
    refresh_conflicts_for_experts(session, actor=actor, expert_ids=[expert_id], today=today)


def employments_of(session: Session, expert_id: int) -> list[ExpertEmployment]:
    """In the order entered (or listed in the import file)."""
    return list(
        session.exec(
            select(ExpertEmployment).where(ExpertEmployment.expert_id == expert_id).order_by(ExpertEmployment.id)
        )
    )


def relations_of(session: Session, expert_id: int) -> list[ExpertRelation]:
    return list(
        session.exec(select(ExpertRelation).where(ExpertRelation.expert_id == expert_id).order_by(ExpertRelation.id))
    )


def list_experts_query(*, q: str = "", specialty: str = "", city: str = "", account: str = "", status: str = ""):  # type: ignore[no-untyped-def]
    stmt = select(Expert)
    if q:
        like = f"%{q.strip()[:64]}%"
        stmt = stmt.where(
            or_(
                col(Expert.name).like(like),
                col(Expert.employer).like(like),
                col(Expert.title).like(like),
                crypto.contains_query(col(Expert.phone), Expert.phone_index, q.strip()[:64]),
                col(Expert.email).like(like),
            )
        )
    if specialty:
        # specialties_json is a JSON list of short Chinese words: a quoted substring match is exact enough.
        stmt = stmt.where(col(Expert.specialties_json).like(f'%"{specialty}"%'))
    if city:
        stmt = stmt.where(Expert.city == city)
    if account == "yes":
        stmt = stmt.where(col(Expert.user_id).is_not(None))
    elif account == "no":
        stmt = stmt.where(col(Expert.user_id).is_(None))
    if status == "active":
        stmt = stmt.where(Expert.active == True)  # noqa: E712
    elif status == "inactive":
        stmt = stmt.where(Expert.active == False)  # noqa: E712
    return stmt.order_by(Expert.name, Expert.id)


def expert_cities(session: Session) -> list[str]:
    return [c for c in session.exec(select(Expert.city).distinct().order_by(Expert.city)) if c]
