"""Hostile uploads (issue 12): a zip bomb named .xlsx, a sheet of a million rows, a password-protected workbook, an
HTML page or SVG named .pdf, a file name with ../ — each gets a Chinese message within bounded time and memory,
never a 500 or a hung worker."""

from __future__ import annotations

import io
import re
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook
from sqlmodel import select

from reviewapp import files
from reviewapp.files import StoredFile
from reviewapp.spreadsheets import MAX_ROWS, OLE_SIGNATURE
from tests.factories import make_application, make_round

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SECONDS = 30  # per upload, on a loaded CI machine
PYTHON_MB = 300  # peak Python allocations while the app handles one upload


def _xlsx_with_sheet(sheet_xml_parts) -> bytes:  # type: ignore[no-untyped-def]
    """A real workbook whose first sheet's XML is replaced by the given pieces (streamed into the zip)."""
    wb = Workbook()
    wb.active.append(["x"])
    buf = io.BytesIO()
    wb.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with target.open(info.filename, "w") as sheet:
                    for part in sheet_xml_parts:
                        sheet.write(part)
            else:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()


def zip_bomb() -> bytes:
    head = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    return _xlsx_with_sheet([head, *([b" " * (1024 * 1024)] * 300), b"</sheetData></worksheet>"])


def million_rows() -> bytes:
    head = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )

    def rows():  # type: ignore[no-untyped-def]
        yield head
        for start in range(1, 1_000_001, 50_000):
            yield "".join(
                f'<row r="{r}"><c r="A{r}" t="n"><v>{r}</v></c></row>' for r in range(start, start + 50_000)
            ).encode()
        yield b"</sheetData></worksheet>"

    return _xlsx_with_sheet(rows())


def measured(call):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    started = time.monotonic()
    try:
        response = call()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, time.monotonic() - started, peak / 1024 / 1024


@pytest.fixture
def rnd(db):  # type: ignore[no-untyped-def]
    return make_round(db)


def _import(client, rnd, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"/rounds/{rnd.id}/applications/import",
        files={"file": (name, data, XLSX)},
        data={"_csrf_token": client.csrf()},
        follow_redirects=True,
    )


@pytest.mark.parametrize(
    ("case", "make", "message"),
    [
        ("zip bomb", zip_bomb, "解压后过大"),
        ("a million rows", million_rows, f"超过 {MAX_ROWS:,} 行的上限"),
        ("a million CSV lines", lambda: "".join(f"{i},企业{i}\n" for i in range(1_000_001)).encode(), "行的上限"),
        # An encrypted workbook is a compound (OLE) file with an encryption stream instead of a workbook.
        (
            "password-protected",
            lambda: OLE_SIGNATURE + b"\x00" * 512 + "EncryptionInfo".encode("utf-16-le") * 64,
            "加密",
        ),
    ],
)
def test_hostile_spreadsheet_gets_a_chinese_message_in_bounded_time_and_memory(staff_client, rnd, case, make, message):  # type: ignore[no-untyped-def]
    data = make()
    response, seconds, peak_mb = measured(lambda: _import(staff_client, rnd, "名单汇总表.xlsx", data))
    assert response.status_code == 200, (case, response.status_code)
    assert message in response.text, case
    assert seconds < SECONDS, (case, seconds)
    assert peak_mb < PYTHON_MB, (case, peak_mb)


def test_disguised_and_traversing_attachments(staff_client, db, settings):  # type: ignore[no-untyped-def]
    app = make_application(db, make_round(db))
    db.commit()

    def attach(name: str, data: bytes):  # type: ignore[no-untyped-def]
        return staff_client.post(
            f"/applications/{app.id}/attachments",
            files={"file": (name, data, "application/pdf")},
            data={"_csrf_token": staff_client.csrf()},
            follow_redirects=True,
        )

    html = attach("申报书.pdf", b"<!doctype html><html><script>alert(1)</script></html>")
    assert html.status_code == 200 and "的内容与扩展名 .pdf 不符" in html.text
    svg = attach("证书.pdf", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
    assert svg.status_code == 200 and "的内容与扩展名 .pdf 不符" in svg.text
    bomb = attach("清单.pdf", zip_bomb())
    assert bomb.status_code == 200 and "不符" in bomb.text
    assert db.exec(select(StoredFile)).first() is None

    traversing = attach("../../../etc/申报书.pdf", PDF)
    assert traversing.status_code == 200 and "已上传附件《申报书.pdf》" in traversing.text, re.findall(
        r'class="(?:flash|error)[^"]*"[^>]*>(.*?)<', traversing.text
    )
    db.rollback()
    stored = db.exec(select(StoredFile)).one()
    assert stored.filename == "申报书.pdf"
    path = files.stored_path(settings, stored).resolve()
    assert path.is_relative_to(settings.data_dir.resolve()) and ".." not in stored.storage_key
