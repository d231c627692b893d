"""The one Excel helper: read tables as offices really send them, write official-style sheets."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from reviewapp.spreadsheets import Grid, SpreadsheetError, open_book

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14
    wrap: bool = False
    number_format: str | None = None  # e.g. "0.0": a score shown with one decimal, still a number in Excel


_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_LINE = Alignment(horizontal="left", vertical="center", wrap_text=True)
_TITLE_FONT = Font(name="宋体", size=16, bold=True)
_TITLE_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_HEADER_FONT = Font(bold=True)
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _line_height(text: str, width: float) -> float | None:
    """Excel does not grow merged rows to fit: a rough height for a long note (15 points a line)."""
    per_line = max(int(width / 2), 10)  # Chinese characters are about two width units
    lines = sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
    return 15.0 * lines if lines > 1 else None


# What a spreadsheet program may take for the start of a formula (CSV/formula injection): = + - @, tab, CR.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    """A text that must be written as a text cell, never as a formula (enterprise names, opinions, file names)."""
    return isinstance(value, str) and value.startswith(_FORMULA_START)


class _Rows:
    """Appends styled rows to a worksheet, in memory or write-only (`Workbook(write_only=True)`, for files of
    hundreds of thousands of cells). Styles are set once on a scratch cell and their style array copied: setting a
    style hashes it against the workbook's style list, which on thousands of cells is most of the time. Rows are
    counted here (Worksheet.max_row scans every cell)."""

    def __init__(self, ws: Any, ncols: int) -> None:
        self.ws, self.ncols, self.row = ws, ncols, 0
        self.last_col = get_column_letter(ncols)
        self._styles: dict[Any, Any] = {}

    def style(self, key: Any, **attrs: Any) -> Any:
        if key not in self._styles:
            scratch = Cell(self.ws)
            for name, value in attrs.items():
                setattr(scratch, name, value)
            self._styles[key] = scratch._style
        return copy(self._styles[key])

    def cell(self, value: Any, style: Any) -> Cell:
        cell = Cell(self.ws, row=1, column=1, value=value)  # placed by append
        if formula_like(value):
            cell.data_type = "s"  # text someone typed, never a formula Excel would run
        cell._style = style
        return cell

    def append(self, cells: list[Any], *, height: float | None = None) -> int:
        self.row += 1
        if height is not None:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append(cells)
        return self.row

    def merged_line(self, text: str, style: Any, *, height: float | None = None) -> int:
        row = self.append([self.cell(text, style)], height=height)
        ref = f"A{row}:{self.last_col}{row}"
        if isinstance(self.ws, WriteOnlyWorksheet):
            self.ws.merged_cells.add(ref)
        else:
            self.ws.merge_cells(ref)
        return row


def write_sheet(
    ws: Worksheet | WriteOnlyWorksheet,
    *,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    unit_line: str | None = None,
    landscape: bool = True,
    head_lines: Sequence[str] = (),
    notes: Sequence[str] = (),
    plain: bool = False,
) -> int:
    """Fill an empty `ws`: title row, optional 报送单位 row, `head_lines` (e.g. 专家组、汇总方法), header, data rows,
    then `notes` under the table (the official form's footnotes, counts, a signature line), each line merged across
    the table; widths, borders, number formats, frozen header, print set-up (header row repeated on every page).
    `plain`: data rows without borders or styles, for machine-readable files of hundreds of thousands of cells.
    Returns the header's row number."""
    ncols = len(columns)
    out = _Rows(ws, ncols)
    table_width = sum(c.width for c in columns)
    for idx, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(idx)].width = col.width
    out.merged_line(title, out.style("title", font=_TITLE_FONT, alignment=_TITLE_ALIGN), height=30)
    line = out.style("line", alignment=_LINE)
    if unit_line is not None:
        out.merged_line(unit_line, line)
    for text in head_lines:
        out.merged_line(text, line, height=_line_height(text, table_width))
    header = out.style("header", font=_HEADER_FONT, alignment=_HEADER_ALIGN, border=_BORDER)
    header_row = out.append([out.cell(c.header, copy(header)) for c in columns])

    def style(idx: int, value: Any) -> Any:
        col = columns[idx]
        numeric = bool(col.number_format) and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
        attrs: dict[str, Any] = {"border": _BORDER}
        if col.wrap:
            attrs["alignment"] = _WRAP_TOP
        if numeric:
            attrs["number_format"] = col.number_format
        return out.style((idx, numeric), **attrs)

    for row in rows:
        values = list(row)[:ncols]
        if plain:
            out.append([out.cell(v, out.style("plain")) if formula_like(v) else v for v in values])
            continue
        values += [None] * (ncols - len(values))
        out.append([out.cell(v, style(i, v)) for i, v in enumerate(values)])
    for text in notes:
        out.merged_line(text, line, height=_line_height(text, table_width))
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    return header_row


