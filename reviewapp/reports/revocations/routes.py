"""Pages for revoking a certification (取消认定) and the register of bans (禁止申报名单)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from reviewapp import clock
from reviewapp.applications.models import Enterprise
from reviewapp.errors import ServiceError
from reviewapp.excel import Column, workbook_bytes
from reviewapp.forms import Field, parse_date, validate
from reviewapp.reports import rules
from reviewapp.reports.certifications import service as certifications
from reviewapp.reports.listing import filtered_register
from reviewapp.reports.models import (
    REVOCATION_REASON_LABELS,
    Certification,
)
from reviewapp.reports.revocations import service
from reviewapp.web import (
    FormData,
    actor_of,
    flash,
    found_or_404,
    render,
    staff_only,
    xlsx_response,
)

REASON_CHOICES = {r.value: label for r, label in REVOCATION_REASON_LABELS.items()}
BAN_STATUS_CHOICES = {"active": "禁止申报中", "ended": "已期满"}
EXPORT_LIMIT = 100_000


REVOKE_FIELDS = [
    Field("reason_category", "理由类别", kind="choice", choices=tuple(REASON_CHOICES)),
    Field("revoked_on", "取消认定日期", kind="date"),
    Field("banned_until", "禁止申报至", kind="date", required=False),
    Field("reason", "事实和理由", kind="text", max_length=5000),
    Field("row_version", "版本号", kind="int", min_value=1),
]


def _parse_date(value: Any) -> date | None:
    return parse_date(str(value)) if value else None


class RevocationController(Controller):
    path = "/certifications"
    guards = [staff_only]

    @get("/{cert_id:int}/revoke", sync_to_thread=True)
    def revoke_page(self, db: NamedDependency[Session], cert_id: FromPath[int]) -> Template:
        cert = found_or_404(certifications.get_certification, db, cert_id)
        today = clock.today_beijing()
        form = {"revoked_on": today.isoformat(), "row_version": str(cert.row_version)}
        return self._revoke_form(db, cert, form, {})

    def _revoke_form(self, db: Session, cert: Certification, form: dict[str, Any], errors: dict[str, str]) -> Template:
        revoked_on = _parse_date(form.get("revoked_on")) or clock.today_beijing()
        return render(
            "certifications/revoke.html",
            cert=cert,
            enterprise=db.get(Enterprise, cert.enterprise_id),
            form=form,
            errors=errors,
            reasons=REASON_CHOICES,
            minimum=rules.ban_until(revoked_on),
            tab="register",
        )

    @post("/{cert_id:int}/revoke", sync_to_thread=True)
    def revoke(self, request: Request, db: NamedDependency[Session], cert_id: FromPath[int], data: FormData) -> Any:
        cert = found_or_404(certifications.get_certification, db, cert_id)
        form = validate(data, REVOKE_FIELDS)
        if form.ok:
            try:
                revocation = service.revoke(
                    db,
                    actor=actor_of(request),
                    certification_id=cert.id,
                    row_version=form.values["row_version"],
                    reason_category=form.values["reason_category"],
                    revoked_on=form.values["revoked_on"],
                    reason=form.values["reason"],
                    banned_until=form.values["banned_until"],
                    today=clock.today_beijing(),
                )
                db.commit()
                flash(request, f"已取消认定。该企业 {revocation.banned_until.isoformat()} 前不得再次申报。")
                return Redirect(path=f"/certifications/{cert.id}", status_code=303)
            except ServiceError as exc:
                db.rollback()
                form.add_error(exc.field or "_form", exc.message)
        db.expire_all()
        cert = found_or_404(certifications.get_certification, db, cert_id)
        return self._revoke_form(db, cert, form.raw, form.errors)

    @get("/bans", sync_to_thread=True)
    def bans(
        self,
        db: NamedDependency[Session],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page: FromQuery[str] = "1",
    ) -> Template:
        today = clock.today_beijing()
        return filtered_register(
            db,
            "certifications/bans.html",
            query=service.bans_query,
            q=q,
            status=status,
            statuses=BAN_STATUS_CHOICES,
            page=page,
            today=today,
            reasons=REASON_CHOICES,
            banned=lambda r: rules.is_banned(r.banned_until, today),
            tab="bans",
        )

    @get("/bans/export.xlsx", sync_to_thread=True)
    def export_bans(
        self, db: NamedDependency[Session], q: FromQuery[str] = "", status: FromQuery[str] = ""
    ) -> Response[bytes]:
        today = clock.today_beijing()
        stmt = service.bans_query(q=q[:64], status=status if status in BAN_STATUS_CHOICES else "", today=today)
        rows = (
            [
                i,
                r.enterprise_name,
                r.credit_code,
                c.factory_name if c else "",
                REASON_CHOICES.get(r.reason_category, r.reason_category),
                r.revoked_on.isoformat(),
                r.banned_until.isoformat(),
                "禁止申报中" if rules.is_banned(r.banned_until, today) else "已期满",
                r.reason,
            ]
            for i, (r, c) in enumerate(db.exec(stmt.limit(EXPORT_LIMIT)), start=1)
        )
        data = workbook_bytes(
            title="取消认定及禁止申报名单",
            columns=[
                Column("序号", 6),
                Column("企业名称", 30, wrap=True),
                Column("统一社会信用代码", 22),
                Column("工厂名称", 30, wrap=True),
                Column("理由类别", 24, wrap=True),
                Column("取消认定日期", 13),
                Column("禁止申报至", 13),
                Column("状态", 11),
                Column("事实和理由", 50, wrap=True),
            ],
            rows=rows,
        )
        return xlsx_response("取消认定及禁止申报名单.xlsx", data)
