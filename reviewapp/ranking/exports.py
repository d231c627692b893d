"""The official Excel files of a round (issue 6): from a request (a kind, perhaps a panel or an application) to a
file, and the audit entry of who took it.

The builders live beside this module, by the files they make: list_files (the lists the province sends on),
sheet_files (the panels' score summaries and the individual 专家评分表), raw_score_file (the raw scores from which
the ranking can be recomputed); they take the ranking views (recommendations, decisions, expert_sheets,
raw_scores) and return workbook bytes through the one Excel writer (reviewapp.excel.write_sheet). Headers and
footnotes follow the official tables [policy 000 附件1/附件2, 001 附件1/5].
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from reviewapp import audit
from reviewapp.audit import Actor
from reviewapp.db import session_scope
from reviewapp.documents.archive import application_sheets_pdf, panel_pdfs, pdf_name, round_archive
from reviewapp.errors import NotFound
from reviewapp.excel import XLSX_MEDIA_TYPE, safe_filename
from reviewapp.panels import service as panels
from reviewapp.ranking import decisions, expert_sheets, raw_scores, recommendations
from reviewapp.ranking.export_format import ExportError
from reviewapp.ranking.export_kinds import KINDS, ExportKind
from reviewapp.ranking.list_files import (
    list_workbook,
    overseas_workbook,
    recommendations_title,
    recommendations_workbook,
)
from reviewapp.ranking.raw_score_file import raw_scores_workbook
from reviewapp.ranking.sheet_files import panel_scores_workbook, sheets_filename, sheets_workbook
from reviewapp.rounds import service as rounds
from reviewapp.rounds.models import Round

audit.register_labels(actions={"ranking.export": "导出名单或评分表"}, entities={})


@dataclass(frozen=True)
class ExportFile:
    kind: ExportKind
    filename: str
    data: bytes
    rows: int  # lines (or files, for an archive) in it, for the audit log

    @property
    def media_type(self) -> str:
        return "application/zip" if self.kind.archive else XLSX_MEDIA_TYPE


# --- from a request to a file ----------------------------------------------------------------------------------


def _round_file(rnd: Round, what: str, ext: str = "xlsx") -> str:
    return safe_filename(f"{rnd.name}-{what}.{ext}")


def build(
    session: Session, *, round_id: int, kind: str, panel_id: int | None = None, application_id: int | None = None
) -> ExportFile:
    """Read what the export of `kind` needs and build the file. ExportError / NotFound say what is wrong."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ExportError(
            f"没有「{kind}」这种导出。可导出：" + "、".join(f"{k}（{v.label}）" for k, v in KINDS.items())
        )
    if spec.needs == "panel" and panel_id is None:
        raise ExportError(f"导出{spec.label}需要指定专家组。")
    if spec.needs == "application" and application_id is None:
        raise ExportError(f"导出{spec.label}需要指定申报项目。")

    if kind in ("list", "recommendations"):
        view = recommendations.round_list(session, round_id=round_id)
        if kind == "list":
            data = list_workbook(view, recommendations.scenario_names(session, [r.application.id for r in view.listed]))  # type: ignore[misc]
            return ExportFile(spec, _round_file(view.round, spec.label), data, len(view.listed))
        data = recommendations_workbook(view)
        return ExportFile(spec, _round_file(view.round, recommendations_title(view.round)), data, len(view.listed))

    if kind == "panel-scores":
        panel = _panel(session, round_id, panel_id)  # type: ignore[arg-type]
        pview = decisions.panel_ranking(session, panel_id=panel.id)  # type: ignore[arg-type]
        return ExportFile(
            spec,
            _round_file(pview.round, f"{panel.name}-专家评分汇总表"),
            panel_scores_workbook(pview),
            len(pview.rows),
        )

    if kind == "sheets":
        sview = expert_sheets.application_sheets(session, round_id=round_id, application_id=application_id)  # type: ignore[arg-type]
        return ExportFile(spec, sheets_filename(sview), sheets_workbook(sview), len(sview.sheets))

    if kind == "sheets-zip":
        panel = _panel(session, round_id, panel_id)  # type: ignore[arg-type]
        buf = io.BytesIO()
        names: set[str] = set()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for a in expert_sheets.panel_application_ids(session, round_id=round_id, panel_id=panel.id):  # type: ignore[arg-type]
                sview = expert_sheets.application_sheets(session, round_id=round_id, application_id=a)
                if not sview.sheets:
                    continue
                name = _unique(sheets_filename(sview), names)
                archive.writestr(name, sheets_workbook(sview))
                archive.writestr(pdf_name(name), application_sheets_pdf(session, round_id=round_id, application_id=a))
            for name, data in panel_pdfs(session, round_id=round_id, panel_id=panel.id) if names else ():
                archive.writestr(name, data)
        if not names:
            raise ExportError(f"「{panel.name}」尚无已提交的专家评分表。")
        rnd = rounds.get_round(session, round_id)
        return ExportFile(spec, _round_file(rnd, f"{panel.name}-专家评分表", "zip"), buf.getvalue(), len(names))

    if kind == "round-archive":
        rnd = rounds.get_round(session, round_id)
        data, count = round_archive(session, round_id=round_id, build=build)
        return ExportFile(spec, _round_file(rnd, "存档文件", "zip"), data, count)

    if kind == "overseas":
        rnd = rounds.get_round(session, round_id)
        rows = recommendations.overseas_applications(session, round_id=round_id)
        return ExportFile(spec, _round_file(rnd, spec.label), overseas_workbook(rnd, rows), len(rows))

    # raw-scores: the whole round, or one panel
    panel = _panel(session, round_id, panel_id) if panel_id is not None else None
    scores, panel_of = raw_scores.round_scores(session, round_id=round_id, panel_id=panel_id)
    scope = f"专家组「{panel.name}」" if panel else "本批次全部专家组"
    what = f"{panel.name}-{spec.label}" if panel else spec.label
    return ExportFile(
        spec, _round_file(scores.round, what), raw_scores_workbook(scores, panel_of, scope=scope), len(scores.sheets)
    )