def workbook_to_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sheet_title(name: str, taken: set[str]) -> str:
    """A legal, unique worksheet name (≤ 31 characters, none of []:*?/\\); adds it to `taken`."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("' ") or "Sheet"
    title, n = base[:31], 2
    while title.lower() in {t.lower() for t in taken}:
        suffix = f"({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


_ILLEGAL_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def safe_filename(name: str, *, limit: int = 120) -> str:
    """A file name every system accepts: characters illegal on Windows become _, spaces collapse, length capped
    (the extension is kept)."""
    stem, dot, ext = name.rpartition(".") if "." in name[-6:] else (name, "", "")
    stem = re.sub(r"\s+", " ", _ILLEGAL_FILENAME.sub("_", stem)).strip(" .") or "未命名"
    ext = _ILLEGAL_FILENAME.sub("_", ext)
    return stem[: limit - len(ext) - 1] + (dot + ext if dot else "")


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
    return workbook_to_bytes(wb)


def content_disposition(filename: str) -> str:
    """RFC 5987 filename so Chinese names survive every browser."""
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(filename)}"


# --- reading --------------------------------------------------------------------------------------

# Footnote marks that offices put in header cells (¹²³⁴, ①②, *, ※, trailing digits after a closing bracket), and
# the ? a GBK CSV has in their place (superscripts are not in GBK; Excel writes ? for them).
_FOOTNOTE_RE = re.compile(r"[\u00b9\u00b2\u00b3\u2070-\u209f\u2460-\u2473*※#?]")


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
    """The file as a whole cannot be read (not a spreadsheet, no header found); `message` is for the user."""

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


_NOTE_START_RE = re.compile(r"^(注|说明|备注|填表|填报|[\u00b9\u00b2\u00b3\u2070-\u209f\u2460-\u2473*※])")
_NUMBERED_NOTE_RE = re.compile(r"^\d+\s*[.．、:：]?\s*[\u4e00-\u9fff]")
_BRACKET_NOTE_RE = re.compile(r"（[^（）]*）")


def _is_note_row(values: dict[str, str]) -> bool:
    """A footnote line below the table ("注：1. 所属行业请填写…", "¹ …", "填报人：…"), often merged across columns."""
    texts = {v for v in values.values() if v}
    if len(texts) != 1:
        return False
    text = next(iter(texts))
    if text.isdigit():  # a numbered but empty line of a printed form ("1", "2", "3" under 序号)
        return True
    # normalise_text has turned a superscript footnote mark into a plain digit: "4 行业中类……填写。"
    numbered_note = bool(_NUMBERED_NOTE_RE.match(text)) and len(text) > 10
    return bool(_NOTE_START_RE.match(text)) or numbered_note or "填写" in text


def header_spans(ws: Grid, header_row: int, is_header: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Header cells merged across columns, as (first, last) column. A CSV keeps no merges: there a header cell
    followed by empty header cells, with text under each of them in the next row of which some is a known header
    (`is_header`), is taken as merged."""
    if ws.merged is not None:
        return [(c0, c1) for r0, c0, r1, c1 in ws.merged if r0 == r1 == header_row and c1 > c0]
    spans = []
    c, last = 1, ws.max_column
    while c <= last:
        end = c
        if ws.value(header_row, c) not in (None, ""):
            while end < last and ws.value(header_row, end + 1) in (None, ""):
                end += 1
            below = [normalise_header(ws.value(header_row + 1, k)) for k in range(c, end + 1)]
            parent = normalise_header(ws.value(header_row, c))
            if end > c and all(below) and any(is_header(parent + text) or is_header(text) for text in below):
                spans.append((c, end))
        c = end + 1
    return spans


