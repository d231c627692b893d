"""Revocations of certifications (取消认定) and the bans on applying again that follow (禁止申报). Every operation
writes its audit entry in the caller's transaction; the caller commits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.applications.models import Enterprise
from reviewapp.applications.rules import normalise_credit_code
from reviewapp.audit import Actor
from reviewapp.clock import utcnow
from reviewapp.errors import ServiceError
from reviewapp.reports import rules
from reviewapp.reports.certifications.service import (
    STALE_CERTIFICATION,
    cert_snapshot,
    check_version,
    get_certification,
)
from reviewapp.reports.models import (
    Certification,
    CertificationStatus,
    Revocation,
    RevocationReason,
)

audit.register_labels(actions={"certification.revoke": "取消认定"}, entities={"revocation": "取消认定"})


# --- revocation and bans --------------------------------------------------------------------------


def revoke(
    session: Session,
    *,
    actor: Actor,
    certification_id: int,
    row_version: int | None,
    reason_category: str,
    revoked_on: date,
    reason: str,
    banned_until: date | None,
    today: date,
) -> Revocation:
    """取消认定: the certification is marked revoked and its credit code banned until `banned_until`
    (at least rules.ban_until(revoked_on); the computed date when none is given)."""
    cert = get_certification(session, certification_id, for_update=True)
    check_version(cert, row_version, STALE_CERTIFICATION)
    if cert.status == CertificationStatus.revoked.value:
        raise ServiceError("该认定已被取消，不能重复取消。")
    try:
        category = RevocationReason(reason_category)
    except ValueError as exc:
        raise ServiceError("请选择取消认定的理由类别。", field="reason_category") from exc
    if revoked_on > today:
        raise ServiceError("「取消认定日期」不能晚于今天。", field="revoked_on")
    if not reason.strip():
        raise ServiceError("请填写取消认定的事实和理由。", field="reason")
    minimum = rules.ban_until(revoked_on)
    banned_until = banned_until or minimum
    if banned_until < minimum:
        raise ServiceError(f"禁止申报期限至少 3 年：应不早于 {minimum.isoformat()}。", field="banned_until")
    enterprise = session.get(Enterprise, cert.enterprise_id)
    before = cert_snapshot(cert)
    cert.status = CertificationStatus.revoked.value
    cert.row_version += 1
    cert.updated_at = utcnow()
    session.add(cert)
    revocation = Revocation(
        certification_id=cert.id,
        credit_code=cert.credit_code,
        enterprise_name=enterprise.name if enterprise else cert.factory_name,
        reason_category=category.value,
        reason=reason.strip(),
        revoked_on=revoked_on,
        banned_until=banned_until,
        created_by=actor.user_id,
    )
    session.add(revocation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="certification.revoke",
        entity_type="certification",
        entity_id=cert.id,
        summary=f"取消 {revocation.enterprise_name} {cert.factory_name} 的{cert.tier_label}认定（{category.label}），"
        f"{banned_until.isoformat()} 前不得再次申报",
        before=before,
        after={
            **cert_snapshot(cert),
            "revocation_id": revocation.id,
            "reason_category": category.value,
            "revoked_on": revoked_on.isoformat(),
            "banned_until": banned_until.isoformat(),
        },
    )
    return revocation


def bans_query(*, q: str = "", status: str = "", today: date):  # type: ignore[no-untyped-def]
    """Rows of (Revocation, Certification|None); status: active | ended."""
    stmt = select(Revocation, Certification).join(
        Certification, Certification.id == Revocation.certification_id, isouter=True
    )
    if q:
        like = f"%{q.strip()[:100]}%"
        stmt = stmt.where(
            or_(
                Revocation.enterprise_name.like(like),  # type: ignore[attr-defined]
                Revocation.credit_code == normalise_credit_code(q),
                Certification.factory_name.like(like),  # type: ignore[union-attr]
            )
        )
    if status == "active":
        stmt = stmt.where(Revocation.banned_until >= today)
    elif status == "ended":
        stmt = stmt.where(Revocation.banned_until < today)
    return stmt.order_by(Revocation.revoked_on.desc(), Revocation.id.desc())  # type: ignore[attr-defined]
