"""What every official file of a round shares: number formats, the signature and date lines, Beijing times, the
archive file name, a one-sheet workbook, and the error an export raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from reviewapp.clock import BEIJING, as_utc
from reviewapp.errors import ServiceError
from reviewapp.excel import Column, safe_filename, sheet_title, workbook_to_bytes, write_sheet
from reviewapp.rounds.models import TIER_LABELS, Tier

UNIT_LINE = "报送单位（盖章）："
SCORE = "0.0"  # the published 100-point scale with one decimal
POINTS = "0.0#"  # an expert's total as written (steps of 0.5 or 0.25)
SIGNATURE_GAP = "\u3000" * 12
DATE_BLANK = "\u3000\u3000年\u3000\u3000月\u3000\u3000日"


class ExportError(ServiceError):
    """The export cannot be made as asked (unknown type, a missing or foreign id); `message` is for staff."""


# --- small formatting helpers ----------------------------------------------------------------------------------


def number(value: Decimal | None) -> Decimal | int | None:
    """A Decimal as Excel should store it: 40.00 → 40, 87.50 → 87.5 (the database keeps two decimals)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


def points_text(value: Decimal) -> str:
    from reviewapp.rounds.rules import fmt_points

    return fmt_points(value)


def tier_label(tier: str) -> str:
    try:
        return TIER_LABELS[Tier(tier)]
    except ValueError:
        return tier


def beijing(value: Any) -> str:
    return as_utc(value).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if value else ""


def counts(label: str, counts: Sequence[tuple[str, int]]) -> str:
    total = sum(n for _k, n in counts)
    parts = "；".join(f"{key} {n} 个" for key, n in counts) or "无"
    return f"{label}：{parts}（合计 {total} 个）"


def signature(who: str) -> str:
    return f"{who}签字：{SIGNATURE_GAP}日期：{DATE_BLANK}"


def recommend_label(value: bool | None) -> str:
    return {True: "推荐", False: "不推荐"}.get(value, "") if value is not None else ""


def archive_name(application: Any, enterprise: Any) -> str:
    """地市-序号-企业名称-项目名称 [policy 001 一(二)]; the factory name stands in for a missing project name."""
    parts = [
        enterprise.city or "未填地市",
        str(application.serial),
        enterprise.name,
        application.project_name or application.factory_name,
    ]
    return safe_filename("-".join(p.strip() for p in parts) + ".xlsx")


def single_sheet(title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], **kwargs: Any) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(title, set())
    write_sheet(ws, title=title, columns=columns, rows=rows, **kwargs)
    return workbook_to_bytes(wb)
