"""Upload checks: allowed extension, content matching it, size bounds, safe names."""

import io
import zipfile

from reviewapp.files import check_upload, safe_filename

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_matching_type_and_size_are_accepted():
    assert check_upload("证据.pdf", PDF, max_bytes=1024) is None
    assert check_upload("照片.PNG", PNG, max_bytes=1024) is None
    assert check_upload("说明.docx", _docx(), max_bytes=100_000) is None


def test_a_disallowed_extension_is_refused():
    problem = check_upload("脚本.exe", b"MZ\x90\x00", max_bytes=1024)
    assert problem and "类型不允许上传" in problem
    assert check_upload("无扩展名", PDF, max_bytes=1024)


def test_content_that_does_not_match_the_extension_is_refused():
    problem = check_upload("伪装.pdf", b"MZ\x90\x00 not a pdf", max_bytes=1024)
    assert problem and "内容与扩展名 .pdf 不符" in problem
    # A zip that is not a Word document does not pass as .docx.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.txt", "x")
    assert check_upload("伪装.docx", buf.getvalue(), max_bytes=100_000)


def test_empty_and_oversized_files_are_refused():
    assert "空文件" in (check_upload("a.pdf", b"", max_bytes=1024) or "")
    assert "超过 1 MB" in (check_upload("a.pdf", PDF + b"0" * (1024 * 1024), max_bytes=1024 * 1024) or "")


def test_shown_names_lose_directories_and_control_characters():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\张三\\举报\x00材料.pdf") == "举报材料.pdf"
    assert safe_filename("") == "附件"
    assert len(safe_filename("长" * 300 + ".pdf")) == 255 and safe_filename("长" * 300 + ".pdf").endswith(".pdf")
