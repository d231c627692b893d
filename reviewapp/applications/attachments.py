"""Files attached to an application: save, fetch and delete, each audited."""

from __future__ import annotations

from sqlmodel import Session

from reviewapp import audit, files
from reviewapp.applications.models import (
    Enterprise,
)
from reviewapp.applications.service import ATTACHMENT_OWNER, application_label, get_application
from reviewapp.audit import Actor
from reviewapp.errors import NotFound, ServiceError
from reviewapp.files import StoredFile
from reviewapp.settings import Settings


def save_attachment(
    session: Session, *, actor: Actor, settings: Settings, application_id: int, filename: str, data: bytes
) -> StoredFile:
    """Store an attachment under a random name outside static/, after checking its type by extension and content."""
    application = get_application(session, application_id)
    problem = files.check_upload(filename, data, max_bytes=settings.upload_max_mb * 1024 * 1024)
    if problem:
        raise ServiceError(problem, field="file")
    stored = files.store_upload(
        session,
        settings=settings,
        owner_type=ATTACHMENT_OWNER,
        owner_id=application.id,  # type: ignore[arg-type]
        filename=filename,
        data=data,
        uploaded_by=actor.user_id,
    )
    audit.record(
        session,
        actor=actor,
        action="application.attachment_upload",
        entity_type="application",
        entity_id=application_id,
        summary=f"为{application_label(application, session.get(Enterprise, application.enterprise_id))}上传附件《{filename}》"
        f"（{len(data) / 1024:.0f} KB）",
        after={"file_id": stored.id, "filename": filename, "size": len(data), "sha256": stored.sha256},
    )
    return stored


def get_attachment(session: Session, *, application_id: int, file_id: int) -> StoredFile:
    stored = session.get(StoredFile, file_id)
    if stored is None or stored.owner_type != ATTACHMENT_OWNER or stored.owner_id != application_id:
        raise NotFound("未找到该附件。")
    return stored


def delete_attachment(session: Session, *, actor: Actor, application_id: int, file_id: int) -> StoredFile:
    application = get_application(session, application_id)
    stored = get_attachment(session, application_id=application_id, file_id=file_id)
    session.delete(stored)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="application.attachment_delete",
        entity_type="application",
        entity_id=application_id,
        summary=f"删除{application_label(application, session.get(Enterprise, application.enterprise_id))}的附件《{stored.filename}》",
        before={"file_id": stored.id, "filename": stored.filename, "sha256": stored.sha256},
    )
    # The caller removes the file after committing: a failed commit must not leave a row without its file.
    return stored
