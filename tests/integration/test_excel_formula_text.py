"""Formula-like text (issue 12): an enterprise, factory or expert name or an opinion starting with =, +, -, @, tab or
CR is written to every Excel export as a text cell, never as a formula a spreadsheet program would run."""

from __future__ import annotations

import io
import re
import zipfile

from litestar.handlers import HTTPRouteHandler
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from reviewapp.applications.models import Application, Enterprise
from reviewapp.demo import load_demo
from reviewapp.excel import Column, workbook_to_bytes, write_sheet
from reviewapp.panels.models import Expert, Panel
from reviewapp.ranking.export_kinds import KINDS
from reviewapp.scoring.models import ScoreSheet

PAYLOADS = ['=HYPERLINK("http://evil.example","点我")', "+1+2", "-3+4", "@SUM(1,2)", "\t=1+1", "\r=1+1"]


def _cells(data: bytes) -> list:  # type: ignore[type-arg]
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def _workbooks(data: bytes) -> list[bytes]:
    if data[:2] == b"PK" and "xl/workbook.xml" not in zipfile.ZipFile(io.BytesIO(data)).namelist():
        archive = zipfile.ZipFile(io.BytesIO(data))
        return [archive.read(n) for n in archive.namelist() if n.endswith(".xlsx")]
    return [data]


def test_the_write_helper_keeps_formula_like_text_as_text():
    for write_only, plain in [(False, False), (True, False), (True, True)]:
        wb = Workbook(write_only=write_only)
        ws = wb.create_sheet("表") if write_only else wb.active
        write_sheet(
            ws, title="=标题", columns=[Column("名称"), Column("数")], rows=[[p, 1] for p in PAYLOADS], plain=plain
        )
        cells = _cells(workbook_to_bytes(wb))
        texts = {c.value for c in cells if c.data_type == "s"}
        assert not [c.coordinate for c in cells if c.data_type == "f"], (write_only, plain)
        # (XML turns a CR into a line feed when read back: still text, which is what matters)
        assert {p.replace("\r", "\n") for p in PAYLOADS} <= texts and "=标题" in texts


def test_every_export_writes_names_and_opinions_as_text(db, settings, login, app):  # type: ignore[no-untyped-def]
    load_demo(db, settings=settings)
    for i, e in enumerate(db.exec(select(Enterprise).order_by(Enterprise.id))):
        e.name = PAYLOADS[i % len(PAYLOADS)] + f"企业{i}"
        db.add(e)
    for i, a in enumerate(db.exec(select(Application).order_by(Application.id))):
        a.factory_name = PAYLOADS[(i + 1) % len(PAYLOADS)] + f"工厂{i}"
        db.add(a)
    for i, x in enumerate(db.exec(select(Expert).order_by(Expert.id))):
        x.name = PAYLOADS[(i + 2) % len(PAYLOADS)] + f"专家{i}"
        db.add(x)
    for s in db.exec(select(ScoreSheet)):
        s.opinion = "=1+1 意见"
        db.add(s)
    db.commit()
    staff_client = login("staff", "staff-demo-2026")
    panel = db.exec(select(Panel).order_by(Panel.id)).first()
    application = db.exec(select(Application).where(Application.panel_id == panel.id)).first()
    round_id = panel.round_id
    urls = [f"/rounds/{round_id}/exports/{k}?panel_id={panel.id}&application_id={application.id}" for k in KINDS]
    for route in app.routes:  # every other spreadsheet download of the app
        handlers = [h for h in getattr(route, "route_handlers", []) if isinstance(h, HTTPRouteHandler)]
        if route.path.endswith(".xlsx") and any("GET" in h.http_methods for h in handlers):
            urls.append(re.sub(r"\{round_id:int\}", str(round_id), route.path).replace("{draw_id:int}", "1"))
    checked, formula_cells, payload_texts = [], [], 0
    for url in urls:
        response = staff_client.get(url, follow_redirects=False)
        if response.status_code != 200 or response.content[:2] != b"PK":
            continue
        for book in _workbooks(response.content):
            cells = _cells(book)
            formula_cells += [f"{url} {c.coordinate}={c.value!r}" for c in cells if c.data_type == "f"]
            payload_texts += sum(
                1 for c in cells if c.data_type == "s" and str(c.value).startswith(tuple(p[:2] for p in PAYLOADS))
            )
        checked.append(url)
    assert formula_cells == []
    assert len(checked) >= 5, checked  # the official lists, sheets, raw scores, the expert and audit downloads…
    assert payload_texts > 20  # the names really reached the files, as text
