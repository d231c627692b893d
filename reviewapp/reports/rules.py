"""Pure rules for certifications and reports: validity and re-review dates, bans, filing deadlines, the report
verification workflow, overdue flags, receipt codes and the 普及率 figure. No Session, no clock: `today` is passed in.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from reviewapp.casework.rules import Transition, Workflow, start_verifying
from reviewapp.rounds.models import Tier

# --- calendar arithmetic --------------------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    """Same month and day `years` later; 29 February becomes 28 February in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb -> a common year
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """Same day `months` later (or earlier when negative), clamped to the month's last day (31 May - 3 → 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


# --- certifications -------------------------------------------------------------------------------

POLICY_VALIDITY_YEARS = 3  # 卓越级 and 领航级 (第十七、十八条), and each passed re-review
REREVIEW_LEAD_MONTHS = 3  # re-review is requested 3 months before expiry
REREVIEW_NOTICE_MONTHS = 3  # the expiring view starts warning this long before the re-review deadline
MAJOR_CHANGE_FILING_MONTHS = 3  # 第十九条
BAN_YEARS = 3  # 第二十条、第二十一条: at least 3 years


def validity_years(tier: str, round_validity_years: int | None) -> int:
    """卓越级 and 领航级: 3 years by policy; 先进级 and 基础级: the round's setting (the province decides)."""
    if tier in (Tier.excellent.value, Tier.leading.value):
        return POLICY_VALIDITY_YEARS
    return round_validity_years or POLICY_VALIDITY_YEARS


def validity_end(valid_from: date, years: int) -> date:
    """The last valid day: N years from `valid_from`, the day before the anniversary (2026-03-01 + 3 → 2029-02-28)."""
    return add_years(valid_from, years) - timedelta(days=1)


def rereview_due(valid_to: date) -> date:
    """The last day to request re-review: 3 months before the validity ends."""
    return add_months(valid_to, -REREVIEW_LEAD_MONTHS)


def extended_valid_to(valid_to: date, years: int = POLICY_VALIDITY_YEARS) -> date:
    """A passed re-review extends the validity by 3 years, counted from the day after it ended."""
    return validity_end(valid_to + timedelta(days=1), years)


def ban_until(revoked_on: date) -> date:
    """The earliest allowed end of the ban: 3 years after revocation, same month and day (29 Feb → 28 Feb).
    The ban includes this day (no application until it has passed)."""
    return add_years(revoked_on, BAN_YEARS)


def is_banned(banned_until: date, today: date) -> bool:
    return today <= banned_until


def major_change_due(changed_on: date) -> date:
    return add_months(changed_on, MAJOR_CHANGE_FILING_MONTHS)


@dataclass(frozen=True)
class Alert:
    label: str
    css: str  # tag-ok | tag-warn | tag-bad | tag-muted
    urgent: bool = False


def deadline_alert(what: str, deadline: date, today: date, *, soon_days: int) -> Alert | None:
    """A case's deadline as a flag: overdue (urgent), due within `soon_days`, or None. `what`: 答复, 整改, 企业说明."""
    if today > deadline:
        return Alert(f"{what}已逾期（期限 {deadline.isoformat()}）", "tag-bad", urgent=True)
    if (deadline - today).days <= soon_days:
        return Alert(f"{what}期限 {deadline.isoformat()}", "tag-warn")
    return None


def certification_alert(*, status: str, valid_to: date, today: date) -> Alert | None:
    """What the expiring view highlights for an active certification, or None while nothing is due."""
    if status != "active":
        return None
    due = rereview_due(valid_to)
    if today > valid_to:
        return Alert("已到期，待记录复核结果", "tag-bad", urgent=True)
    if today > due:
        return Alert(f"复核申请期限（{due.isoformat()}）已过", "tag-bad", urgent=True)
    if today >= add_months(due, -REREVIEW_NOTICE_MONTHS):
        return Alert(f"应于 {due.isoformat()} 前申请复核", "tag-warn", urgent=True)
    return None


