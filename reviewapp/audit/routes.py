"""Browse, filter and export the audit log: the audit administrator sees everything, and each of his reads
and exports is itself recorded; staff see the work's entries without the security ones (accounts, logins,
roles, policy, the log's own reads). There is no route that deletes or changes an entry, for any role."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import not_, or_
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.audit.models import AuditEntry
from reviewapp.audit.service import ACTION_LABELS, ENTITY_LABELS
from reviewapp.auth.models import Role
from reviewapp.clock import as_utc
from reviewapp.excel import XLSX_MEDIA_TYPE, Column, content_disposition, workbook_bytes
from reviewapp.forms import parse_date
from reviewapp.web import actor_of, audit_readers, paginate, parse_page, render, settings_of

EXPORT_LIMIT = 100_000
RETENTION_DAYS = 180  # the least a deployment keeps; the app itself never deletes an entry

audit.register_labels(
    actions={"audit.view": "查阅操作日志", "audit.export": "导出操作日志"}, entities={"audit_log": "操作日志"}
)

# Entries only the audit administrator reads: accounts, logins, roles, the policy and the log's own reads.
SECURITY_ENTITIES = ("user", "security_policy", "audit_log")
SECURITY_ACTION_PREFIXES = ("auth.", "user.", "policy.", "audit.")


def _security_entry():  # type: ignore[no-untyped-def]
    return or_(
        AuditEntry.entity_type.in_(SECURITY_ENTITIES),  # type: ignore[attr-defined]
        *(AuditEntry.action.startswith(prefix) for prefix in SECURITY_ACTION_PREFIXES),  # type: ignore[attr-defined]
    )


def _is_auditor(request: Request) -> bool:
    return request.user.role == Role.auditadmin.value


def _record_read(request: Request, action: str, filters: dict[str, str], summary: str) -> None:
    """The audit administrator's own reads go into the chain, in a write transaction of their own."""
    used = {k: v for k, v in filters.items() if v}
    with Session(request.app.state.writer_engine, expire_on_commit=False) as writer:
        audit.record(
            writer,
            actor=actor_of(request),
            action=action,
            entity_type="audit_log",
            summary=summary + ("，条件：" + "；".join(f"{k}={v}" for k, v in used.items()) if used else ""),
            after=used or None,
        )
        writer.commit()


def _filtered(*, q: str, action: str, entity_type: str, date_from: str, date_to: str, tz, full: bool):  # type: ignore[no-untyped-def]
    stmt = select(AuditEntry)
    if not full:
        stmt = stmt.where(not_(_security_entry()))
    if q:
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(
            or_(
                AuditEntry.summary.like(like),  # type: ignore[attr-defined]
                AuditEntry.actor_name.like(like),  # type: ignore[attr-defined]
                AuditEntry.entity_id == q.strip(),
            )
        )
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    start, end = parse_date(date_from), parse_date(date_to)
    if start:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(start, time.min, tz))
    if end:
        stmt = stmt.where(AuditEntry.at < datetime.combine(end + timedelta(days=1), time.min, tz))
    return stmt.order_by(AuditEntry.seq.desc())  # type: ignore[attr-defined]


class AuditController(Controller):
    path = "/audit"
    guards = [audit_readers]

    @get("/", sync_to_thread=True)
    def browse(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        action: FromQuery[str] = "",
        entity_type: FromQuery[str] = "",
        date_from: FromQuery[str] = "",
        date_to: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        tz = settings_of(request).tz
        full = _is_auditor(request)
        filters = {"q": q, "action": action, "entity_type": entity_type, "date_from": date_from, "date_to": date_to}
        stmt = _filtered(**filters, tz=tz, full=full)
        result = paginate(db, stmt, page=parse_page(page), per_page=50)
        if full:
            _record_read(request, "audit.view", {**filters, "page": str(result.page)}, "查阅操作日志")
        return render(
            "audit/list.html",
            page=result,
            filters=filters,
            full=full,
            retention_days=RETENTION_DAYS,
            actions=ACTION_LABELS,
            entities=ENTITY_LABELS,
            bad_date=bool((date_from and not parse_date(date_from)) or (date_to and not parse_date(date_to))),
        )

    @get("/export.xlsx", sync_to_thread=True)
    def export(
        self,
        request: Request,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        action: FromQuery[str] = "",
        entity_type: FromQuery[str] = "",
        date_from: FromQuery[str] = "",
        date_to: FromQuery[str] = "",
    ) -> Response[bytes]:
        tz = settings_of(request).tz
        full = _is_auditor(request)
        filters = {"q": q, "action": action, "entity_type": entity_type, "date_from": date_from, "date_to": date_to}
        stmt = _filtered(**filters, tz=tz, full=full)
        rows = (
            [
                e.seq,
                as_utc(e.at).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                e.actor_name,
                ACTION_LABELS.get(e.action, e.action),
                ENTITY_LABELS.get(e.entity_type, e.entity_type),
                e.entity_id,
                e.summary,
                e.before_json,
                e.after_json,
                e.client_addr,
                e.hash,
            ]
            for e in db.exec(stmt.limit(EXPORT_LIMIT))
        )
        data = workbook_bytes(
            title="操作日志",
            columns=[
                Column("序号", 8),
                Column("时间（北京时间）", 20),
                Column("操作人", 14),
                Column("操作", 16),
                Column("对象类型", 12),
                Column("对象编号", 10),
                Column("摘要", 50, wrap=True),
                Column("变更前", 30, wrap=True),
                Column("变更后", 30, wrap=True),
                Column("来源地址", 16),
                Column("哈希", 20),
            ],
            rows=rows,
        )
        if full:  # recorded once the file is made, so that it does not list itself
            _record_read(request, "audit.export", filters, "导出操作日志")
        return Response(
            content=data,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition("操作日志.xlsx")},
        )
