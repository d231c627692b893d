"""The expert pool in bulk: the Excel import (preview, then all or nothing) and expert accounts with one-time
passwords. Single experts, their employments and relations live in panels/experts.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from reviewapp import audit
from reviewapp.applications.rules import credit_code_problem, normalise_credit_code
from reviewapp.audit import Actor
from reviewapp.auth import service as accounts
from reviewapp.auth.models import Role, User
from reviewapp.errors import ServiceError
from reviewapp.excel import SheetTable, read_table
from reviewapp.panels import rules
from reviewapp.panels.conflicts import refresh_conflicts_for_experts
from reviewapp.panels.experts import (
    apply_profile,
    clean_profile,
    employments_of,
    find_namesake,
    profile_of,
    relations_of,
    touch,
)
from reviewapp.panels.models import RELATION_KINDS, Expert, ExpertEmployment, ExpertRelation
from reviewapp.settings import Settings

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
        touch(expert)
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
            apply_profile(expert, profile)
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
            touch(expert)
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
