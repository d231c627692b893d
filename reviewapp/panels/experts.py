"""The expert pool: profiles with employment history and declared relations, Excel import, bulk accounts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from reviewapp import audit, crypto
from reviewapp.applications.models import INDUSTRY_GROUPS
from reviewapp.applications.rules import credit_code_problem, normalise_credit_code
from reviewapp.audit import Actor
from reviewapp.auth import service as accounts
from reviewapp.auth.models import Role, User
from reviewapp.clock import utcnow
from reviewapp.errors import Conflict as StaleEdit
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import SheetTable, normalise_text, read_table
from reviewapp.panels import rules
from reviewapp.panels.conflicts import refresh_conflicts_for_experts
from reviewapp.panels.models import RELATION_KINDS, Expert, ExpertEmployment, ExpertRelation
from reviewapp.panels.service import get_expert
from reviewapp.settings import Settings

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


def _apply_profile(expert: Expert, values: dict[str, Any]) -> None:
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
    _apply_profile(expert, clean)
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
    _apply_profile(expert, clean)
    _touch(expert)
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


def _touch(expert: Expert) -> None:
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
    _touch(expert)
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
    _touch(expert)
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
    _touch(expert)
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
    _touch(expert)
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


# --- bulk accounts --------------------------------------------------------------------------------

USERNAME_SCHEME = "e + 5 位专家编号（例如编号 12 的专家为 e00012）"


def username_for(expert_id: int) -> str:
    """Pinyin-free and stable: staff can tell an expert their user name from the pool list alone."""
    return f"e{expert_id:05d}"


@dataclass
class IssuedAccount:
    expert: Expert
    user: User
    password: str


def create_accounts(
    session: Session, *, actor: Actor, expert_ids: list[int], settings: Settings
) -> tuple[list[IssuedAccount], list[str]]:
    """Create expert accounts with one-time passwords (must be changed at first login).

    Returns the issued accounts — the only place the passwords ever exist in clear — and notes on the experts
    skipped. The audit log gets each account (without its password) and one summary entry.
    """
    if not expert_ids:
        raise ServiceError("请先勾选需要创建账号的专家。")
    issued: list[IssuedAccount] = []
    skipped: list[str] = []
    experts = list(session.exec(select(Expert).where(col(Expert.id).in_(sorted(set(expert_ids)))).order_by(Expert.id)))
    for expert in experts:
        if expert.user_id is not None:
            skipped.append(f"{expert.name}：已有账号")
            continue
        if not expert.active:
            skipped.append(f"{expert.name}：已停用")
            continue
        base = username_for(expert.id)  # type: ignore[arg-type]
        username, n = base, 1
        while accounts.find_user(session, username) is not None:
            n += 1
            username = f"{base}-{n}"
        password = accounts.one_time_password(session, settings)  # meets the security policy
        user = accounts.create_user(
            session,
            actor=actor,
            username=username,
            display_name=expert.name,
            role=Role.expert,
            password=password,
            must_change_password=True,
            settings=settings,
        )
        expert.user_id = user.id
        _touch(expert)
        session.add(expert)
        issued.append(IssuedAccount(expert=expert, user=user, password=password))
    session.flush()
    if not issued:
        raise ServiceError("所选专家均无需创建账号（" + "；".join(skipped) + "）。")
    audit.record(
        session,
        actor=actor,
        action="expert.accounts",
        entity_type="expert",
        entity_id=",".join(str(a.expert.id) for a in issued)[:64],
        summary=f"为 {len(issued)} 位专家创建账号并生成一次性密码（首次登录须修改）："
        + "、".join(f"{a.expert.name}（{a.user.username}）" for a in issued),
        after={"accounts": {str(a.expert.id): a.user.username for a in issued}, "skipped": skipped},
    )
    return issued, skipped


# --- Excel import ---------------------------------------------------------------------------------

EXPERT_SHEET = "专家信息"
EMPLOYMENT_SHEET = "工作经历"
RELATION_SHEET = "利害关系"

EXPERT_COLUMNS: dict[str, tuple[str, ...]] = {
    "姓名": ("专家姓名",),
    "身份证号后四位": ("身份证后四位", "证件号码后四位", "身份证号码后四位"),
    "工作单位": ("单位", "所在单位", "工作单位名称", "单位名称"),
    "单位统一社会信用代码": ("统一社会信用代码", "单位信用代码", "工作单位统一社会信用代码"),
    "职称": ("职务/职称", "职称/职务", "职务"),
    "专业领域": ("专业领域（所属行业）", "所属行业", "擅长行业", "专业领域(所属行业)"),
    "所在地市": ("地市", "所在城市", "城市", "所在市"),
    "手机号码": ("手机", "联系电话", "电话", "手机号"),
    "电子邮箱": ("邮箱", "电子邮件", "Email", "E-mail"),
}
EMPLOYMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "姓名": ("专家姓名",),
    "身份证号后四位": EXPERT_COLUMNS["身份证号后四位"],
    "工作单位": ("单位", "单位名称", "任职单位"),
    "统一社会信用代码": ("单位统一社会信用代码", "信用代码"),
    "起始年月": ("起始时间", "开始年月", "开始时间", "起始日期"),
    "截止年月": ("截止时间", "结束年月", "结束时间", "截止日期"),
}
RELATION_COLUMNS: dict[str, tuple[str, ...]] = {
    "姓名": ("专家姓名",),
    "身份证号后四位": EXPERT_COLUMNS["身份证号后四位"],
    "相关企业名称": ("企业名称", "相关单位名称", "单位名称"),
    "统一社会信用代码": ("企业统一社会信用代码", "信用代码"),
    "关系类型": ("关系", "利害关系类型"),
    "起始日期": ("起始时间", "开始日期", "开始时间"),
    "截止日期": ("截止时间", "结束日期", "结束时间"),
    "说明": ("备注", "情况说明"),
}


@dataclass(frozen=True)
class ImportProblem:
    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"「{self.sheet}」第 {self.row} 行" if self.row else f"「{self.sheet}」"
        return f"{where}{('「' + self.column + '」') if self.column else ''}：{self.message}"


@dataclass
class ImportedExpert:
    row: int
    profile: dict[str, Any]
    employments: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    existing_id: int | None = None


@dataclass
class ImportPreview:
    experts: list[ImportedExpert]
    problems: list[ImportProblem]
    has_employment_sheet: bool
    has_relation_sheet: bool
    sha256: str

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.experts)

    @property
    def new_count(self) -> int:
        return sum(1 for e in self.experts if e.existing_id is None)

    @property
    def update_count(self) -> int:
        return sum(1 for e in self.experts if e.existing_id is not None)


def _period(value: str, *, end: bool) -> date | None:
    if not value or (end and value in rules.STILL_THERE):
        return None
    return rules.parse_period(value, end_of_month=end)


def parse_expert_workbook(session: Session, data: bytes) -> ImportPreview:
    """Read the import workbook and check every row; nothing is written. Raises ExcelReadError for a file that
    cannot be read at all.

    Layout: first sheet 「专家信息」 (one row per expert); optional sheets 「工作经历」 and 「利害关系」 (one row per
    entry, naming the expert by 姓名 + 身份证号后四位). Experts are matched to the pool on that same pair.
    """
    main = read_table(data, columns=EXPERT_COLUMNS, required=("姓名", "工作单位"))
    jobs = read_table(
        data, columns=EMPLOYMENT_COLUMNS, required=("姓名", "工作单位"), sheet=EMPLOYMENT_SHEET, sheet_optional=True
    )
    rels = read_table(
        data,
        columns=RELATION_COLUMNS,
        required=("姓名", "相关企业名称", "关系类型"),
        sheet=RELATION_SHEET,
        sheet_optional=True,
    )
    problems: list[ImportProblem] = []
    experts: list[ImportedExpert] = []
    by_key: dict[tuple[str, str], ImportedExpert] = {}
    sheet_name = EXPERT_SHEET
    for row in main.rows:
        v = row.values
        if v.get("姓名", "").startswith(("注", "说明", "填表说明")) and not v.get("工作单位"):
            continue  # a footnote line under the table
        profile, issues = clean_profile(
            {
                "name": v.get("姓名"),
                "id_number_hint": v.get("身份证号后四位"),
                "employer": v.get("工作单位"),
                "employer_credit_code": v.get("单位统一社会信用代码"),
                "title": v.get("职称"),
                "specialties": rules.split_specialties(v.get("专业领域", "")),
                "city": v.get("所在地市"),
                "phone": v.get("手机号码"),
                "email": v.get("电子邮箱"),
                "active": True,
            }
        )
        for key, message in issues.items():
            problems.append(ImportProblem(sheet_name, row.number, _COLUMN_OF[key], message))
        key = (profile["name"], profile["id_number_hint"])
        if key in by_key:
            problems.append(
                ImportProblem(
                    sheet_name,
                    row.number,
                    "姓名",
                    f"与第 {by_key[key].row} 行是同一位专家（姓名和身份证号后四位相同）。",
                )
            )
            continue
        item = ImportedExpert(row=row.number, profile=profile)
        if not issues:
            existing = find_namesake(session, name=profile["name"], id_number_hint=profile["id_number_hint"])
            item.existing_id = existing.id if existing else None
            if existing is not None:
                profile["active"] = existing.active  # the import does not re-activate a disabled expert
        by_key[key] = item
        experts.append(item)
    if not main.rows:
        problems.append(ImportProblem(sheet_name, 0, "", "表中没有专家数据。"))

    _collect_entries(jobs, EMPLOYMENT_SHEET, by_key, problems, _employment_entry, "employments")
    _collect_entries(rels, RELATION_SHEET, by_key, problems, _relation_entry, "relations")
    return ImportPreview(
        experts=experts,
        problems=problems,
        has_employment_sheet=jobs.present,
        has_relation_sheet=rels.present,
        sha256=hashlib.sha256(data).hexdigest(),
    )


_COLUMN_OF = {
    "name": "姓名",
    "id_number_hint": "身份证号后四位",
    "employer": "工作单位",
    "employer_credit_code": "单位统一社会信用代码",
    "title": "职称",
    "specialties": "专业领域",
    "city": "所在地市",
    "phone": "手机号码",
    "email": "电子邮箱",
}


def _collect_entries(table: SheetTable, sheet: str, by_key, problems, build, attr) -> None:  # type: ignore[no-untyped-def]
    for row in table.rows:
        v = row.values
        key = (v.get("姓名", ""), v.get("身份证号后四位", "").upper())
        owner = by_key.get(key)
        if owner is None:
            problems.append(
                ImportProblem(
                    sheet,
                    row.number,
                    "姓名",
                    f"在「{EXPERT_SHEET}」工作表中找不到这位专家（按姓名和身份证号后四位对应）。",
                )
            )
            continue
        entry, issues = build(v)
        problems.extend(ImportProblem(sheet, row.number, column, message) for column, message in issues)
        if not issues:
            getattr(owner, attr).append(entry)


def _org_issues(name: str, code: str, name_column: str, code_column: str) -> list[tuple[str, str]]:
    issues: list[tuple[str, str]] = []
    if not name:
        issues.append((name_column, "不能为空。"))
    elif len(name) > 200:
        issues.append((name_column, "不能超过 200 个字符。"))
    if code:
        problem = credit_code_problem(code)
        if problem:
            issues.append((code_column, problem))
    return issues


def _dates(
    v: dict[str, str], start_col: str, end_col: str, *, month_end: bool
) -> tuple[date | None, date | None, list[tuple[str, str]]]:
    issues: list[tuple[str, str]] = []
    start = end = None
    try:
        start = _period(v.get(start_col, ""), end=False)
    except ValueError:
        issues.append((start_col, f"无法识别的日期「{v.get(start_col)}」，请写成 2023-05 或 2023-05-01。"))
    raw_end = v.get(end_col, "")
    try:
        end = _period(raw_end, end=True) if month_end or raw_end in rules.STILL_THERE else _period(raw_end, end=False)
    except ValueError:
        issues.append((end_col, f"无法识别的日期「{raw_end}」，请写成 2023-05、2023-05-31 或“至今”。"))
    if start and end and end < start:
        issues.append((end_col, "截止时间早于起始时间。"))
    return start, end, issues


def _employment_entry(v: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    name, code = v.get("工作单位", ""), normalise_credit_code(v.get("统一社会信用代码"))
    issues = _org_issues(name, code, "工作单位", "统一社会信用代码")
    start, end, date_issues = _dates(v, "起始年月", "截止年月", month_end=True)
    return {"employer": name, "credit_code": code, "start": start, "end": end}, issues + date_issues


def _relation_entry(v: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    name, code = v.get("相关企业名称", ""), normalise_credit_code(v.get("统一社会信用代码"))
    issues = _org_issues(name, code, "相关企业名称", "统一社会信用代码")
    relation = v.get("关系类型", "")
    if relation not in RELATION_KINDS:
        issues.append(("关系类型", f"「{relation}」无效，应为：{'、'.join(RELATION_KINDS)}。"))
    since, until, date_issues = _dates(v, "起始日期", "截止日期", month_end=False)
    note = v.get("说明", "")[:500]
    return {
        "enterprise_name": name,
        "credit_code": code,
        "relation": relation,
        "since": since,
        "until": until,
        "note": note,
    }, issues + date_issues


@dataclass(frozen=True)
class ImportOutcome:
    created: int
    updated: int
    unchanged: int


def apply_expert_import(session: Session, *, actor: Actor, preview: ImportPreview, today: date) -> ImportOutcome:
    """All or nothing: refuses a preview with any problem. Matching experts are updated in place; when the file
    has a 工作经历 / 利害关系 sheet, each listed expert's entries are replaced by the file's (so re-importing the
    same file changes nothing)."""
    if not preview.ok:
        raise ServiceError(f"文件中有 {len(preview.problems)} 处错误，未导入任何数据。请修改后重新上传。")
    created: list[str] = []
    updated: list[str] = []
    unchanged = 0
    touched: list[int] = []
    for item in preview.experts:
        profile = item.profile
        expert = session.get(Expert, item.existing_id) if item.existing_id else None
        expert = expert or find_namesake(session, name=profile["name"], id_number_hint=profile["id_number_hint"])
        is_new = expert is None
        if expert is None:
            expert = Expert(name=profile["name"])
        profile_changed = is_new or profile_of(expert) != profile
        if profile_changed:
            _apply_profile(expert, profile)
        session.add(expert)
        session.flush()
        entries_changed = False
        if preview.has_employment_sheet:
            entries_changed |= _replace_employments(session, expert.id, item.employments)  # type: ignore[arg-type]
        if preview.has_relation_sheet:
            entries_changed |= _replace_relations(session, expert.id, item.relations)  # type: ignore[arg-type]
        if is_new:
            created.append(expert.name)
        elif profile_changed or entries_changed:
            _touch(expert)
            session.add(expert)
            updated.append(expert.name)
        else:
            unchanged += 1
        if is_new or profile_changed or entries_changed:
            touched.append(expert.id)  # type: ignore[arg-type]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="expert.import",
        entity_type="expert",
        entity_id=f"导入{preview.sha256[:12]}",
        summary=f"导入专家：新增 {len(created)} 位，更新 {len(updated)} 位，未变化 {unchanged} 位",
        after={"created": created, "updated": updated, "unchanged": unchanged, "file_sha256": preview.sha256},
    )
    if touched:
        refresh_conflicts_for_experts(session, actor=actor, expert_ids=touched, today=today)
    return ImportOutcome(created=len(created), updated=len(updated), unchanged=unchanged)


def _replace_employments(session: Session, expert_id: int, entries: list[dict[str, Any]]) -> bool:
    current = [(j.employer, j.credit_code, j.start, j.end) for j in employments_of(session, expert_id)]
    wanted = [(e["employer"], e["credit_code"], e["start"], e["end"]) for e in entries]
    if current == wanted:
        return False
    session.exec(delete(ExpertEmployment).where(ExpertEmployment.expert_id == expert_id))  # type: ignore[call-overload]
    for e in entries:
        session.add(ExpertEmployment(expert_id=expert_id, **e))
    return True


def _replace_relations(session: Session, expert_id: int, entries: list[dict[str, Any]]) -> bool:
    keys = ("enterprise_name", "credit_code", "relation", "since", "until", "note")
    current = [tuple(getattr(r, k) for k in keys) for r in relations_of(session, expert_id)]
    wanted = [tuple(e[k] for k in keys) for e in entries]
    if current == wanted:
        return False
    session.exec(delete(ExpertRelation).where(ExpertRelation.expert_id == expert_id))  # type: ignore[call-overload]
    for e in entries:
        session.add(ExpertRelation(expert_id=expert_id, **e))
    return True


def import_template_bytes() -> bytes:
    """An empty workbook with the three sheets and one example row each, for offices to fill in."""
    import io

    from openpyxl import Workbook

    from reviewapp.excel import Column, write_sheet

    wb = Workbook()
    ws = wb.active
    ws.title = EXPERT_SHEET
    write_sheet(
        ws,
        title="评审专家信息表",
        columns=[
            Column(name, 16 if name not in {"工作单位", "单位统一社会信用代码"} else 26)
            for name in ["序号", *EXPERT_COLUMNS]
        ],
        rows=[
            [
                1,
                "张伟",
                "1234",
                "山东省智能制造研究院",
                "",
                "正高级工程师",
                "装备制造、电子信息",
                "济南市",
                "13800000000",
                "zhangwei@example.cn",
            ]
        ],
    )
    write_sheet(
        wb.create_sheet(EMPLOYMENT_SHEET),
        title="专家工作经历（每段经历一行；截止年月留空或填“至今”表示仍在职）",
        columns=[Column(name, 22) for name in EMPLOYMENT_COLUMNS],
        rows=[["张伟", "1234", "浪潮集团有限公司", "", "2015-07", "2021-06"]],
    )
    write_sheet(
        wb.create_sheet(RELATION_SHEET),
        title=f"专家利害关系（关系类型：{'、'.join(RELATION_KINDS)}）",
        columns=[Column(name, 20) for name in RELATION_COLUMNS],
        rows=[["张伟", "1234", "济南某机械有限公司", "", "亲属任职", "2020-01-01", "", "配偶在该公司任财务经理"]],
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
