"""Pure rules for objections (异议): whether one can be accepted (受理), the verification workflow, the outcomes a
conclusion allows, what the list says about an upheld one, and deadline flags. No Session, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reviewapp.applications.rules import Check
from reviewapp.casework.rules import Transition, Workflow, start_verifying
from reviewapp.objections.models import ObjectorKind
from reviewapp.publicity.calendar import within
from reviewapp.reports.rules import Alert, deadline_alert

# --- acceptance (受理) ----------------------------------------------------------------------------

# The standard reasons for 不予受理, as publicity notices word them; a refusal proposes them to staff.
REFUSAL_REASONS = {
    "period": "超出公示期提出的异议不予受理",
    "real_name": "匿名异议不予受理",
    "signed": "异议材料未按要求加盖单位公章或由本人签名并留有联系方式，不予受理",
    "scope": "异议对象不在公示名单内，不予受理",
}
CHECK_LABELS = {
    "period": "在公示期内提出",
    "real_name": "署真实名称或姓名（非匿名）",
    "signed": "单位加盖公章／个人签名并留联系方式",
    "scope": "异议对象在公示名单内",
}


@dataclass(frozen=True)
class AcceptanceFacts:
    received_on: date
    period_start: date | None  # the round's publicity period (None: none set)
    period_end: date | None
    working_days: int | None
    objector_kind: str  # ObjectorKind
    objector_name: str
    objector_contact: str
    sealed_or_signed: bool
    target_chosen: bool  # the objection names an application of the round
    target_listed: bool  # … and it is on the publicized list


def _period_check(f: AcceptanceFacts) -> Check:
    received = f.received_on.isoformat()
    if f.period_start is None or f.period_end is None:
        return Check("period", CHECK_LABELS["period"], False, "本批次尚未设定公示期，无法判断是否在公示期内。")
    period = f"公示期为 {f.period_start.isoformat()} 至 {f.period_end.isoformat()}（{f.working_days} 个工作日）"
    if within(f.received_on, f.period_start, f.period_end):
        return Check("period", CHECK_LABELS["period"], True, f"{period}，收到日期 {received} 在公示期内。")
    when = "之前" if f.received_on < f.period_start else "之后"
    return Check("period", CHECK_LABELS["period"], False, f"{period}，收到日期 {received} 在公示期{when}。")


def _real_name_check(f: AcceptanceFacts) -> Check:
    who = "单位名称" if f.objector_kind == ObjectorKind.unit.value else "姓名"
    if f.objector_name.strip():
        return Check("real_name", CHECK_LABELS["real_name"], True, f"异议人已署{who}。")
    return Check("real_name", CHECK_LABELS["real_name"], False, f"异议人未署{who}，属匿名异议。")


def _signed_check(f: AcceptanceFacts) -> Check:
    label = CHECK_LABELS["signed"]
    if f.objector_kind == ObjectorKind.unit.value:
        if f.sealed_or_signed:
            return Check("signed", label, True, "单位异议已加盖公章。")
        return Check("signed", label, False, "单位异议未加盖公章。")
    missing = []
    if not f.sealed_or_signed:
        missing.append("本人签名")
    if not f.objector_contact.strip():
        missing.append("联系方式")
    if missing:
        return Check("signed", label, False, f"个人异议缺少{'和'.join(missing)}。")
    return Check("signed", label, True, "个人异议已由本人签名并留有联系方式。")


def _scope_check(f: AcceptanceFacts) -> Check:
    if not f.target_chosen:
        return Check("scope", CHECK_LABELS["scope"], False, "异议未针对本批次公示名单上的具体项目。")
    if not f.target_listed:
        return Check("scope", CHECK_LABELS["scope"], False, "所针对的项目不在本批次公示的推荐名单上。")
    return Check("scope", CHECK_LABELS["scope"], True, "所针对的项目在本批次公示的推荐名单上。")


def acceptance_checks(facts: AcceptanceFacts) -> list[Check]:
    """Every acceptance condition with the reason for its outcome, in the order a notice states them."""
    return [_real_name_check(facts), _signed_check(facts), _period_check(facts), _scope_check(facts)]


@dataclass(frozen=True)
class Proposal:
    """What the system proposes: accept, or refuse with the standard reasons of the failed checks."""

    accept: bool
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return "建议受理" if self.accept else "建议不予受理"

    @property
    def refusal_text(self) -> str:
        return "；".join(self.reasons) + ("。" if self.reasons else "")


def propose(checks: Sequence[Check]) -> Proposal:
    failed = [c.code for c in checks if not c.ok]
    return Proposal(accept=not failed, reasons=tuple(REFUSAL_REASONS[code] for code in failed))


# --- the verification workflow --------------------------------------------------------------------

OBJECTION_STATES = {
    "registered": "已登记",
    "accepted": "已受理",
    "refused": "不予受理",
    "verifying": "核实中",
    "concluded": "已有结论",
    "handled": "已处理",
    "closed": "已办结",
}

CONCLUSION_LABELS = {"upheld": "成立", "partly": "部分成立", "rejected": "不成立"}
OUTCOME_LABELS = {"kept": "保留在名单上", "removed": "移出推荐名单", "correction": "保留在名单上并要求整改"}
# What each conclusion allows: an objection that does not stand cannot change the list; one that stands must.
ALLOWED_OUTCOMES = {
    "rejected": ("kept",),
    "partly": ("kept", "correction", "removed"),
    "upheld": ("removed", "correction"),
}


@dataclass(frozen=True)
class CaseFacts:
    """What the workflow's preconditions look at: the acceptance checks and the explanation's dates."""

    checks: tuple[Check, ...]
    reply_deadline: date | None
    explained_on: date | None


def _acceptable(facts: Any, today: date) -> str | None:
    failed = [c for c in facts.checks if not c.ok]
    if failed:
        return "不符合受理条件：" + "；".join(f"{c.label}（{c.reason}）" for c in failed) + " 只能不予受理。"
    return None


def _explained_or_due(facts: Any, today: date) -> str | None:
    if facts.explained_on is not None or facts.reply_deadline is None or today > facts.reply_deadline:
        return None
    return f"企业说明尚未登记，答复期限为 {facts.reply_deadline.isoformat()}：登记企业说明或期限届满后才能作出结论。"


OBJECTION_WORKFLOW = Workflow(
    name="objection",
    states=OBJECTION_STATES,
    initial="registered",
    transitions=(
        Transition(
            "accept",
            "受理",
            frozenset({"registered"}),
            "accepted",
            requires=("note",),
            handler_only=False,
            precondition=_acceptable,
        ),
        Transition("refuse", "不予受理", frozenset({"registered"}), "refused", requires=("note",), handler_only=False),
        start_verifying("开始核实（指定承办人、要求企业说明）"),
        Transition(
            "conclude",
            "作出核实结论",
            frozenset({"verifying"}),
            "concluded",
            requires=("conclusion", "findings"),
            precondition=_explained_or_due,
        ),
        Transition(
            "apply", "处理（落实到推荐名单）", frozenset({"concluded"}), "handled", requires=("outcome", "note")
        ),
        Transition("close", "办结（记录答复异议人情况）", frozenset({"handled"}), "closed", requires=("reply",)),
    ),
    field_labels={
        "note": "办理意见",
        "reply": "答复异议人",
        "handlers": "承办人",
        "reply_deadline": "企业说明期限",
        "explained_on": "企业说明日期",
        "checked_on": "现场核查日期",
        "inspectors": "核查人员",
        "conclusion": "核实结论",
        "findings": "核实情况（事实与依据）",
        "outcome": "处理结果",
        "list_reason": "名单说明",
        "files": "附件",
    },
)

# Events a handler records while verifying (the state stays): besides casework's "note" and "assign".
EVENT_LABELS = {"record_explanation": "登记企业说明", "onsite_check": "记录现场核查"}
EVENT_STATES = {"record_explanation": frozenset({"verifying"}), "onsite_check": frozenset({"verifying"})}
EVENT_REQUIRES = {"record_explanation": ("explained_on",), "onsite_check": ("checked_on", "inspectors")}
OPEN_STATES = frozenset(OBJECTION_STATES) - OBJECTION_WORKFLOW.final_states

DEFAULT_REPLY_WORKING_DAYS = 3  # the explanation deadline offered by default: publicity leaves little time
DUE_SOON_DAYS = 1


def outcome_problem(conclusion: str, outcome: str) -> str | None:
    """Why `outcome` cannot follow `conclusion`, or None."""
    allowed = ALLOWED_OUTCOMES.get(conclusion, ())
    if outcome in allowed:
        return None
    names = "、".join(f"「{OUTCOME_LABELS[o]}」" for o in allowed)
    return f"核实结论为「{CONCLUSION_LABELS.get(conclusion, conclusion)}」，处理结果只能是{names}。"


def list_reason(*, conclusion: str, number: str, note: str) -> str:
    """What the recommendation list says about an application an objection removed or sent to correction."""
    return f"异议{CONCLUSION_LABELS[conclusion]}：{note.strip()}（异议 {number}）"


def objection_flags(*, state: str, reply_deadline: date | None, explained_on: date | None, today: date) -> list[Alert]:
    """Deadline flags for the register and the objection's page; `urgent` ones count as overdue."""
    flags: list[Alert | None] = []
    if state == "registered":
        flags.append(Alert("待受理", "tag-warn"))
    if state == "verifying" and reply_deadline is not None and explained_on is None:
        flags.append(deadline_alert("企业说明", reply_deadline, today, soon_days=DUE_SOON_DAYS))
    return [f for f in flags if f is not None]


def is_overdue(*, state: str, reply_deadline: date | None, explained_on: date | None, today: date) -> bool:
    return any(
        f.urgent
        for f in objection_flags(state=state, reply_deadline=reply_deadline, explained_on=explained_on, today=today)
    )
