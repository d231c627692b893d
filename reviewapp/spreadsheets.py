"""Loads the first (or a named) worksheet of any file offices send as a plain grid: .xlsx, .xls, WPS .et (compound or
OOXML), .ods through python-calamine, and CSV in UTF-8 (with or without BOM) or GBK/GB18030. The format is told
from the content, not the file name (offices rename files). reviewapp.excel.read_table finds the table in the grid."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from xml.etree import ElementTree

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et, .doc: the pre-2007 compound file format
UNREADABLE = (
    "无法识别该文件的格式。请上传 Excel（.xlsx、.xls）、WPS 表格（.et）、OpenDocument 表格（.ods）或 CSV 文件。"
)
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".csv", ".txt")
ACCEPT = ",".join(SPREADSHEET_SUFFIXES)  # for <input type=file accept=…>
FORMATS_TEXT = "Excel（.xlsx/.xls）、WPS 表格（.et）、.ods 或 CSV"

# Limits checked before a sheet becomes Python objects, so that a hostile or mistaken upload (a zip bomb renamed
# .xlsx, a sheet of a million rows) gets a message instead of taking a worker's memory and time. A province's
# largest real file (the raw-score detail of a round) has a few hundred thousand rows.
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ROWS = 500_000
TOO_BIG = "表格文件解压后过大（超过 {mb} MB），可能已损坏或并非正常的表格文件，请检查后重新上传。"
TOO_MANY_ROWS = "表格「{name}」有 {rows:,} 行，超过 {limit:,} 行的上限，请删除多余的行或分成几个文件上传。"


class SpreadsheetError(Exception):
    """The file is not a spreadsheet this reader knows; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Grid:
    """One worksheet: `rows` of cell values (None when empty), 1-based accessors as in Excel."""

    title: str
    rows: list[list[Any]]
    # Merged ranges as (min_row, min_col, max_row, max_col), 1-based; None when the format cannot say (CSV).
    merged: list[tuple[int, int, int, int]] | None = field(default_factory=list)

    @property
    def max_row(self) -> int:
        return len(self.rows)

    @property
    def max_column(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, row: int, column: int) -> Any:
        if 1 <= row <= len(self.rows):
            cells = self.rows[row - 1]
            if 1 <= column <= len(cells):
                return cells[column - 1]
        return None


@dataclass
class Book:
    sheet_names: list[str]  # every sheet, hidden ones too
    visible: list[str]
    _load: Any

    def sheet(self, name: str) -> Grid:
        return self._load(name)


def _cell(value: Any) -> Any:
    """calamine's values as openpyxl gave them: empty → None, a whole number → int, a date → a datetime at midnight."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value


def _ods_merges(data: bytes) -> dict[str, list[tuple[int, int, int, int]]]:
    """calamine gives no merged ranges for .ods: read the spans from content.xml (repeated rows and columns counted)."""
    ns = {
        "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    }
    t = "{" + ns["table"] + "}"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = ElementTree.fromstring(zf.read("content.xml"))
    result: dict[str, list[tuple[int, int, int, int]]] = {}
    for table in root.iter(t + "table"):
        merges: list[tuple[int, int, int, int]] = []
        r = 0
        for row in table.iter(t + "table-row"):
            r_rep = int(row.get(t + "number-rows-repeated", "1"))
            c = 0
            for cell in row:
                if cell.tag not in (t + "table-cell", t + "covered-table-cell"):
                    continue
                c_rep = int(cell.get(t + "number-columns-repeated", "1"))
                rows_span = int(cell.get(t + "number-rows-spanned", "1"))
                cols_span = int(cell.get(t + "number-columns-spanned", "1"))
                if rows_span > 1 or cols_span > 1:
                    merges.append((r + 1, c + 1, r + rows_span, c + cols_span))
                c += c_rep
            r += min(r_rep, 10_000)  # a sheet's trailing empty rows come as one row repeated ~a million times
        result[table.get(t + "name", "")] = merges
    return result


def _calamine_book(data: bytes, *, ods: bool) -> Book:
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        metadata = wb.sheets_metadata
    except Exception as exc:  # calamine raises its own error kinds for damaged, encrypted or foreign files
        raise SpreadsheetError("无法读取该表格文件，文件可能已损坏、加密，或并非表格文件。") from exc
    ods_merges = _ods_merges(data) if ods else {}

    def load(name: str) -> Grid:
        try:
            sheet = wb.get_sheet_by_name(name)
            if sheet.total_height > MAX_ROWS:
                raise SpreadsheetError(TOO_MANY_ROWS.format(name=name, rows=sheet.total_height, limit=MAX_ROWS))
            rows = sheet.to_python(skip_empty_area=False)
        except SpreadsheetError:
            raise
        except Exception as exc:
            raise SpreadsheetError("无法读取该表格文件，文件可能已损坏。") from exc
        merged = (
            ods_merges.get(name, [])
            if ods
            else [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
        )
        return Grid(title=name, rows=[[_cell(v) for v in row] for row in rows], merged=merged)

    names = [m.name for m in metadata]
    visible = [m.name for m in metadata if m.visible == SheetVisibleEnum.Visible]
    return Book(sheet_names=names, visible=visible, _load=load)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # a superset of GBK and GB2312, what Chinese Excel and WPS save CSV in


def _csv_book(data: bytes) -> Book:
    try:
        text = _decode_text(data)
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(UNREADABLE) from exc
    if _CONTROL.search(text[:20_000]) or not text.strip():
        raise SpreadsheetError(UNREADABLE)
    lines = text.count("\n")
    if lines > MAX_ROWS:
        raise SpreadsheetError(TOO_MANY_ROWS.format(name="CSV", rows=lines, limit=MAX_ROWS))
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    rows = [
        [cell if cell.strip() else None for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)
    ]
    grid = Grid(title="CSV", rows=rows, merged=None)
    return Book(sheet_names=["CSV"], visible=["CSV"], _load=lambda _name: grid)


def open_book(data: bytes) -> Book:
    """Open any supported spreadsheet; a file that is none raises SpreadsheetError with a message in Chinese."""
    if not data:
        raise SpreadsheetError("上传的文件是空的（0 字节）。")
    if data.startswith(OLE_SIGNATURE):
        if b"W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t" in data[:65536]:
            raise SpreadsheetError("这是 Word 文档（.doc），不是表格文件。" + _PLEASE)
        return _calamine_book(data, ods=False)
    if zipfile.is_zipfile(io.BytesIO(data)):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                unpacked = sum(info.file_size for info in zf.infolist())
                packed = sum(info.compress_size for info in zf.infolist())
                if unpacked > MAX_UNCOMPRESSED_BYTES or unpacked > MAX_COMPRESSION_RATIO * max(packed, 1) + 10**7:
                    raise SpreadsheetError(TOO_BIG.format(mb=MAX_UNCOMPRESSED_BYTES // (1024 * 1024)))
                mimetype = zf.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
        except (zipfile.BadZipFile, OSError) as exc:
            raise SpreadsheetError(UNREADABLE) from exc
        if any(n.startswith("xl/") for n in names):
            return _calamine_book(data, ods=False)
        if "spreadsheet" in mimetype:
            return _calamine_book(data, ods=True)
        if any(n.startswith("word/") for n in names) or "text" in mimetype:
            raise SpreadsheetError("这是 Word 文档（.docx），不是表格文件。" + _PLEASE)
        raise SpreadsheetError(UNREADABLE)
    return _csv_book(data)


_PLEASE = f"请上传 {FORMATS_TEXT} 文件。"
