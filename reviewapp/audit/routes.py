"""Browse, filter and export the audit log (staff and admins)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import or_
from sqlmodel import Session, select

from reviewapp.audit.models import AuditEntry
from reviewapp.audit.service import ACTION_LABELS, ENTITY_LABELS
from reviewapp.clock import as_utc
from reviewapp.excel import XLSX_MEDIA_TYPE, Column, content_disposition, workbook_bytes
from reviewapp.forms import parse_date
from reviewapp.web import paginate, parse_page, render, settings_of, staff_only

EXPORT_LIMIT = 100_000


def _filtered(*, q: str, action: str, entity_type: str, date_from: str, date_to: str, tz):  # type: ignore[no-untyped-def]
    stmt = select(AuditEntry)
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
    guards = [staff_only]

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
        stmt = _filtered(q=q, action=action, entity_type=entity_type, date_from=date_from, date_to=date_to, tz=tz)
        result = paginate(db, stmt, page=parse_page(page), per_page=50)
        return render(
            "audit/list.html",
            page=result,
            filters={"q": q, "action": action, "entity_type": entity_type, "date_from": date_from, "date_to": date_to},
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
        stmt = _filtered(q=q, action=action, entity_type=entity_type, date_from=date_from, date_to=date_to, tz=tz)
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
        return Response(
            content=data,
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": content_disposition("操作日志.xlsx")},
        )
