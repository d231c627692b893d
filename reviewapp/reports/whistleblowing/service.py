"""Whistle-blower reports (举报) recorded by staff and verified through reviewapp.casework along
reports.rules.REPORT_WORKFLOW. Every operation writes its audit entry in the caller's transaction; the caller commits.
The reporter's identity never enters the audit log, a case step or an export; only the report's handlers read it,
one audited view at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.applications.models import Application, Enterprise
from reviewapp.applications.rules import normalise_credit_code
from reviewapp.audit import Actor
from reviewapp.casework import cases, register
from reviewapp.casework import service as casework
from reviewapp.casework.models import CaseStep
from reviewapp.clock import utcnow
from reviewapp.errors import ServiceError
from reviewapp.reports import rules
from reviewapp.reports.certifications.service import check_version
from reviewapp.reports.models import (
    REPORT_CHANNELS,
    REVOCATION_REASON_LABELS,
    Certification,
    CertificationStatus,
    Report,
    ReportSource,
    RevocationReason,
)
from reviewapp.reports.revocations.service import revoke
from reviewapp.reports.rules import REPORT_WORKFLOW
from reviewapp.settings import Settings

audit.register_labels(actions={"report.create": "登记举报", "report.view_identity": "查看举报人信息"}, entities={})
casework.register_workflow_labels(
    REPORT_WORKFLOW,
    entity_label="举报",
    events={"supplement": "举报人补充材料", "link": "关联被举报对象"},
)

REPORT_FILE_OWNER = "report"
CONFIDENTIAL = cases.CONFIDENTIAL
REPORT_KIND = cases.CaseKind(
    Report,
    REPORT_WORKFLOW,
    file_owner=REPORT_FILE_OWNER,
    noun="举报",
    party="举报人",
    number_prefix="JB",
    reply_field="public_reply",
    unassigned_states=frozenset({REPORT_WORKFLOW.initial, "accepted"}),
)


# --- reports: recording ---------------------------------------------------------------------------


def get_report(session: Session, report_id: int, *, for_update: bool = False) -> Report:
    return cases.get_case(session, REPORT_KIND, report_id, for_update=for_update)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Target:
    """What a report is against, as staff see it."""

    kind: str  # certification | application | unlinked
    certification: Certification | None
    application: Application | None
    enterprise: Enterprise | None

    @property
    def label(self) -> str:
        if self.certification is not None:
            name = self.enterprise.name if self.enterprise else ""
            return f"{name} {self.certification.factory_name}（{self.certification.tier_label}认定）"
        if self.application is not None:
            name = self.enterprise.name if self.enterprise else ""
            return f"{name} {self.application.factory_name}（申报）"
        return "未关联"


def report_target(session: Session, report: Report) -> Target:
    if report.certification_id:
        cert = session.get(Certification, report.certification_id)
        return Target("certification", cert, None, session.get(Enterprise, cert.enterprise_id) if cert else None)
    if report.application_id:
        app = session.get(Application, report.application_id)
        return Target("application", None, app, session.get(Enterprise, app.enterprise_id) if app else None)
    return Target("unlinked", None, None, None)


def _resolve_target(
    session: Session, *, certification_id: int | None, application_id: int | None
) -> tuple[Certification | None, Application | None, Enterprise | None]:
    if certification_id and application_id:
        raise ServiceError("被举报对象只能是一个认定或一份申报。", field="target")
    if certification_id:
        cert = session.get(Certification, certification_id)
        if cert is None:
            raise ServiceError("所选的认定不存在。", field="target")
        return cert, None, session.get(Enterprise, cert.enterprise_id)
    if application_id:
        app = session.get(Application, application_id)
        if app is None:
            raise ServiceError("所选的申报不存在。", field="target")
        return None, app, session.get(Enterprise, app.enterprise_id)
    return None, None, None


def create_report(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    channel: str,
    received_on: date,
    certification_id: int | None,
    application_id: int | None,
    target_name: str,
    target_factory: str,
    content: str,
    reporter_name: str,
    reporter_contact: str,
    uploads: Sequence[tuple[str, bytes]],
    today: date,
) -> Report:
    """Staff record a report received by letter, e-mail, phone, in person or online; evidence files already checked."""
    if channel not in REPORT_CHANNELS:
        raise ServiceError("请选择举报渠道。", field="channel")
    if received_on > today:
        raise ServiceError("「收到日期」不能晚于今天。", field="received_on")
    cert, app, enterprise = _resolve_target(session, certification_id=certification_id, application_id=application_id)
    name = (enterprise.name if enterprise else target_name).strip()
    if not name:
        raise ServiceError("请选择被举报的认定或申报，或填写被举报单位名称。", field="target_name")
    if not content.strip():
        raise ServiceError("请填写举报内容。", field="content")
    report = Report(
        source=ReportSource.staff.value,
        channel=channel,
        received_on=received_on,
        certification_id=cert.id if cert else None,
        application_id=app.id if app else None,
        target_name=name[:200],
        target_factory=((cert.factory_name if cert else app.factory_name if app else target_factory) or "").strip()[
            :200
        ],
        content=content.strip(),
        reporter_name=reporter_name.strip()[:64],
        reporter_contact=reporter_contact.strip()[:120],
        state=REPORT_WORKFLOW.initial,
        created_by=actor.user_id,
    )
    cases.file_new_case(session, REPORT_KIND, settings=settings, case=report, uploads=uploads, user_id=actor.user_id)
    audit.record(
        session,
        actor=actor,
        action="report.create",
        entity_type="report",
        entity_id=report.id,
        summary=f"登记举报 {report.number}：被举报单位 {report.target_name}（{channel}，{received_on.isoformat()} 收到）",
        # Never the reporter's identity: every staff member can read the audit log.
        after={
            "number": report.number,
            "channel": channel,
            "received_on": received_on,
            "certification_id": report.certification_id,
            "application_id": report.application_id,
            "files": len(uploads),
        },
    )
    return report


def match_certification(session: Session, *, name: str, factory: str) -> Certification | None:
    """The one active certification whose enterprise (and factory, when given) matches what the public typed."""
    stmt = (
        select(Certification)
        .join(Enterprise, Enterprise.id == Certification.enterprise_id)
        .where(Enterprise.name == name.strip(), Certification.status == CertificationStatus.active.value)
    )
    if factory.strip():
        stmt = stmt.where(Certification.factory_name == factory.strip())
    found = list(session.exec(stmt.limit(2)))
    return found[0] if len(found) == 1 else None


# --- reports: verification ------------------------------------------------------------------------


def take_step(session: Session, *, report_id: int, **step: Any) -> CaseStep:
    """One step of the verification flow (第二十一条), with its effects: handlers and the reply deadline,
    the conclusion, the rectification deadline, the revocation and its ban, closing with the reply recorded.
    `step`: actor, settings, code, row_version, note, values, uploads, today (see casework.cases.take_step)."""
    return cases.take_step(session, REPORT_KIND, case_id=report_id, record=_record_step, effects=_step_effects, **step)


def _record_step(*, code: str, values: dict[str, Any], data: dict[str, Any], today: date, **_: Any) -> None:
    if code == "record_reply":
        replied_on = values.get("replied_on")
        if replied_on is not None and replied_on > today:
            raise ServiceError("「单位答复日期」不能晚于今天。", field="replied_on")
        data["replied_on"] = replied_on
    elif code == "conclude_rectify":
        deadline = values.get("rectify_deadline")
        if deadline is not None and deadline <= today:
            raise ServiceError("「整改期限」应晚于今天。", field="rectify_deadline")
        data["rectify_deadline"] = deadline
    elif code == "conclude_revoke":
        category = values.get("reason_category") or ""
        if category and category not in {r.value for r in RevocationReason}:
            raise ServiceError("请选择取消认定的理由类别。", field="reason_category")
        data["reason_category"] = REVOCATION_REASON_LABELS[RevocationReason(category)] if category else ""
        revoked_on = values.get("revoked_on")
        data["revoked_on"] = revoked_on
        if revoked_on is not None:
            # The ban shown in the step is the one revoke() records: the given date, else the computed minimum.
            data["banned_until"] = values.get("banned_until") or rules.ban_until(revoked_on)


def _step_effects(
    *, session: Session, actor: Actor, case: Report, code: str, values: dict[str, Any], note: str, today: date, **_: Any
) -> None:
    if code in rules.CONCLUSION_OF_TRANSITION:
        case.conclusion = rules.CONCLUSION_OF_TRANSITION[code]
        if code == "conclude_rectify":
            case.rectify_deadline = values["rectify_deadline"]
        if code == "conclude_revoke":
            revocation = revoke(
                session,
                actor=actor,
                certification_id=case.certification_id,  # type: ignore[arg-type]
                row_version=None,
                reason_category=values["reason_category"],
                revoked_on=values["revoked_on"],
                reason=f"举报 {case.number} 核实：{note.strip()}",
                banned_until=values.get("banned_until"),
                today=today,
            )
            case.revocation_id = revocation.id
    elif code == "close":
        case.closed_on = today


def add_note(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    report_id: int,
    note: str,
    uploads: Sequence[tuple[str, bytes]],
) -> CaseStep:
    """A handling note (办理记录) with files, by a handler; the state stays."""
    report = get_report(session, report_id)
    if not cases.is_case_handler(session, REPORT_KIND, case_id=report.id, user_id=actor.user_id):  # type: ignore[arg-type]
        raise ServiceError("只有该举报的承办人可以添加办理记录。")
    if not note.strip():
        raise ServiceError("请填写办理记录。", field="note")
    step = casework.record_event(
        session,
        workflow=REPORT_WORKFLOW,
        case=report,
        code="note",
        actor=actor,
        note=note,
        data={"files": len(uploads)} if uploads else None,
    )
    casework.attach_step_files(session, settings=settings, step=step, uploads=uploads, user_id=actor.user_id)
    return step


def link_target(
    session: Session,
    *,
    actor: Actor,
    report_id: int,
    row_version: int,
    certification_id: int | None,
    application_id: int | None,
) -> Report:
    """Link a report (e.g. one filed online with a typed name) to the certification or application it is about."""
    report = get_report(session, report_id, for_update=True)
    check_version(report, row_version, casework.STALE_CASE)
    if report.state in REPORT_WORKFLOW.final_states or report.state in rules.CONCLUDED_STATES:
        raise ServiceError("该举报已有结论，不能再更改被举报对象。")
    if report.state not in {"registered", "accepted"} and not cases.is_case_handler(
        session,
        REPORT_KIND,
        case_id=report.id,
        user_id=actor.user_id,  # type: ignore[arg-type]
    ):
        raise ServiceError("核实开始后，只有承办人可以更改被举报对象。")
    cert, app, enterprise = _resolve_target(session, certification_id=certification_id, application_id=application_id)
    if cert is None and app is None:
        raise ServiceError("请选择被举报的认定或申报。", field="target")
    report.certification_id = cert.id if cert else None
    report.application_id = app.id if app else None
    label = Target("certification" if cert else "application", cert, app, enterprise).label
    report.row_version += 1
    report.updated_at = utcnow()
    session.add(report)
    casework.record_event(
        session, workflow=REPORT_WORKFLOW, case=report, code="link", actor=actor, data={"target": label}
    )
    return report


def reveal_identity(session: Session, *, actor: Actor, report_id: int) -> tuple[str, str]:
    """The reporter's name and contact, for a handler of this report only; each call is one audit entry."""
    report = cases.view_identity(session, REPORT_KIND, actor=actor, case_id=report_id)
    return report.reporter_name, report.reporter_contact