def _panel(session: Session, round_id: int, panel_id: int) -> Any:
    try:
        return panels.get_panel(session, panel_id, round_id=round_id)
    except NotFound:
        raise NotFound(f"本批次没有编号为 {panel_id} 的专家组。") from None


def _unique(name: str, taken: set[str]) -> str:
    stem, _, ext = name.rpartition(".")
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{stem}({n}).{ext}", n + 1
    taken.add(candidate)
    return candidate


def export(
    engine: Engine,
    *,
    actor: Actor,
    round_id: int,
    kind: str,
    panel_id: int | None = None,
    application_id: int | None = None,
) -> ExportFile:
    """Build the file in a read transaction, then record the export in the audit log in a short write transaction
    of its own (a download is a GET: its request session is a reader, and SQLite must not upgrade a reader)."""
    with session_scope(engine) as session:
        file = build(session, round_id=round_id, kind=kind, panel_id=panel_id, application_id=application_id)
    detail = {k: v for k, v in (("panel_id", panel_id), ("application_id", application_id)) if v is not None}
    with session_scope(engine, write=True) as session:
        record_export(
            session,
            actor=actor,
            round_id=round_id,
            kind=kind,
            label=file.kind.label,
            filename=file.filename,
            detail={**detail, "rows": file.rows},
        )
        session.commit()
    return file


def record_export(
    session: Session, *, actor: Actor, round_id: int, kind: str, label: str, filename: str, detail: dict[str, Any]
) -> None:
    """Who took which official file out of the system, and when (the file names experts and their scores)."""
    audit.record(
        session,
        actor=actor,
        action="ranking.export",
        entity_type="round",
        entity_id=round_id,
        summary=f"导出{label}《{filename}》",
        after={"type": kind, "filename": filename, **detail},
    )
