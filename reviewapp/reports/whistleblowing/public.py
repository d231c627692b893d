"""The public report form (我要举报): anonymous submission with a receipt code, the status lookup and supplements,
limited per client address."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.casework import cases
from reviewapp.casework import service as casework
from reviewapp.casework.models import CaseStep
from reviewapp.clock import utcnow
from reviewapp.errors import ServiceError
from reviewapp.reports import rules
from reviewapp.reports.models import (
    PublicRequest,
    Report,
    ReportSource,
)
from reviewapp.reports.rules import REPORT_WORKFLOW
from reviewapp.reports.whistleblowing.service import REPORT_KIND, match_certification
from reviewapp.settings import Settings

PUBLIC_ACTOR_NAME = "举报人"


class RateLimited(ServiceError):
    """Too many requests from one client address to a public form."""


# --- reports: the public form and the receipt code ------------------------------------------------

RATE_WINDOW = timedelta(hours=1)


def _check_rate(session: Session, *, bucket: str, client_addr: str, limit: int, message: str) -> None:
    """Refuse when this address has used `bucket` `limit` times in the last hour; else count this request.
    Rows live in the database, so every app process shares the count."""
    now = utcnow()
    used = session.exec(
        select(func.count())
        .select_from(PublicRequest)
        .where(
            PublicRequest.bucket == bucket,
            PublicRequest.client_addr == client_addr,
            PublicRequest.at >= now - RATE_WINDOW,
        )
    ).one()
    if used >= limit:
        raise RateLimited(message)
    session.exec(  # type: ignore[call-overload]
        delete(PublicRequest).where(PublicRequest.bucket == bucket, PublicRequest.at < now - timedelta(days=1))
    )
    session.add(PublicRequest(bucket=bucket, client_addr=client_addr[:64], at=now))
    session.flush()


def submit_public_report(
    session: Session,
    *,
    settings: Settings,
    client_addr: str,
    target_name: str,
    target_factory: str,
    content: str,
    reporter_name: str,
    reporter_contact: str,
    uploads: Sequence[tuple[str, bytes]],
    today: date,
) -> tuple[Report, str]:
    """A report filed on the public form. Returns the report and its receipt code, which is shown once and
    never stored (only its HMAC)."""
    _check_rate(
        session,
        bucket="report.submit",
        client_addr=client_addr,
        limit=settings.public_report_limit,
        message=f"提交过于频繁：同一网络地址每小时最多提交 {settings.public_report_limit} 件举报。"
        "请稍后再试，或通过信函、电话等方式向主管部门举报。",
    )
    if not target_name.strip():
        raise ServiceError("请填写被举报单位名称。", field="target_name")
    if not content.strip():
        raise ServiceError("请填写举报内容。", field="content")
    code = "".join(secrets.choice("0123456789") for _ in range(rules.RECEIPT_DIGITS))
    cert = match_certification(session, name=target_name, factory=target_factory)
    report = Report(
        source=ReportSource.public.value,
        channel="网上",
        received_on=today,
        certification_id=cert.id if cert else None,
        target_name=target_name.strip()[:200],
        target_factory=target_factory.strip()[:200],
        content=content.strip(),
        reporter_name=reporter_name.strip()[:64],
        reporter_contact=reporter_contact.strip()[:120],
        receipt_hash=rules.receipt_hash(settings.secret_key, code),
        state=REPORT_WORKFLOW.initial,
    )
    cases.file_new_case(session, REPORT_KIND, settings=settings, case=report, uploads=uploads, user_id=None)
    audit.record(
        session,
        actor=Actor(None, PUBLIC_ACTOR_NAME, client_addr),
        action="report.create",
        entity_type="report",
        entity_id=report.id,
        summary=f"网上举报 {report.number}：被举报单位 {report.target_name}"
        + ("（已自动关联认定）" if cert else "（待关联被举报对象）"),
        after={
            "number": report.number,
            "channel": "网上",
            "certification_id": report.certification_id,
            "files": len(uploads),
        },
    )
    return report, code


def find_by_receipt(session: Session, *, settings: Settings, client_addr: str, code_text: str) -> Report | None:
    """The report a receipt code opens, or None — the same None for a malformed and for an unknown code.
    Every attempt counts against the address's lookup limit."""
    _check_rate(
        session,
        bucket="report.lookup",
        client_addr=client_addr,
        limit=settings.public_lookup_limit,
        message=f"查询过于频繁：同一网络地址每小时最多查询 {settings.public_lookup_limit} 次。请一小时后再试。",
    )
    code = rules.normalise_receipt_code(code_text)
    # A malformed code is hashed too, so both answers take the same path.
    digest = rules.receipt_hash(settings.secret_key, code or "invalid")
    if code is None:
        return None
    return session.exec(select(Report).where(Report.receipt_hash == digest)).first()


@dataclass(frozen=True)
class PublicReply:
    on: Any  # datetime of the step
    text: str


@dataclass(frozen=True)
class PublicStatus:
    """Everything the reporter may see: no handler, no internal note, no other person's data."""

    number: str
    received_on: date
    target_name: str
    state_label: str
    replies: list[PublicReply]
    supplements: list[Any]  # datetimes of the reporter's own additions
    can_supplement: bool


def public_status(session: Session, report: Report) -> PublicStatus:
    steps = casework.case_steps(session, case_type=REPORT_WORKFLOW.name, case_id=report.id)  # type: ignore[arg-type]
    return PublicStatus(
        number=report.number,
        received_on=report.received_on,
        target_name=report.target_name,
        state_label=rules.PUBLIC_STATE_LABELS[report.state],
        replies=[PublicReply(s.at, s.data["public_reply"]) for s in steps if s.data.get("public_reply")],
        supplements=[s.at for s in steps if s.code == "supplement"],
        can_supplement=report.state not in REPORT_WORKFLOW.final_states,
    )


def add_supplement(
    session: Session,
    *,
    settings: Settings,
    report: Report,
    client_addr: str,
    content: str,
    uploads: Sequence[tuple[str, bytes]],
) -> CaseStep:
    """The reporter adds information or files (with the receipt code) while the report is open."""
    if report.state in REPORT_WORKFLOW.final_states:
        raise ServiceError("该举报已办结，不能再补充材料。如有新的情况，请重新提交举报。")
    if not content.strip() and not uploads:
        raise ServiceError("请填写补充内容或选择补充的文件。", field="content")
    step = casework.record_event(
        session,
        workflow=REPORT_WORKFLOW,
        case=report,
        code="supplement",
        actor=Actor(None, PUBLIC_ACTOR_NAME, client_addr),
        note=content.strip()[:5000],
        data={"files": len(uploads)} if uploads else None,
    )
    casework.attach_step_files(session, settings=settings, step=step, uploads=uploads, user_id=None)
    return step
