"""The PDFs that go beside the Excel files in a panel's zip and in a round's archive (one zip of everything a round
files on paper: lists, each panel's summaries, opinions and score sheets, objections and spot checks)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from reviewapp.documents import builders  # noqa: F401  (registers the documents before any is rendered)
from reviewapp.documents.registry import Target, render_document
from reviewapp.errors import ServiceError


def pdf_name(excel_name: str) -> str:
    return excel_name.rsplit(".", 1)[0] + ".pdf"


def panel_pdfs(session: Session, *, round_id: int, panel_id: int) -> list[tuple[str, bytes]]:
    """The panel's 专家评分汇总表 and 专家组意见 as PDF (the score sheets are added per application by the caller)."""
    target = Target(round_id, panel_id=panel_id)
    return [
        (f"{doc.document.label}.pdf", doc.data)
        for doc in (render_document(session, key=key, target=target) for key in ("panel-scores", "group-opinion"))
    ]


def application_sheets_pdf(session: Session, *, round_id: int, application_id: int) -> bytes:
    return render_document(session, key="score-sheets", target=Target(round_id, application_id=application_id)).data


def round_archive(session: Session, *, round_id: int, build: Callable[..., Any]) -> tuple[bytes, int]:
    """Every official Excel file of the round with its PDF beside it; `build` is reviewapp.ranking.exports.build
    (passed in: ranking's exports call into this module for the panel zip). Returns (zip bytes, files)."""
    from reviewapp.objections.models import Objection
    from reviewapp.panels import service as panels
    from reviewapp.publicity.models import SpotCheck

    buf = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes) -> None:
            nonlocal count
            archive.writestr(name, data)
            count += 1

        for kind in ("recommendations", "list"):
            file = build(session, round_id=round_id, kind=kind)
            add(file.filename, file.data)
        add(
            pdf_name(build(session, round_id=round_id, kind="recommendations").filename),
            render_document(session, key="recommendations", target=Target(round_id)).data,
        )
        for panel in panels.round_panels(session, round_id):
            folder = f"{panel.name}/"
            scores = build(session, round_id=round_id, kind="panel-scores", panel_id=panel.id)
            add(folder + scores.filename, scores.data)
            panel_files = panel_pdfs(session, round_id=round_id, panel_id=panel.id)  # type: ignore[arg-type]
            for name, data in panel_files:
                add(folder + name, data)
            try:
                sheets = build(session, round_id=round_id, kind="sheets-zip", panel_id=panel.id)
            except ServiceError:
                continue  # no submitted sheets yet
            with zipfile.ZipFile(io.BytesIO(sheets.data)) as inner:
                for name in inner.namelist():
                    if name not in dict(panel_files):  # the panel's own PDFs, added above
                        add(folder + "专家评分表/" + name, inner.read(name))
        objections = session.exec(select(Objection).where(Objection.round_id == round_id)).all()
        for o in objections:
            pdf = render_document(session, key="objection", target=Target(round_id, objection_id=o.id))
            add("异议处理单/" + pdf.filename, pdf.data)
        if session.exec(select(SpotCheck).where(SpotCheck.round_id == round_id)).first() is not None:
            pdf = render_document(session, key="spot-checks", target=Target(round_id))
            add(pdf.filename, pdf.data)
    return buf.getvalue(), count