def _overdue_clause(today: date):  # type: ignore[no-untyped-def]
    """SQL mirror of rules.is_overdue."""
    return or_(
        and_(Report.state == "verifying", Report.reply_deadline < today),  # type: ignore[operator]
        Report.state == "no_reply",
        and_(Report.state == "rectifying", Report.rectify_deadline < today),  # type: ignore[operator]
    )


def reports_query(
    *,
    today: date,
    q: str = "",
    state: str = "",
    channel: str = "",
    flag: str = "",
    handler_id: int | None = None,
    year: int | None = None,
):  # type: ignore[no-untyped-def]
    """Reports for the register; flag: overdue | open | closed."""
    stmt = select(Report)
    if year:
        stmt = stmt.where(Report.received_on >= date(year, 1, 1), Report.received_on <= date(year, 12, 31))
    return register.filtered(
        stmt,
        REPORT_KIND,
        today=today,
        overdue=_overdue_clause,
        open_states=set(REPORT_WORKFLOW.states) - REPORT_WORKFLOW.final_states,
        q=q,
        state=state,
        channel=channel,
        flag=flag,
        handler_id=handler_id,
    )


def search_targets(
    session: Session, q: str, *, limit: int = 20
) -> tuple[list[tuple[Certification, Enterprise]], list[tuple[Application, Enterprise]]]:
    """Certifications and applications whose enterprise or factory name (or credit code) matches `q`."""
    text = q.strip()[:100]
    if not text:
        return [], []
    like = f"%{text}%"
    code = normalise_credit_code(text)
    certs = list(
        session.exec(
            select(Certification, Enterprise)
            .join(Enterprise, Enterprise.id == Certification.enterprise_id)
            .where(
                or_(
                    Enterprise.name.like(like), Certification.factory_name.like(like), Certification.credit_code == code
                )
            )  # type: ignore[attr-defined]
            .order_by(Certification.status, Certification.valid_from.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
    )
    apps = list(
        session.exec(
            select(Application, Enterprise)
            .join(Enterprise, Enterprise.id == Application.enterprise_id)
            .where(or_(Enterprise.name.like(like), Application.factory_name.like(like), Enterprise.credit_code == code))  # type: ignore[attr-defined]
            .order_by(Application.id.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
    )
    return certs, apps


def reports_for_certification(session: Session, certification_id: int) -> list[Report]:
    return list(
        session.exec(select(Report).where(Report.certification_id == certification_id).order_by(Report.id.desc()))  # type: ignore[attr-defined]
    )
