"""Builds 名单汇总表 workbooks laid out as offices send them, filled with realistic generated rows (demo, tests, bench)."""

from __future__ import annotations

import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from reviewapp.applications.rules import CREDIT_CODE_CHARS, credit_code_check_char

# Header cells as printed in the official form (policy 000 附件1): broken over lines, footnote marks.
OFFICIAL_HEADERS: dict[str, str] = {
    "序号": "序号",
    "企业名称": "企业名称",
    "工厂名称": "工厂名称",
    "能力成熟度自评得分": "能力成熟度\n自评得分",
    "工厂级别": "工厂级别（基础\n级、先进级）",
    "所属行业": "所属\n行业¹",
    "企业性质": "企业\n性质²",
    "企业类型": "企业\n类型³",
    "行业中类": "行业\n中类⁴",
    "行业小类": "行业\n小类⁴",
    "智能制造典型场景": "智能制造典型场景\n（列举场景名称）",
}
OFFICIAL_COLUMNS = tuple(OFFICIAL_HEADERS)
SHANXI_COLUMNS = ("序号", "企业名称", "工厂名称", "智能制造典型场景")
FOOTNOTES = (
    "¹ 所属行业请填写：原材料、电子信息、装备制造、消费品；",
    "² 企业性质请填写：中央企业、地方国企、民营企业、三资企业；",
    "³ 企业类型请填写：大型企业、中型企业、小型企业、微型企业；",
    "⁴ 行业中类、行业小类参考《国民经济行业分类》（GB/T 4754—2017）填写。",
)


def official_workbook(
    rows: Iterable[dict[str, Any]],
    *,
    columns: Sequence[str] = OFFICIAL_COLUMNS,
    headers: dict[str, str] | None = None,
    title: str = "基础级、先进级智能工厂名单汇总表",
    unit: str = "济南市工业和信息化局",
    footnotes: Sequence[str] = FOOTNOTES,
    merge_enterprise: bool = False,
) -> bytes:
    """An .xlsx in the official layout: title row, 「报送单位（盖章）：」 row, header, rows, footnotes.

    `rows` are dicts keyed by column name; `headers` overrides a column's header text. With `merge_enterprise`,
    consecutive rows of the same enterprise get their 企业名称 cells merged, as offices do for several factories.
    """
    headers = {**OFFICIAL_HEADERS, **(headers or {})}
    wb = Workbook()
    ws = wb.active
    ws.title = "名单汇总表"
    width = len(columns)
    ws.cell(row=1, column=1, value=title).font = Font(name="方正小标宋简体", size=16)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.cell(row=2, column=1, value=f"报送单位（盖章）：{unit}")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    for c, name in enumerate(columns, start=1):
        cell = ws.cell(row=3, column=c, value=headers.get(name, name))
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    r = 3
    previous_name, merge_from = None, None
    for r, row in enumerate(rows, start=4):
        for c, name in enumerate(columns, start=1):
            value = row.get(name)
            if name == "企业名称" and merge_enterprise and value == previous_name:
                value = None  # covered by the merged cell above
            ws.cell(row=r, column=c, value=value)
        if merge_enterprise and "企业名称" in columns:
            c = columns.index("企业名称") + 1
            if row.get("企业名称") == previous_name and merge_from is not None:
                _remerge(ws, c, merge_from, r)
            else:
                merge_from = r
            previous_name = row.get("企业名称")
    for offset, note in enumerate(footnotes, start=2):
        ws.cell(row=r + offset, column=1, value=note)
        ws.merge_cells(start_row=r + offset, start_column=1, end_row=r + offset, end_column=width)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _remerge(ws, column: int, first: int, last: int) -> None:  # type: ignore[no-untyped-def]
    for merged in list(ws.merged_cells.ranges):
        if merged.min_col == column and merged.min_row == first:
            ws.unmerge_cells(str(merged))
    ws.merge_cells(start_row=first, start_column=column, end_row=last, end_column=column)


# --- realistic generated rows ---------------------------------------------------------------------

CITIES = {  # 地市 → 行政区划代码 (Shandong, which DOMAIN.md quotes for scale)
    "济南市": "370100", "青岛市": "370200", "淄博市": "370300", "枣庄市": "370400", "东营市": "370500",
    "烟台市": "370600", "潍坊市": "370700", "济宁市": "370800", "泰安市": "370900", "威海市": "371000",
    "日照市": "371100", "临沂市": "371300", "德州市": "371400", "聊城市": "371500", "滨州市": "371600",
    "菏泽市": "371700",
}  # fmt: skip

# 所属行业 → (中类, 小类, product, unit of annual output) for plausible factory names
INDUSTRIES: dict[str, list[tuple[str, str, str, str]]] = {
    "原材料": [
        ("261", "2614", "高性能有机化学原料", "吨"), ("262", "2621", "高效氮肥", "吨"), ("301", "3011", "绿色低碳水泥", "吨"),
        ("321", "3211", "高纯阴极铜", "吨"), ("325", "3252", "高端铝板带箔", "吨"), ("251", "2511", "清洁油品", "吨"),
    ],
    "电子信息": [
        ("391", "3911", "服务器整机", "台"), ("392", "3921", "5G通信基站设备", "台"), ("397", "3973", "功率半导体器件", "片"),
        ("398", "3981", "片式多层陶瓷电容器", "亿只"), ("397", "3974", "新型显示模组", "片"),
    ],
    "装备制造": [
        ("341", "3411", "高效节能锅炉", "台"), ("344", "3441", "工业泵", "台"), ("351", "3511", "智能化采掘装备", "台"),
        ("361", "3612", "新能源汽车整车", "辆"), ("367", "3670", "汽车关键零部件", "套"), ("384", "3841", "动力锂离子电池", "GWh"),
        ("342", "3421", "高档数控机床", "台"),
    ],
    "消费品": [
        ("144", "1441", "低温液态乳", "吨"), ("151", "1512", "浓香型白酒", "吨"), ("171", "1711", "高支棉纱", "吨"),
        ("222", "2221", "高档文化用纸", "吨"), ("271", "2710", "化学原料药", "吨"), ("385", "3851", "变频家用冰箱", "台"),
    ],
}  # fmt: skip

