"""The documents a round produces, by name: each names its template, what it needs (a panel, an application, an
objection, a draw, a spot check or only the round) and a builder that reads the context from the domains' views.
Adding a document is one builder and one template registered here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from reviewapp.audit.models import AuditEntry, AuditHead
from reviewapp.clock import BEIJING, utcnow
from reviewapp.errors import NotFound, ServiceError
from reviewapp.excel import safe_filename


@dataclass(frozen=True)
class Target:
    """What a document is about: the round and, as its kind needs, one panel, application, objection or check."""

    round_id: int
    panel_id: int | None = None
    application_id: int | None = None
    objection_id: int | None = None
    expert_id: int | None = None  # score sheets: only this expert's (an expert downloading their own)
    draw_id: int | None = None  # the expert draw record (抽取记录表)
    unsealed: bool | None = None  # draw record: the caller checked the viewer may see names before review opens


@dataclass(frozen=True)
class Anchor:
    """The audit entry a printed page is matched to: the latest about the document's objects, or the chain head."""

    seq: int
    hash: str
    of_object: bool

    @property
    def text(self) -> str:
        which = "本文件对象的最新审计记录" if self.of_object else "生成时审计链最新记录（链头）"
        return f"审计链校验：{which} 第 {self.seq} 条，哈希 {self.hash}"


@dataclass(frozen=True)
class Built:
    title: str  # the document's name, for the file name
    context: dict[str, Any]
    anchors: tuple[tuple[str, Any], ...] = ()  # (entity_type, entity_id) whose latest audit entry anchors it


@dataclass(frozen=True)
class Document:
    key: str  # URL segment and CLI name
    label: str  # what staff read
    template: str
    needs: str | None  # "panel", "application", "objection", "draw" or None (the round)
    build: Callable[[Session, Target], Built]


DOCUMENTS: dict[str, Document] = {}


def register(key: str, label: str, template: str, needs: str | None = None) -> Callable[[Any], Any]:
    def wrap(build: Callable[[Session, Target], Built]) -> Callable[[Session, Target], Built]:
        DOCUMENTS[key] = Document(key, label, template, needs, build)
        return build

    return wrap


def anchor(session: Session, pairs: tuple[tuple[str, Any], ...]) -> Anchor:
    """The latest audit entry about any of `pairs`; without one, the chain's head at rendering time."""
    latest = None
    if pairs:
        from sqlalchemy import and_, or_

        latest = session.exec(
            select(AuditEntry)
            .where(or_(*[and_(AuditEntry.entity_type == t, AuditEntry.entity_id == str(i)) for t, i in pairs]))
            .order_by(col(AuditEntry.seq).desc())
            .limit(1)
        ).first()
    if latest is not None:
        return Anchor(latest.seq, latest.hash, True)
    head = session.get(AuditHead, 1)
    return Anchor(head.last_seq if head else 0, head.last_hash if head else "（审计链为空）", False)


@dataclass(frozen=True)
class PdfFile:
    document: Document
    filename: str
    data: bytes


def render_document(session: Session, *, key: str, target: Target, now: datetime | None = None) -> PdfFile:
    """Build the context, render the template to PDF. ServiceError / NotFound say (in Chinese) what is wrong."""
    from reviewapp.documents.render import html_to_pdf, render_html
    from reviewapp.rounds import service as rounds

    doc = DOCUMENTS.get(key)
    if doc is None:
        raise ServiceError(
            f"没有「{key}」这种文件。可生成：" + "、".join(f"{k}（{d.label}）" for k, d in DOCUMENTS.items())
        )
    needed = {
        "panel": target.panel_id,
        "application": target.application_id,
        "objection": target.objection_id,
        "draw": target.draw_id,
    }
    if doc.needs and needed[doc.needs] is None:
        what = {"panel": "专家组", "application": "申报项目", "objection": "异议", "draw": "抽取记录"}[doc.needs]
        raise ServiceError(f"生成{doc.label}需要指定{what}。")
    rnd = rounds.get_round(session, target.round_id)
    built = doc.build(session, target)
    now = now or utcnow()
    context = {
        "round": rnd,
        "doc_title": built.title,
        "printed_on": now.astimezone(BEIJING).date(),
        "anchor": anchor(session, built.anchors),
        **built.context,
    }
    data = html_to_pdf(render_html(doc.template, context))
    return PdfFile(doc, safe_filename(f"{rnd.name}-{built.title}.pdf"), data)


def not_found(what: str) -> NotFound:
    return NotFound(f"本批次没有这个{what}。")
