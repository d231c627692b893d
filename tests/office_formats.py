"""Test helper: the same workbook saved as the other formats offices send (.xls, .ods, CSV in GBK or UTF-8 with BOM),
written from an openpyxl workbook so a test can compare each import with the .xlsx one."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook


def _workbook(data: bytes | Workbook) -> Workbook:
    return data if isinstance(data, Workbook) else load_workbook(io.BytesIO(data))


def _grid(ws: Any) -> list[list[Any]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def to_xls(data: bytes | Workbook) -> bytes:
    """BIFF8 (.xls, also what WPS saves as compound .et): values, merged ranges and hidden sheets kept."""
    import xlwt

    wb = _workbook(data)
    out = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for ws in wb.worksheets:
        sheet = out.add_sheet(ws.title[:31], cell_overwrite_ok=True)
        if ws.sheet_state != "visible":
            sheet.visibility = 1
        merged_tops: dict[tuple[int, int], tuple[int, int]] = {}
        covered: set[tuple[int, int]] = set()
        for m in ws.merged_cells.ranges:
            merged_tops[(m.min_row, m.min_col)] = (m.max_row, m.max_col)
            covered |= {(r, c) for r in range(m.min_row, m.max_row + 1) for c in range(m.min_col, m.max_col + 1)}
        for r, row in enumerate(_grid(ws), start=1):
            for c, value in enumerate(row, start=1):
                if (r, c) in merged_tops:
                    r2, c2 = merged_tops[(r, c)]
                    sheet.write_merge(r - 1, r2 - 1, c - 1, c2 - 1, value)
                elif (r, c) in covered or value is None:
                    continue
                elif isinstance(value, (date, datetime)):
                    sheet.write(r - 1, c - 1, value, date_style)
                else:
                    sheet.write(r - 1, c - 1, value)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def to_ods(data: bytes | Workbook) -> bytes:
    """OpenDocument spreadsheet (.ods) with merged ranges and hidden sheets kept."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    wb = _workbook(data)
    doc = OpenDocumentSpreadsheet()
    hidden = Style(name="hiddentable", family="table")
    hidden.addElement(TableProperties(display=False))
    doc.automaticstyles.addElement(hidden)
    for ws in wb.worksheets:
        table = Table(name=ws.title, **({"stylename": hidden} if ws.sheet_state != "visible" else {}))
        spans = {(m.min_row, m.min_col): (m.max_row, m.max_col) for m in ws.merged_cells.ranges}
        covered = {
            (r, c)
            for m in ws.merged_cells.ranges
            for r in range(m.min_row, m.max_row + 1)
            for c in range(m.min_col, m.max_col + 1)
        } - set(spans)
        for r, row in enumerate(_grid(ws), start=1):
            tr = TableRow()
            for c, value in enumerate(row, start=1):
                if (r, c) in covered:
                    tr.addElement(CoveredTableCell())
                    continue
                attrs: dict[str, Any] = {}
                if (r, c) in spans:
                    r2, c2 = spans[(r, c)]
                    attrs = {"numberrowsspanned": r2 - r + 1, "numbercolumnsspanned": c2 - c + 1}
                if isinstance(value, bool) or value is None:
                    cell = TableCell(**attrs)
                elif isinstance(value, (int, float)):
                    cell = TableCell(valuetype="float", value=value, **attrs)
                elif isinstance(value, (date, datetime)):
                    cell = TableCell(valuetype="date", datevalue=value.strftime("%Y-%m-%d"), **attrs)
                else:
                    cell = TableCell(valuetype="string", **attrs)
                if value is not None:
                    cell.addElement(
                        P(text=value.strftime("%Y-%m-%d") if isinstance(value, (date, datetime)) else str(value))
                    )
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def to_csv(data: bytes | Workbook, *, encoding: str) -> bytes:
    """The first visible sheet as CSV, as Excel's 「CSV（逗号分隔）」 saves it: merged cells keep their value in the
    top-left cell only. `encoding`: "gbk", "gb18030", "utf-8" or "utf-8-sig" (with BOM); what the encoding lacks
    (superscript footnote marks in GBK) becomes "?", as Excel writes it."""
    wb = _workbook(data)
    ws = next(w for w in wb.worksheets if w.sheet_state == "visible")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in _grid(ws):
        writer.writerow(
            ["" if v is None else v.strftime("%Y-%m-%d") if isinstance(v, (date, datetime)) else v for v in row]
        )
    return buf.getvalue().encode(encoding, errors="replace")