_BRANDS = (
    "鲁泰", "华信", "金岭", "恒通", "齐力", "泰和", "海川", "宏达", "瑞康", "中联", "明阳", "新华", "东岳", "天成",
    "盛隆", "银座", "昌盛", "博远", "九州", "正和", "德润", "同益", "汇川", "嘉诚", "永泰", "鸿运", "润丰", "安泰",
    "信达", "景辉", "凯盛", "裕龙", "华宇", "晨鸣", "远大", "兴源", "科达", "博瑞", "威达", "弘毅",
)  # fmt: skip
_TRADES = {
    "原材料": ("化工", "新材料", "建材", "铝业", "铜业", "石化"),
    "电子信息": ("电子", "微电子", "通信技术", "智能科技", "光电"),
    "装备制造": ("重工", "机械", "智能装备", "汽车", "动力", "精密机械"),
    "消费品": ("食品", "乳业", "酒业", "纺织", "纸业", "制药", "家电"),
}
_PROVIDERS = (
    "山东智云工业互联网科技有限公司", "青岛海智卡数字科技有限公司", "济南浪云数智软件有限公司",
    "烟台中科智造系统集成有限公司", "潍坊数联工业软件有限公司", "淄博工控自动化工程有限公司",
)  # fmt: skip
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "超", "霞", "平", "刚")
_NATURES = ("民营企业",) * 6 + ("地方国企",) * 2 + ("三资企业", "中央企业")
_SIZES = ("大型企业",) * 3 + ("中型企业",) * 4 + ("小型企业",) * 2 + ("微型企业",)

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_credit_code(rng: random.Random, region: str = "370100") -> str:
    """A well-formed 统一社会信用代码: 91 (enterprise), region, organisation code with its GB 11714 check, check char."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    org_check = 11 - total % 11
    org = body + ("X" if org_check == 10 else "0" if org_check == 11 else str(org_check))
    first17 = "91" + region + org
    assert all(ch in CREDIT_CODE_CHARS for ch in first17)
    return first17 + credit_code_check_char(first17)


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    stage: str


def generate_rows(
    count: int,
    *,
    catalogue: Sequence[CatalogueEntry],
    seed: int = 2026,
    required_stages: Sequence[str] = ("生产作业", "生产管理", "运营管理"),
    tier_label: str = "先进级",
) -> list[dict[str, Any]]:
    """`count` plausible rows keyed by import column names: unique enterprises and factories, valid codes,
    8–12 catalogue scenarios covering the required stages, a provider on most rows."""
    rng = random.Random(seed)
    by_stage: dict[str, list[str]] = {}
    for entry in catalogue:
        by_stage.setdefault(entry.stage, []).append(entry.name)
    all_names = [e.name for e in catalogue]
    rows: list[dict[str, Any]] = []
    used_names: set[str] = set()
    cities = list(CITIES)
    groups = list(INDUSTRIES)
    for i in range(1, count + 1):
        city = cities[i % len(cities)]
        group = groups[i % len(groups)]
        mid, small, product, unit = rng.choice(INDUSTRIES[group])
        while True:
            name = f"{city.removesuffix('市')}{rng.choice(_BRANDS)}{rng.choice(_TRADES[group])}有限公司"
            if name not in used_names:
                break
            name = f"山东{rng.choice(_BRANDS)}{rng.choice(_BRANDS)}{rng.choice(_TRADES[group])}股份有限公司"
            if name not in used_names:
                break
        used_names.add(name)
        chosen = [rng.choice(by_stage[s]) for s in required_stages if s in by_stage]
        want = rng.randint(8, 12)
        for candidate in rng.sample(all_names, len(all_names)):
            if len(chosen) >= want:
                break
            if candidate not in chosen:
                chosen.append(candidate)
        score = round(rng.uniform(2.0, 4.2), 2)
        provider = rng.choice(_PROVIDERS)
        rows.append(
            {
                "序号": i,
                "企业名称": name,
                "工厂名称": f"年产{rng.randint(2, 60)}{'' if unit in ('GWh', '亿只') else '万'}{unit}{product}智能工厂",
                "能力成熟度自评得分": score,
                "工厂级别": tier_label,
                "所属行业": group,
                "企业性质": rng.choice(_NATURES),
                "企业类型": rng.choice(_SIZES),
                "行业中类": mid,
                "行业小类": small,
                "智能制造典型场景": rng.choice(("、", "；", "\n")).join(chosen),
                "统一社会信用代码": make_credit_code(rng, CITIES[city]),
                "所在地市": city,
                "项目名称": f"{product}智能工厂建设项目",
                "解决方案供应商": f"{provider}（{make_credit_code(random.Random(provider), '370100')}）",
                "联系人": rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(("", *_GIVEN)),
                "联系电话": f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
            }
        )
    return rows
