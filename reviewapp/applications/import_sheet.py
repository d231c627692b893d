"""The applications Excel sheet: its columns, parsing and checking rows without a database, and the blank template."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from reviewapp.applications import rules
from reviewapp.applications.models import (
    ENTERPRISE_NATURES,
    ENTERPRISE_SIZES,
    INDUSTRY_GROUPS,
    PartyRole,
)
from reviewapp.excel import Column, ExcelReadError, read_table, write_sheet
from reviewapp.rounds.models import TIER_LABELS, Round, Scenario, Tier

# Canonical column → other header spellings seen in provincial files (compared loosely by read_table).
COLUMNS: dict[str, tuple[str, ...]] = {
    "序号": ("编号",),
    "企业名称": ("申报单位", "申报单位名称", "企业（单位）名称", "申报企业名称"),
    "工厂名称": ("智能工厂名称", "工厂（车间）名称"),
    "能力成熟度自评得分": (
        "能力成熟度自评估得分", "成熟度自评得分", "自评得分", "智能制造能力成熟度自评得分", "智能制造能力成熟度自评估得分",
    ),
    "能力成熟度自评等级": ("自评等级", "成熟度等级", "能力成熟度等级", "自评级别", "智能制造能力成熟度等级", "成熟度自评等级"),
    "工厂级别": ("工厂级别（基础级、先进级）", "申报级别", "申报层级"),
    "所属行业": (),
    "企业性质": (),
    "企业类型": ("企业规模",),
    "行业中类": ("行业分类中类", "国民经济行业中类", "中类"),
    "行业小类": ("行业分类小类", "国民经济行业小类", "小类"),
    "智能制造典型场景": (
        "智能制造典型场景（列举场景名称）", "智能制造典型场景（名称）", "典型场景", "场景名称", "智能制造典型场景名称",
    ),
    "统一社会信用代码": ("企业统一社会信用代码", "社会信用代码", "信用代码"),
    "所在地市": ("地市", "所属地市", "所在城市", "城市", "所属市"),
    "项目名称": ("申报项目名称",),
    "解决方案供应商": ("系统解决方案供应商", "解决方案供应商名称", "系统解决方案供应商名称"),
    "解决方案供应商统一社会信用代码": (
        "供应商统一社会信用代码", "解决方案供应商信用代码", "系统解决方案供应商统一社会信用代码",
    ),
    "咨询服务机构": ("咨询机构", "咨询服务机构名称"),
    "咨询服务机构统一社会信用代码": ("咨询机构统一社会信用代码",),
    "联系人": ("企业联系人",),
    "联系电话": ("联系方式", "手机", "联系人电话", "联系人手机"),
    "是否规上企业": ("规上企业", "是否规模以上工业企业", "是否规模以上企业"),
    "集团名称": ("所属集团", "所属集团名称"),
    "是否分支机构": ("分支机构",),
    "分支机构所属行业": (),
    "近三年是否发生较大及以上事故": ("是否发生较大及以上事故", "是否发生较大以上事故"),
    "是否列入严重失信主体名单": ("是否严重失信主体", "严重失信主体"),
}  # fmt: skip


REQUIRED_COLUMNS = ("企业名称", "工厂名称", "智能制造典型场景")


# Columns that must have a value on every row once the file has them.
_REQUIRED_WHEN_PRESENT = ("能力成熟度自评得分", "工厂级别", "所属行业", "企业性质", "企业类型", "行业中类", "行业小类")


_YES_NO_COLUMNS = {
    "是否规上企业": ("enterprise", "above_designated_size"),
    "是否分支机构": ("application", "is_branch"),
    "近三年是否发生较大及以上事故": ("application", "major_accident"),
    "是否列入严重失信主体名单": ("application", "serious_dishonesty"),
}


_TEXT_COLUMNS = {  # column → (target, field, max length)
    "所在地市": ("enterprise", "city", 32),
    "集团名称": ("enterprise", "group_name", 200),
    "项目名称": ("application", "project_name", 200),
    "联系人": ("application", "contact_name", 64),
    "联系电话": ("application", "contact_phone", 64),
    "分支机构所属行业": ("application", "branch_industry", 32),
}


_CITY_RE = re.compile(r"([\u4e00-\u9fff]{2,8}?(?:市|自治州|州|盟|地区))")


@dataclass
class Problem:
    row: int  # the Excel row number (0: the file as a whole)
    column: str
    message: str
    level: str = "error"  # "error" blocks the import; "warning" is shown and imported

    @property
    def is_error(self) -> bool:
        return self.level == "error"


@dataclass
class RowResult:
    number: int
    enterprise: dict[str, Any]
    application: dict[str, Any]
    scenarios: list[tuple[str, int | None, str]]  # (name, catalogue id or None, 环节)
    parties: list[tuple[str, str, str]] | None  # (role, name, credit code); None: the file has no party columns
    problems: list[Problem] = field(default_factory=list)
    action: str = ""  # create | update | unchanged
    enterprise_id: int | None = None
    application_id: int | None = None

    @property
    def has_error(self) -> bool:
        return any(p.is_error for p in self.problems)

    @property
    def key(self) -> tuple[str, str]:
        code = self.enterprise.get("credit_code")
        return (code or "名称:" + self.enterprise["name"], self.application["factory_name"])


@dataclass
class Reference:
    round: Round
    catalogue: dict[str, tuple[int, str, str]]  # scenario_key → (id, catalogue spelling, 环节)
    divisions: set[str]  # GB/T 4754 大类 codes
    bands: list[rules.LevelBand]


def _clean_name(text: str) -> str:
    """Names pasted from Word or PDF carry line breaks and doubled spaces."""
    return re.sub(r"\s+", " ", text.replace("\n", "").replace("\r", "")).strip()


def city_from_unit_line(unit_line: str) -> str:
    """「报送单位（盖章）：青岛市工业和信息化局」 → 青岛市 (used when the file has no 所在地市 column)."""
    _, _, unit = unit_line.partition("：") if "：" in unit_line else unit_line.partition(":")
    match = _CITY_RE.search(unit)
    return match.group(1) if match else ""


def parse_row(number: int, values: dict[str, str], ref: Reference, *, default_city: str = "") -> RowResult:
    """Turn one sheet row into field values and the problems found in it (row number and column named)."""
    problems: list[Problem] = []

    def error(column: str, message: str) -> None:
        problems.append(Problem(number, column, message))

    def warn(column: str, message: str) -> None:
        problems.append(Problem(number, column, message, "warning"))

    ent: dict[str, Any] = {}
    app: dict[str, Any] = {}
    name = _clean_name(values.get("企业名称", ""))
    factory = _clean_name(values.get("工厂名称", ""))
    for column, text, limit in (("企业名称", name, 200), ("工厂名称", factory, 200)):
        if not text:
            error(column, f"「{column}」为必填项。")
        elif len(text) > limit:
            error(column, f"「{column}」不能超过 {limit} 个字符。")
    ent["name"], app["factory_name"] = name, factory

    serial = values.get("序号", "")
    app["serial"] = int(serial) if serial.isdigit() else None

    if "统一社会信用代码" in values:
        raw = values["统一社会信用代码"]
        if raw:
            code, problem = rules.check_credit_code(raw)
            if problem:
                error("统一社会信用代码", problem)
            ent["credit_code"] = code
        else:
            warn("统一社会信用代码", "未填写统一社会信用代码：将按企业名称匹配，形式审查无法核对取消认定记录。")

    for column in _REQUIRED_WHEN_PRESENT:
        if column in values and not values[column]:
            error(column, f"「{column}」为必填项（表中有此列，本行为空）。")

    for column, fieldname in (("所属行业", "industry_group"), ("企业性质", "nature"), ("企业类型", "size_type")):
        raw = values.get(column, "")
        if raw:
            choices = rules.ENUMERATIONS[column]
            value = rules.normalise_choice(raw, choices)
            if value is None:
                error(column, f"「{column}」应填写：{'、'.join(choices)}（现为「{raw}」）。")
            else:
                ent[fieldname] = value

    mid_raw, small_raw = values.get("行业中类", ""), values.get("行业小类", "")
    industry_problems = rules.industry_code_problems(mid_raw, small_raw, known_divisions=ref.divisions)
    for column, message in industry_problems:
        error(column, message)
    if mid_raw:
        ent["industry_mid"] = rules.parse_industry_code(mid_raw)[:3]
    if small_raw:
        ent["industry_small"] = rules.parse_industry_code(small_raw)[:4]

    raw_tier = values.get("工厂级别", "")
    if raw_tier:
        tier = rules.parse_tier(raw_tier)
        if tier is None:
            error("工厂级别", f"「工厂级别」应填写：{'、'.join(TIER_LABELS.values())}（现为「{raw_tier}」）。")
        elif tier != ref.round.tier:
            error("工厂级别", f"工厂级别「{TIER_LABELS[Tier(tier)]}」与本批次（{ref.round.tier_label}）不一致。")
        app["tier"] = tier or ref.round.tier
    else:
        app["tier"] = ref.round.tier

    raw_score = values.get("能力成熟度自评得分", "")
    if raw_score:
        score = rules.parse_score(raw_score)
        if score is None or not Decimal(0) <= score <= Decimal(5):
            error("能力成熟度自评得分", f"能力成熟度自评得分应为 0–5 之间的数字（现为「{raw_score}」）。")
        else:
            app["maturity_score"] = score.quantize(Decimal("0.01"))
            app["maturity_level"] = rules.level_for_score(score, ref.bands)
    raw_level = values.get("能力成熟度自评等级", "")
    if raw_level:
        level = rules.parse_maturity_level(raw_level)
        if level is None:
            error("能力成熟度自评等级", f"能力成熟度自评等级应为一级至五级（现为「{raw_level}」）。")
        else:
            app["maturity_level"] = level

    for column, (target, fieldname) in _YES_NO_COLUMNS.items():
        raw = values.get(column, "")
        if raw:
            flag = rules.parse_yes_no(raw)
            if flag is None:
                error(column, f"「{column}」应填写「是」或「否」（现为「{raw}」）。")
            else:
                (ent if target == "enterprise" else app)[fieldname] = flag

    for column, (target, fieldname, limit) in _TEXT_COLUMNS.items():
        text = _clean_name(values.get(column, ""))
        if text:
            if len(text) > limit:
                error(column, f"「{column}」不能超过 {limit} 个字符。")
            else:
                (ent if target == "enterprise" else app)[fieldname] = text
    if "city" not in ent and default_city:
        ent["city"] = default_city

    scenarios: list[tuple[str, int | None, str]] = []
    names = rules.split_scenarios(values.get("智能制造典型场景", ""))
    if not names:
        error("智能制造典型场景", "「智能制造典型场景」为必填项。")
    unknown = []
    for scenario in names:
        known = ref.catalogue.get(rules.scenario_key(scenario))
        if known:
            scenarios.append((known[1], known[0], known[2]))
        elif len(scenario) > 64:
            error("智能制造典型场景", f"场景名称过长（{len(scenario)} 个字），可能缺少分隔符（、或换行）。")
        else:
            unknown.append(scenario)
            scenarios.append((scenario, None, ""))
    if unknown:
        warn("智能制造典型场景", f"以下场景不在场景目录中（已保留，形式审查将不通过）：{'、'.join(unknown)}。")

    parties: list[tuple[str, str, str]] | None = None
    for role, column in ((PartyRole.provider, "解决方案供应商"), (PartyRole.consultant, "咨询服务机构")):
        code_column = column + "统一社会信用代码"
        if column not in values and code_column not in values:
            continue
        parties = parties if parties is not None else []
        for party_name, raw_code in rules.parse_parties(values.get(column, ""), values.get(code_column, "")):
            code = ""
            if raw_code:
                code, problem = rules.check_credit_code(raw_code)
                if problem:
                    error(
                        column if column in values and raw_code in values[column] else code_column,
                        f"{party_name}：{problem}",
                    )
            if len(party_name) > 200:
                error(column, f"「{column}」名称不能超过 200 个字符。")
            parties.append((role.value, party_name[:200], code))
    return RowResult(
        number=number, enterprise=ent, application=app, scenarios=scenarios, parties=parties, problems=problems
    )


def parse_file(data: bytes, *, filename: str, ref: Reference) -> Preview:
    """Read and check a whole file (no database): file-level and per-row problems, duplicates within the file."""
    preview = Preview(filename=filename, round_id=ref.round.id)  # type: ignore[arg-type]
    try:
        table = read_table(data, columns=COLUMNS, required=REQUIRED_COLUMNS)
    except ExcelReadError as exc:
        preview.file_problems.append(Problem(0, "", exc.message))
        return preview
    preview.unit_line = table.unit_line
    preview.columns = list(table.columns)
    preview.unknown_headers = table.unknown_headers
    if not table.rows:
        preview.file_problems.append(Problem(0, "", f"第 {table.header_row} 行表头下没有数据行。"))
        return preview
    default_city = "" if "所在地市" in table.columns else city_from_unit_line(table.unit_line)
    seen: dict[tuple[str, str], int] = {}
    name_by_code: dict[str, tuple[str, int]] = {}
    code_by_name: dict[str, tuple[str, int]] = {}
    for sheet_row in table.rows:
        row = parse_row(sheet_row.number, sheet_row.values, ref, default_city=default_city)
        preview.rows.append(row)
        if not row.enterprise["name"] or not row.application["factory_name"]:
            continue
        if row.key in seen:
            row.problems.append(Problem(row.number, "工厂名称", f"与第 {seen[row.key]} 行重复（同一企业的同一工厂）。"))
        else:
            seen[row.key] = row.number
        code, name = row.enterprise.get("credit_code"), row.enterprise["name"]
        if code:
            other = name_by_code.setdefault(code, (name, row.number))
            if other[0] != name:
                row.problems.append(
                    Problem(
                        row.number,
                        "统一社会信用代码",
                        f"与第 {other[1]} 行代码相同，但企业名称不同（「{other[0]}」）。",
                    )
                )
            other = code_by_name.setdefault(name, (code, row.number))
            if other[0] != code:
                row.problems.append(
                    Problem(row.number, "统一社会信用代码", f"与第 {other[1]} 行企业名称相同，但统一社会信用代码不同。")
                )
    return preview


TEMPLATE_COLUMNS = [
    Column("序号", 6),
    Column("企业名称", 28),
    Column("统一社会信用代码", 22),
    Column("工厂名称", 28),
    Column("项目名称", 24),
    Column("所在地市", 10),
    Column("集团名称", 18),
    Column("能力成熟度自评得分", 12),
    Column("工厂级别（基础级、先进级）", 14),
    Column("所属行业¹", 10),
    Column("企业性质²", 10),
    Column("企业类型³", 10),
    Column("行业中类⁴", 8),
    Column("行业小类⁴", 8),
    Column("是否规上企业", 8),
    Column("智能制造典型场景（列举场景名称，用顿号分隔）", 40),
    Column("解决方案供应商（名称及统一社会信用代码）", 32),
    Column("联系人", 10),
    Column("联系电话", 14),
]


def template_bytes(rnd: Round, catalogue: Sequence[Scenario]) -> bytes:
    """The blank 名单汇总表 with drop-down lists on the enumerated columns and the scenario catalogue beside it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "名单汇总表"
    write_sheet(
        ws,
        title=f"{rnd.name}名单汇总表",
        columns=TEMPLATE_COLUMNS,
        rows=[],
        unit_line="报送单位（盖章）：",
    )
    first, last = 4, 2003  # header is row 3
    headers = [c.header for c in TEMPLATE_COLUMNS]

    def letter(header_start: str) -> str:
        from openpyxl.utils import get_column_letter

        return get_column_letter(next(i for i, h in enumerate(headers, start=1) if h.startswith(header_start)))

    lists = {
        "工厂级别": [TIER_LABELS[Tier(rnd.tier)]]
        if rnd.tier in (Tier.basic, Tier.advanced)
        else list(TIER_LABELS.values()),
        "所属行业": list(INDUSTRY_GROUPS),
        "企业性质": list(ENTERPRISE_NATURES),
        "企业类型": list(ENTERPRISE_SIZES),
        "是否规上企业": ["是", "否"],
    }
    for header, options in lists.items():
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(options) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="取值无效",
            error=f"请从下拉列表中选择：{'、'.join(options)}",
        )
        ws.add_data_validation(dv)
        dv.add(f"{letter(header)}{first}:{letter(header)}{last}")
    score = DataValidation(
        type="decimal",
        operator="between",
        formula1="0",
        formula2="5",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="取值无效",
        error="能力成熟度自评得分应为 0–5 之间的数字",
    )
    ws.add_data_validation(score)
    score.add(f"{letter('能力成熟度')}{first}:{letter('能力成熟度')}{last}")
    notes = wb.create_sheet("填表说明")
    for line in (
        "填表说明",
        "1. 所属行业请填写：原材料、电子信息、装备制造、消费品；",
        "2. 企业性质请填写：中央企业、地方国企、民营企业、三资企业；",
        "3. 企业类型请填写：大型企业、中型企业、小型企业、微型企业；",
        "4. 行业中类（3 位）、行业小类（4 位，以其中类开头）参考《国民经济行业分类》（GB/T 4754—2017）填写；",
        "5. 统一社会信用代码为 18 位，系统按 GB 32100-2015 校验末位校验码；",
        "6. 典型场景请使用「场景目录」工作表中的名称，多个场景用顿号（、）或换行分隔；",
        "7. 解决方案供应商可写作「公司名称（统一社会信用代码）」，多个供应商用顿号分隔。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    sheet = wb.create_sheet("场景目录")
    write_sheet(
        sheet,
        title=f"智能制造典型场景目录（{rnd.scenario_catalogue_version}版）",
        columns=[Column("环节", 14), Column("场景名称", 30)],
        rows=[(s.stage, s.name) for s in catalogue],
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass
class Preview:
    filename: str
    round_id: int
    rows: list[RowResult] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)
    unit_line: str = ""
    columns: list[str] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return self.file_problems + [p for r in self.rows for p in r.problems]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_rows(self) -> int:
        return sum(1 for r in self.rows if r.has_error)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)
