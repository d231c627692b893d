"""The one Excel-writing helper: official-style sheets with a title row, optional 报送单位 row, frozen header and print set-up."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14
    wrap: bool = False


def write_sheet(
    ws: Worksheet,
    *,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    unit_line: str | None = None,
    landscape: bool = True,
) -> None:
    """Fill `ws`: title row, optional 报送单位 row, header, data rows; widths, borders, frozen header, print set-up."""
    ncols = len(columns)
    last_col = get_column_letter(ncols)
    ws.append([title])
    ws.merge_cells(f"A1:{last_col}1")
    ws["A1"].font = Font(name="宋体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    header_row = 2
    if unit_line is not None:
        ws.append([unit_line])
        ws.merge_cells(f"A2:{last_col}2")
        ws["A2"].alignment = Alignment(horizontal="left", vertical="center")
        header_row = 3
    ws.append([c.header for c in columns])
    for idx, col in enumerate(columns, start=1):
        cell = ws.cell(row=header_row, column=idx)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(idx)].width = col.width
    wrap_cols = {i for i, c in enumerate(columns, start=1) if c.wrap}
    for row in rows:
        ws.append(list(row))
        r = ws.max_row
        for idx in range(1, ncols + 1):
            cell = ws.cell(row=r, column=idx)
            cell.border = _BORDER
            if idx in wrap_cols:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def workbook_bytes(
    *,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    sheet_name: str | None = None,
    unit_line: str | None = None,
) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = (sheet_name or title)[:31]
    write_sheet(ws, title=title, columns=columns, rows=rows, unit_line=unit_line)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def content_disposition(filename: str) -> str:
    """RFC 5987 filename so Chinese names survive every browser."""
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(filename)}"
