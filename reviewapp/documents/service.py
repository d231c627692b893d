"""Render a registered document and record who took it, as the Excel exports do (the documents name experts)."""

from __future__ import annotations

from sqlalchemy import Engine

from reviewapp.audit import Actor
from reviewapp.db import session_scope
from reviewapp.documents import builders  # noqa: F401  (registers the documents before any is rendered)
from reviewapp.documents.registry import PdfFile, Target, render_document


def take_document(engine: Engine, *, actor: Actor, key: str, target: Target) -> PdfFile:
    """Render in a read transaction, then record the download in a short write transaction of its own."""
    from reviewapp.ranking import exports as ranking

    with session_scope(engine) as session:
        pdf = render_document(session, key=key, target=target)
    detail = {k: v for k, v in vars(target).items() if v is not None and k != "round_id"}
    with session_scope(engine, write=True) as session:
        ranking.record_export(
            session,
            actor=actor,
            round_id=target.round_id,
            kind=f"pdf:{key}",
            label=f"{pdf.document.label}（PDF）",
            filename=pdf.filename,
            detail=detail,
        )
        session.commit()
    return pdf
