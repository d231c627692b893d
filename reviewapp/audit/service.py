"""The one audit call every state-changing operation makes, inside its own transaction, and the chain verifier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from reviewapp import crypto
from reviewapp.audit.models import AuditEntry, AuditHead
from reviewapp.clock import as_utc, utcnow

GENESIS = "0" * 64

# Chinese labels for action codes and entity types; each domain registers its own next to its service.
ACTION_LABELS: dict[str, str] = {}
ENTITY_LABELS: dict[str, str] = {}


def register_labels(*, actions: dict[str, str], entities: dict[str, str]) -> None:
    ACTION_LABELS.update(actions)
    ENTITY_LABELS.update(entities)


@dataclass(frozen=True)
class Actor:
    """Who did something: a user, or the system/CLI (user_id None)."""

    user_id: int | None
    name: str
    client_addr: str = ""

    @classmethod
    def system(cls, name: str = "系统") -> Actor:
        return cls(user_id=None, name=name)


def _dump(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))


def entry_hash(entry: AuditEntry) -> str:
    """The entry's own algorithm (SHA-256, or SM3 under 国密) over the previous hash and every recorded field."""
    payload = "\x1f".join(
        [
            entry.prev_hash,
            str(entry.seq),
            as_utc(entry.at).isoformat(timespec="microseconds"),
            "" if entry.actor_id is None else str(entry.actor_id),
            entry.actor_name,
            entry.action,
            entry.entity_type,
            entry.entity_id,
            entry.summary,
            entry.before_json,
            entry.after_json,
            entry.client_addr,
        ]
    )
    return crypto.audit_digest(payload.encode("utf-8"), entry.hash_alg or "sha256")[1]


def _lock_head(session: Session) -> AuditHead:
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:  # created by the first migration; missing means the schema was not migrated
        raise RuntimeError("audit_head row missing: run `reviewapp db upgrade`")
    return head


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object = "",
    summary: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry to the chain in the caller's transaction (the caller commits)."""
    head = _lock_head(session)
    entry = AuditEntry(
        seq=head.last_seq + 1,
        at=utcnow(),
        actor_id=actor.user_id,
        actor_name=actor.name[:64],
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id)[:64],
        summary=summary[:500],
        before_json=_dump(before),
        after_json=_dump(after),
        client_addr=actor.client_addr[:64],
        prev_hash=head.last_hash or GENESIS,
        hash_alg=crypto.active().audit_algorithm,
    )
    entry.hash = entry_hash(entry)
    head.last_seq = entry.seq
    head.last_hash = entry.hash
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    entry_id: int | None
    reason: str


def _iter_entries(session: Session, batch: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.exec(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify_chain(session: Session) -> tuple[int, ChainProblem | None]:
    """Walk the chain; return (entries checked, first problem or None)."""
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    for entry in _iter_entries(session):
        if entry.seq != expected_seq:
            return count, ChainProblem(expected_seq, None, f"第 {expected_seq} 条记录缺失（已被删除）")
        if entry.prev_hash != prev_hash:
            return count, ChainProblem(
                entry.seq, entry.id, f"第 {entry.seq} 条记录的前序哈希不符（前一条被改动或删除）"
            )
        if entry_hash(entry) != entry.hash:
            return count, ChainProblem(entry.seq, entry.id, f"第 {entry.seq} 条记录内容被改动（哈希不符）")
        prev_hash = entry.hash
        expected_seq += 1
        count += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != count or (count and head.last_hash != prev_hash)):
        return count, ChainProblem(count + 1, None, f"链尾记录缺失：应有 {head.last_seq} 条，实有 {count} 条")
    return count, None