def major_change_status(*, changed_on: date, filed_on: date | None, today: date) -> Alert:
    due = major_change_due(changed_on)
    if filed_on is not None:
        if filed_on > due:
            return Alert(f"逾期备案（期限 {due.isoformat()}）", "tag-bad", urgent=True)
        return Alert("按期备案", "tag-ok")
    if today > due:
        return Alert(f"逾期未备案（期限 {due.isoformat()}）", "tag-bad", urgent=True)
    return Alert(f"待备案（期限 {due.isoformat()}）", "tag-warn")


# --- the report verification workflow (第二十一条) -------------------------------------------------

REPORT_STATES = {
    "registered": "已登记",
    "accepted": "已受理",
    "refused": "不予受理",
    "verifying": "核实中",
    "replied": "单位已答复",
    "no_reply": "逾期未答复",
    "unfounded": "已有结论：不属实",
    "rectifying": "已有结论：责令整改",
    "rectified": "整改核验通过",
    "rectify_failed": "整改核验未通过",
    "revoked": "已有结论：取消认定",
    "closed": "已办结",
}

# What the reporter sees with the receipt code: no internal detail (handlers, the unit's reply, overdue…).
PUBLIC_STATE_LABELS = {
    "registered": "已收到，待受理",
    "accepted": "已受理，待核实",
    "refused": "不予受理",
    "verifying": "核实中",
    "replied": "核实中",
    "no_reply": "核实中",
    "unfounded": "已形成核实结论，待办结",
    "rectifying": "已形成核实结论，待办结",
    "rectified": "已形成核实结论，待办结",
    "rectify_failed": "已形成核实结论，待办结",
    "revoked": "已形成核实结论，待办结",
    "closed": "已办结",
}

CONCLUSION_LABELS = {"unfounded": "不属实", "rectification": "责令整改", "revocation": "取消认定"}
CONCLUDED_STATES = frozenset({"unfounded", "rectifying", "rectified", "rectify_failed", "revoked"})


def _after_reply_deadline(case: Any, today: date) -> str | None:
    deadline = getattr(case, "reply_deadline", None)
    if deadline is None:
        return "尚未设定答复期限。"
    if today <= deadline:
        return f"答复期限为 {deadline.isoformat()}，届满后才能标记逾期未答复。"
    return None


def _certification_linked(case: Any, today: date) -> str | None:
    if getattr(case, "certification_id", None) is None:
        return "该举报未关联已认定的智能工厂，不能取消认定。请先关联被举报的认定。"
    return None


_CONCLUDABLE = frozenset({"replied", "no_reply"})

REPORT_WORKFLOW = Workflow(
    name="report",
    states=REPORT_STATES,
    initial="registered",
    transitions=(
        Transition("accept", "受理", frozenset({"registered"}), "accepted", requires=("note",), handler_only=False),
        Transition(
            "refuse",
            "不予受理",
            frozenset({"registered"}),
            "refused",
            requires=("note", "public_reply"),
            handler_only=False,
        ),
        start_verifying("开始核实（要求单位答复）"),
        Transition(
            "record_reply", "登记单位答复", frozenset({"verifying"}), "replied", requires=("replied_on", "note")
        ),
        Transition(
            "mark_overdue",
            "标记逾期未答复",
            frozenset({"verifying"}),
            "no_reply",
            precondition=_after_reply_deadline,
        ),
        Transition("conclude_unfounded", "结论：不属实", _CONCLUDABLE, "unfounded", requires=("note",)),
        Transition(
            "conclude_rectify",
            "结论：责令整改",
            _CONCLUDABLE | {"rectify_failed"},
            "rectifying",
            requires=("note", "rectify_deadline"),
        ),
        Transition(
            "conclude_revoke",
            "结论：取消认定",
            _CONCLUDABLE | {"rectify_failed"},
            "revoked",
            requires=("note", "reason_category", "revoked_on"),
            precondition=_certification_linked,
        ),
        Transition("rectify_pass", "整改核验通过", frozenset({"rectifying"}), "rectified", requires=("note",)),
        Transition("rectify_fail", "整改核验未通过", frozenset({"rectifying"}), "rectify_failed", requires=("note",)),
        Transition(
            "close",
            "办结（记录答复举报人情况）",
            frozenset({"unfounded", "rectified", "rectify_failed", "revoked"}),
            "closed",
            requires=("public_reply",),
        ),
    ),
    field_labels={
        "note": "办理意见",
        "public_reply": "答复举报人",
        "handlers": "承办人",
        "reply_deadline": "单位答复期限",
        "replied_on": "单位答复日期",
        "rectify_deadline": "整改期限",
        "reason_category": "取消认定理由类别",
        "revoked_on": "取消认定日期",
        "banned_until": "禁止申报至",
        "target": "被举报对象",
        "files": "附件",
    },
)

