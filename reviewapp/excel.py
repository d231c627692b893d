"""The one Excel helper: read tables as offices really send them, write official-style sheets."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
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


# --- reading --------------------------------------------------------------------------------------

# Footnote marks that offices put in header cells (¹²³⁴, ①②, *, ※, trailing digits after a closing bracket).
_FOOTNOTE_RE = re.compile(r"[\u00b9\u00b2\u00b3\u2070-\u209f\u2460-\u2473*※#]")


def normalise_text(value: Any) -> str:
    """Full-width to half-width (NFKC), unify spaces, strip. Chinese punctuation like 、 is kept."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    text = text.replace("\u00a0", " ").replace("\u3000", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def normalise_header(value: Any) -> str:
    """A header cell compared loosely: no line breaks, spaces, footnote marks or bracketed notes' punctuation."""
    text = _FOOTNOTE_RE.sub("", normalise_text(value))
    text = re.sub(r"\s+", "", text)
    text = text.replace("(", "（").replace(")", "）")
    # A footnote digit glued to the end of a header ("所属行业1", "行业中类4").
    text = re.sub(r"(?<=[\u4e00-\u9fff）])\d$", "", text)
    return text


class ExcelReadError(Exception):
    """The file as a whole cannot be read (not an .xlsx, no header found); `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class SheetRow:
    number: int  # the row number staff see in Excel
    values: dict[str, str]  # canonical column name -> normalised text ("" when empty)


@dataclass
class SheetTable:
    header_row: int
    columns: dict[str, int]  # canonical name -> column index (1-based)
    unknown_headers: list[str]
    rows: list[SheetRow] = field(default_factory=list)
    unit_line: str = ""  # the 「报送单位（盖章）：」 line above the header, if any
    present: bool = True  # False: an optional named sheet the workbook does not have


def read_table(
    data: bytes,
    *,
    columns: dict[str, Sequence[str]],
    required: Sequence[str],
    scan_rows: int = 15,
    sheet: str | None = None,
    sheet_optional: bool = False,
    keep_text: Sequence[str] = (),
) -> SheetTable:
    """Find the header row (title and 报送单位 rows above it are skipped) and return the data rows.

    `columns` maps each canonical name to the header spellings that mean it (compared after normalise_header);
    merged cells give their value to every cell they cover; empty rows and footnote rows below the table are dropped.
    `sheet` names the worksheet to read (compared loosely; default: the first one). A named sheet that is absent is
    an error, or, with `sheet_optional`, an empty table (`present` False).
    Columns named in `keep_text` hold prose: they are only trimmed, so full-width Chinese punctuation survives.
    """
    if not data or not zipfile.is_zipfile(io.BytesIO(data)):
        raise ExcelReadError("文件不是有效的 Excel（.xlsx）文件。请另存为 .xlsx 格式后重新上传。")
    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ExcelReadError("无法读取该 Excel 文件，文件可能已损坏或加密。") from exc
    if sheet is None:
        ws = wb.worksheets[0]
    else:
        by_name = {normalise_header(w.title): w for w in wb.worksheets}
        found_ws = by_name.get(normalise_header(sheet))
        if found_ws is None:
            if sheet_optional:
                return SheetTable(header_row=0, columns={}, unknown_headers=[], present=False)
            names = "、".join(w.title for w in wb.worksheets)
            raise ExcelReadError(f"未找到名为「{sheet}」的工作表（文件中的工作表：{names}）。")
        ws = found_ws
    merged_values: dict[tuple[int, int], Any] = {}
    for merged in ws.merged_cells.ranges:
        top_left = ws.cell(row=merged.min_row, column=merged.min_col).value
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                merged_values[(r, c)] = top_left

    aliases = {normalise_header(alias): name for name, spellings in columns.items() for alias in (name, *spellings)}
    best: tuple[int, int, dict[str, int], list[str]] | None = None
    for r in range(1, min(ws.max_row, scan_rows) + 1):
        found: dict[str, int] = {}
        unknown: list[str] = []
        for c in range(1, ws.max_column + 1):
            raw = ws.cell(row=r, column=c).value
            if raw is None:
                continue
            header = normalise_header(raw)
            name = aliases.get(header)
            if name and name not in found:
                found[name] = c
            elif header:
                unknown.append(normalise_text(raw))
        if best is None or len(found) > best[1]:
            best = (r, len(found), found, unknown)
    if best is None or best[1] == 0:
        raise ExcelReadError("未找到表头行。请使用官方名单汇总表格式或下载导入模板。")
    header_row, _, found, unknown = best
    missing = [name for name in required if name not in found]
    if missing:
        where = f"工作表「{ws.title}」" if sheet is not None else ""
        raise ExcelReadError(f"{where}第 {header_row} 行表头缺少必需的列：{'、'.join(missing)}。")

    unit_line = ""
    for r in range(1, header_row):
        text = normalise_text(ws.cell(row=r, column=1).value)
        if text.startswith("报送单位"):
            unit_line = text

    table = SheetTable(header_row=header_row, columns=found, unknown_headers=unknown, unit_line=unit_line)
    for r in range(header_row + 1, ws.max_row + 1):
        values = {}
        for name, c in found.items():
            raw = merged_values.get((r, c), ws.cell(row=r, column=c).value)
            values[name] = str(raw).strip() if name in keep_text and raw is not None else normalise_text(raw)
        if not any(values.values()):
            continue
        table.rows.append(SheetRow(number=r, values=values))
    return table
