"""Re-encrypting every confidential column under the active key (or back to plain text), and counting what is
stored under which key."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from sqlmodel import Session, select

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.crypto import core
from reviewapp.crypto.types import BLIND_INDEXES, CONFIDENTIAL_COLUMNS

audit.register_labels(actions={"crypto.rotate": "重新加密机密字段"}, entities={"crypto": "加密设置"})

BATCH = 500


def _raw(table: str, column: str) -> sa.TableClause:
    """The table seen without ConfidentialText: the stored text as it is."""
    return sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.Text))


def stored_key_counts(session: Session) -> dict[tuple[str, str], Counter[str]]:
    """Per confidential column: how many non-empty values are plain ("明文") or under each key id."""
    out: dict[tuple[str, str], Counter[str]] = {}
    for table, column in CONFIDENTIAL_COLUMNS:
        t = _raw(table, column)
        counts: Counter[str] = Counter()
        for (value,) in session.execute(sa.select(t.c[column]).where(t.c[column] != "")):
            counts[core.key_id_of(value) or "明文"] += 1
        out[(table, column)] = counts
    return out


def audit_algorithm_counts(session: Session) -> Counter[str]:
    rows = session.execute(select(AuditEntry.hash_alg, sa.func.count()).group_by(AuditEntry.hash_alg))
    return Counter({alg: n for alg, n in rows})


def rotate(session: Session, *, actor: Actor) -> int:
    """Rewrite every confidential value: under 国密 encrypted with the active key, otherwise decrypted to plain
    text; then recompute the blind indexes. One transaction (the caller commits); returns the values rewritten."""
    cfg = core.active()
    changed = 0
    for table, column in CONFIDENTIAL_COLUMNS:
        t = _raw(table, column)
        last = 0
        while True:
            rows = session.execute(
                sa.select(t.c.id, t.c[column]).where(t.c.id > last, t.c[column] != "").order_by(t.c.id).limit(BATCH)
            ).all()
            if not rows:
                break
            for row_id, value in rows:
                plain = core.decrypt(value)
                stored = core.encrypt(plain) if cfg.gm else plain
                session.execute(sa.update(t).where(t.c.id == row_id).values({column: stored}))
                changed += 1
            last = rows[-1][0]
    for model, source, index in BLIND_INDEXES:
        for obj in session.exec(select(model)):
            value = getattr(obj, source) or ""
            fresh = core.blind_index(value) if cfg.gm and value else ""
            if getattr(obj, index) != fresh:
                setattr(obj, index, fresh)
                session.add(obj)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="crypto.rotate",
        entity_type="crypto",
        summary=(
            f"以 SM4 密钥 {cfg.keyring.active_id} 重新加密 {changed} 个机密字段值"
            if cfg.gm and cfg.keyring
            else f"将 {changed} 个机密字段值恢复为明文存储"
        ),
    )
    return changed
