"""Uploaded files (attachments, evidence): checked for type and size, then stored by one of two backends behind one
interface: the filesystem under the data directory (the default, never under static/), or the database in chunks
(REVIEWAPP_FILE_STORE=database) so that every app process on every machine reads them and PostgreSQL is the only
shared service. Downloads stream: a database file is read one chunk at a time, never whole in memory."""

from __future__ import annotations

import hashlib
import io
import secrets
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, Engine, ForeignKey, Integer, LargeBinary, UniqueConstraint, func, insert
from sqlmodel import Field, Session, SQLModel, select

from reviewapp.clock import utcnow

if TYPE_CHECKING:
    from collections.abc import Iterator

    from litestar import Request
    from litestar.response import Stream

    from reviewapp.settings import Settings

CHUNK_SIZE = 256 * 1024  # bytes per stored_file_chunk row, and per piece of a streamed download


class StoredFile(SQLModel, table=True):
    """One uploaded file, owned by an application, objection, report or case step (`owner_type`, `owner_id`)."""

    __tablename__ = "stored_file"

    id: int | None = Field(default=None, primary_key=True)
    owner_type: str = Field(max_length=32, index=True)
    owner_id: int = Field(index=True)
    filename: str = Field(max_length=255)  # as uploaded, shown to users
    storage_key: str = Field(max_length=80, unique=True)  # random name on disk
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)


class StoredFileChunk(SQLModel, table=True):
    """One piece of a file kept in the database (REVIEWAPP_FILE_STORE=database), in order of `seq`."""

    __tablename__ = "stored_file_chunk"
    __table_args__ = (UniqueConstraint("file_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    file_id: int = Field(sa_column=Column(Integer, ForeignKey("stored_file.id", ondelete="CASCADE"), nullable=False))
    seq: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# --- checking an upload ---------------------------------------------------------------------------

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc/.xls compound file


def _zip_with(member_prefix: str) -> Callable[[bytes], bool]:
    """An Office Open XML / OFD file: a zip archive holding the format's own part."""

    def check(data: bytes) -> bool:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return any(name.startswith(member_prefix) for name in archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return False

    return check


# extension -> (content type we serve it as, check of the content signature)
ALLOWED_UPLOADS: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    ".pdf": ("application/pdf", lambda d: d.startswith(b"%PDF-")),
    ".jpg": ("image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    ".png": ("image/png", lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    ".doc": ("application/msword", lambda d: d.startswith(_OLE)),
    ".xls": ("application/vnd.ms-excel", lambda d: d.startswith(_OLE)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _zip_with("word/"),
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _zip_with("xl/")),
    ".ofd": ("application/ofd", _zip_with("OFD.xml")),
}
ALLOWED_UPLOAD_TEXT = "PDF、OFD、Word（.doc/.docx）、Excel（.xls/.xlsx）、JPG、PNG"


def safe_filename(filename: str) -> str:
    """The name users see: no directories, no control characters, at most 255 characters (extension kept)."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".") or "附件"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:255]
    return name


def extension(filename: str) -> str:
    name = safe_filename(filename).lower()
    return name[name.rfind(".") :] if "." in name else ""


def check_upload(filename: str, data: bytes, *, max_bytes: int) -> str | None:
    """Why this upload is refused (in Chinese), or None: allowed extension, content matching it, size within bounds."""
    shown = safe_filename(filename)
    ext = extension(filename)
    if ext not in ALLOWED_UPLOADS:
        return f"文件「{shown}」的类型不允许上传。允许的类型：{ALLOWED_UPLOAD_TEXT}。"
    if not data:
        return f"文件「{shown}」是空文件。"
    if len(data) > max_bytes:
        return f"文件「{shown}」超过 {max_bytes / 1024 / 1024:.0f} MB 的大小限制。"
    _content_type, signature_ok = ALLOWED_UPLOADS[ext]
    if not signature_ok(data):
        return f"文件「{shown}」的内容与扩展名 {ext} 不符，可能已损坏或被改了扩展名。"
    return None


# --- storing and reading --------------------------------------------------------------------------


def stored_path(settings: Settings, stored: StoredFile) -> Path:
    """Where the file lives: fanned out by the key's first two characters (the layout application attachments use)."""
    return settings.upload_dir / stored.storage_key[:2] / stored.storage_key


def store_upload(
    session: Session,
    *,
    settings: Settings,
    owner_type: str,
    owner_id: int,
    filename: str,
    data: bytes,
    uploaded_by: int | None,
) -> StoredFile:
    """Write a checked upload to disk under a random name and record it. The content type comes from the
    extension check_upload accepted, never from what the browser claimed."""
    ext = extension(filename)
    content_type = ALLOWED_UPLOADS.get(ext, ("application/octet-stream", None))[0]
    stored = StoredFile(
        owner_type=owner_type,
        owner_id=owner_id,
        filename=safe_filename(filename),
        storage_key=secrets.token_hex(20),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=uploaded_by,
    )
    session.add(stored)
    session.flush()
    if settings.file_store == "database":
        session.execute(
            insert(StoredFileChunk),
            [
                {"file_id": stored.id, "seq": n, "data": data[start : start + CHUNK_SIZE]}
                for n, start in enumerate(range(0, len(data), CHUNK_SIZE))
            ],
        )
    else:
        path = stored_path(settings, stored)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return stored


def _database_chunks(engine: Engine, file_id: int, count: int) -> Iterator[bytes]:
    """The file's chunks in order, each read by its own short query: no connection is held between pieces."""
    for seq in range(count):
        with engine.connect() as conn:
            piece = conn.execute(
                select(StoredFileChunk.data).where(StoredFileChunk.file_id == file_id, StoredFileChunk.seq == seq)
            ).scalar_one()
        yield piece


def _file_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(CHUNK_SIZE):
            yield piece


def download_response(request: Request, stored: StoredFile, *, missing: str) -> Stream:
    """Stream a stored file to the browser from whichever backend holds it; NotFoundException(`missing`) when
    its content is gone."""
    from litestar.exceptions import NotFoundException
    from litestar.response import Stream

    from reviewapp.excel import content_disposition

    settings: Settings = request.app.state.settings  # files.py sits below web.py: no settings_of here
    if settings.file_store == "database":
        engine: Engine = request.app.state.engine
        with engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(StoredFileChunk).where(StoredFileChunk.file_id == stored.id)
            ).scalar_one()
        if not count:
            raise NotFoundException(missing)
        pieces = _database_chunks(engine, stored.id, count)  # type: ignore[arg-type]
    else:
        path = stored_path(settings, stored)
        if not path.exists():
            raise NotFoundException(missing)
        pieces = _file_pieces(path)
    return Stream(
        pieces,
        media_type=stored.content_type,
        headers={
            "Content-Disposition": content_disposition(stored.filename),
            "Content-Length": str(stored.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