CONCLUSION_OF_TRANSITION = {
    "conclude_unfounded": "unfounded",
    "conclude_rectify": "rectification",
    "conclude_revoke": "revocation",
}

DEFAULT_REPLY_WORKING_DAYS = 10  # the reply deadline offered by default, in official working days
DEFAULT_RECTIFY_DAYS = 90  # the rectification deadline offered by default, in calendar days
DUE_SOON_DAYS = 3


def report_flags(*, state: str, reply_deadline: date | None, rectify_deadline: date | None, today: date) -> list[Alert]:
    """Deadline flags for lists and the report page; `urgent` ones count as overdue."""
    flags: list[Alert | None] = []
    if state == "verifying" and reply_deadline is not None:
        flags.append(deadline_alert("答复", reply_deadline, today, soon_days=DUE_SOON_DAYS))
    if state == "no_reply":
        flags.append(Alert("单位逾期未答复", "tag-bad", urgent=True))
    if state == "rectifying" and rectify_deadline is not None:
        flags.append(deadline_alert("整改", rectify_deadline, today, soon_days=DUE_SOON_DAYS))
    return [f for f in flags if f is not None]


def is_overdue(*, state: str, reply_deadline: date | None, rectify_deadline: date | None, today: date) -> bool:
    return any(
        f.urgent
        for f in report_flags(
            state=state, reply_deadline=reply_deadline, rectify_deadline=rectify_deadline, today=today
        )
    )


# Outcomes for the annual figures, in display order.
OUTCOME_LABELS = {
    "open": "办理中",
    "refused": "不予受理",
    "unfounded": "不属实",
    "rectification": "责令整改",
    "revocation": "取消认定",
}


def report_outcome(*, state: str, conclusion: str) -> str:
    if state == "refused":
        return "refused"
    if conclusion in CONCLUSION_LABELS:
        return conclusion
    return "open"


# --- receipt codes for the public form ------------------------------------------------------------

RECEIPT_DIGITS = 20  # 10^20 codes: guessing one is hopeless, and lookups are rate-limited anyway
_NOT_DIGITS = re.compile(r"[\s\-－—_·.]")
_FULL_WIDTH_DIGITS = {0xFF10 + i: ord("0") + i for i in range(10)}


def format_receipt_code(code: str) -> str:
    """Groups of four for reading aloud and copying: 1234 5678 …"""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_receipt_code(text: str) -> str | None:
    """The code's digits (spaces and dashes ignored, full-width digits accepted), or None if it cannot be one."""
    digits = _NOT_DIGITS.sub("", (text or "").translate(_FULL_WIDTH_DIGITS))[:64]
    if len(digits) != RECEIPT_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def receipt_hash(secret: str, code: str) -> str:
    """HMAC-SHA256 of the code under the app secret: only this is stored, and a lookup is one indexed query."""
    return hmac.new(secret.encode("utf-8"), f"report-receipt:{code}".encode("ascii"), hashlib.sha256).hexdigest()


# --- annual figures -------------------------------------------------------------------------------


def penetration_rate(*, total: int, level2: int) -> Decimal | None:
    """智能工厂普及率 in percent, one decimal (None without a total)."""
    if total <= 0:
        return None
    return (Decimal(level2) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def penetration_problems(*, total: int, level2: int) -> dict[str, str]:
    problems: dict[str, str] = {}
    if total <= 0:
        problems["above_size_total"] = "「规上工业企业总数」应大于 0。"
    if level2 < 0:
        problems["above_size_level2"] = "「二级及以上企业数」不能为负数。"
    elif level2 > total:
        problems["above_size_level2"] = "「二级及以上企业数」不能大于规上工业企业总数。"
    return problems