def read_table(
    data: bytes,
    *,
    columns: dict[str, Sequence[str]],
    required: Sequence[str],
    scan_rows: int = 15,
    keep_text: Sequence[str] = (),
    sheet: str | None = None,
    sheet_optional: bool = False,
) -> SheetTable:
    """Find the header row (title and 报送单位 rows above it are skipped) and return the data rows of a spreadsheet
    in any format reviewapp.spreadsheets opens (.xlsx, .xls, .et, .ods, CSV).

    `columns` maps each canonical name to the header spellings that mean it (compared after normalise_header;
    a header with an unlisted bracketed note, "能力成熟度自评得分（分）", also matches without the note).
    A header cell merged across columns over a second header row ("解决方案供应商" over "名称" and
    "统一社会信用代码") names those columns parent + child. Merged cells give their value to every cell they
    cover; empty rows and footnote rows below the table are dropped.
    Columns named in `keep_text` hold prose: they are only trimmed, so full-width Chinese punctuation survives.
    `sheet` names the worksheet to read (compared loosely; default: the first visible one). A named sheet that is absent is
    an error, or, with `sheet_optional`, an empty table (`present` False).
    """
    try:
        book = open_book(data)
        if sheet is None:
            # A hidden first sheet (lists for drop-downs, an old version) is not the one the office filled in.
            name = (book.visible or book.sheet_names)[0]
        else:
            by_name = {normalise_header(n): n for n in book.sheet_names}
            found_name = by_name.get(normalise_header(sheet))
            if found_name is None:
                if sheet_optional:
                    return SheetTable(header_row=0, columns={}, unknown_headers=[], present=False)
                names = "、".join(book.sheet_names)
                raise ExcelReadError(f"未找到名为「{sheet}」的工作表（文件中的工作表：{names}）。")
            name = found_name
        ws = book.sheet(name)
    except SpreadsheetError as exc:
        raise ExcelReadError(exc.message) from exc
    merged_values: dict[tuple[int, int], Any] = {}
    for min_row, min_col, max_row, max_col in ws.merged or ():
        top_left = ws.value(min_row, min_col)
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                merged_values[(r, c)] = top_left

    aliases = {normalise_header(alias): name for name, spellings in columns.items() for alias in (name, *spellings)}

    def lookup(header: str) -> str | None:
        return aliases.get(header) or aliases.get(_BRACKET_NOTE_RE.sub("", header))

    best: tuple[int, int, dict[str, int], list[str]] | None = None
    for r in range(1, min(ws.max_row, scan_rows) + 1):
        found: dict[str, int] = {}
        unknown: list[str] = []
        for c in range(1, ws.max_column + 1):
            raw = ws.value(r, c)
            if raw is None:
                continue
            header = normalise_header(raw)
            name = lookup(header)
            if name and name not in found:
                found[name] = c
            elif header:
                unknown.append(normalise_text(raw))
        if best is None or len(found) > best[1]:
            best = (r, len(found), found, unknown)
    if best is None or best[1] == 0:
        raise ExcelReadError("未找到表头行。请使用官方名单汇总表格式或下载导入模板。")
    header_row, _, found, unknown = best

    # A second header row under cells merged across columns.
    data_start = header_row + 1
    spans = header_spans(ws, header_row, lambda child: bool(lookup(child)))
    if spans and any(ws.value(header_row + 1, c) for c0, c1 in spans for c in range(c0, c1 + 1)):
        data_start = header_row + 2
        for c0, c1 in spans:
            parent = normalise_header(ws.value(header_row, c0))
            for c in range(c0, c1 + 1):
                child = normalise_header(ws.value(header_row + 1, c))
                name = lookup(parent + child) or lookup(child) if child else None
                if name:
                    found = {k: v for k, v in found.items() if v != c or k == name}
                    found[name] = c

    missing = [name for name in required if name not in found]
    if missing:
        where = f"工作表「{ws.title}」" if sheet is not None else ""
        raise ExcelReadError(f"{where}第 {header_row} 行表头缺少必需的列：{'、'.join(missing)}。")

    unit_line = ""
    for r in range(1, header_row):
        text = normalise_text(ws.value(r, 1))
        if text.startswith("报送单位"):
            unit_line = text

    table = SheetTable(header_row=header_row, columns=found, unknown_headers=unknown, unit_line=unit_line)
    for r in range(data_start, ws.max_row + 1):
        cells = ws.rows[r - 1]
        values = {}
        for name, c in found.items():
            raw = merged_values[(r, c)] if (r, c) in merged_values else (cells[c - 1] if c <= len(cells) else None)
            values[name] = str(raw).strip() if name in keep_text and raw is not None else normalise_text(raw)
        if not any(values.values()) or _is_note_row(values):
            continue
        table.rows.append(SheetRow(number=r, values=values))
    return table
