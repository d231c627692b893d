"""`reviewapp backup` and `reviewapp restore`: a round with score sheets, an attachment and its audit chain goes
into one archive while writers carry on, comes back into an empty database, and the chain verifies there."""

from __future__ import annotations

import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import make_url
from sqlmodel import Session, func, select

from reviewapp.audit import Actor
from reviewapp.audit.models import AuditEntry
from reviewapp.auth import service as accounts
from reviewapp.cli import main
from reviewapp.files import StoredFile, store_upload, stored_path
from reviewapp.scoring.models import ItemScore, ScoreSheet
from reviewapp.settings import Settings
from tests.conftest import PASSWORD, reread
from tests.factories import make_scored_panel

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40


def cli(settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    env = {
        "REVIEWAPP_DATABASE_URL": settings.database_url,
        "REVIEWAPP_DATA_DIR": str(settings.data_dir),
        "REVIEWAPP_CRYPTO": "",
        "REVIEWAPP_CRYPTO_KEY": "",
    }
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def target(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty database of the same kind as the test's (a scratch PostgreSQL database, dropped afterwards)."""
    data_dir = tmp_path / "restored-data"
    if settings.is_sqlite:
        yield Settings(database_url=f"sqlite:///{(tmp_path / 'restored.db').as_posix()}", data_dir=data_dir)
        return
    url = make_url(settings.database_url)
    scratch = f"{url.database}_restore"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
    try:
        yield Settings(database_url=url.set(database=scratch).render_as_string(hide_password=False), data_dir=data_dir)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def test_a_round_with_sheets_files_and_audit_chain_round_trips_while_writers_carry_on(
    db, engine, settings, target, tmp_path
):
    _rnd, _panel, apps, _experts = make_scored_panel(db, totals=[[81, 76, 90], [64, 70, 72]])
    stored = store_upload(
        db,
        settings=settings,
        owner_type="application",
        owner_id=apps[0].id,
        filename="现场照片说明.pdf",
        data=PDF,
        uploaded_by=None,
    )
    db.commit()
    sheets_before = {(s.application_id, s.expert_id): s.total for s in db.exec(select(ScoreSheet))}
    items_before = db.exec(select(func.count()).select_from(ItemScore)).one()

    # The app keeps serving: accounts (each with its audit entry) are created throughout the backup.
    stop, written = threading.Event(), []

    def keep_writing() -> None:
        while not stop.is_set():
            with Session(engine) as session:
                accounts.create_user(
                    session,
                    actor=Actor.system("测试"),
                    username=f"during{len(written)}",
                    display_name="备份期间",
                    role="staff",
                    password=PASSWORD,
                    settings=settings,
                )
                session.commit()
            written.append(1)

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    archive = tmp_path / "备份" / "reviewapp-backup.tar.gz"
    try:
        result = cli(settings, "backup", str(archive))
    finally:
        stop.set()
        writer.join(timeout=60)
    assert result.exit_code == 0 and "备份完成" in result.output and "1 个附件" in result.output, result.output
    assert written, "writers ran during the backup"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and any(n.endswith(stored.storage_key) for n in names)

    restored = cli(target, "restore", str(archive))
    assert restored.exit_code == 0 and "恢复完成" in restored.output, restored.output

    verify = cli(target, "audit", "verify")
    assert verify.exit_code == 0 and "校验通过" in verify.output, verify.output
    copy = sa.create_engine(target.database_url, poolclass=sa.pool.NullPool)
    try:
        with Session(copy) as restored_db:
            assert {(s.application_id, s.expert_id): s.total for s in restored_db.exec(select(ScoreSheet))} == (
                sheets_before
            )
            assert restored_db.exec(select(func.count()).select_from(ItemScore)).one() == items_before
            copied = restored_db.exec(select(StoredFile)).one()
            assert stored_path(target, copied).read_bytes() == PDF and copied.filename == "现场照片说明.pdf"
            entries = restored_db.exec(select(func.count()).select_from(AuditEntry)).one()
    finally:
        copy.dispose()
    reread(db)
    assert 0 < entries <= db.exec(select(func.count()).select_from(AuditEntry)).one()

    again = cli(target, "restore", str(archive))
    assert again.exit_code != 0 and "目标数据库不是空的" in again.output, again.output


def test_restore_refuses_a_non_empty_database_and_a_foreign_file_in_chinese(db, settings, make_user, tmp_path):
    make_user("zhangsan")
    archive = tmp_path / "b.tar.gz"
    assert cli(settings, "backup", str(archive)).exit_code == 0
    refused = cli(settings, "restore", str(archive))
    assert refused.exit_code != 0 and "目标数据库不是空的" in refused.output and "恢复已取消" in refused.output
    reread(db)
    assert db.exec(select(func.count()).select_from(AuditEntry)).one() >= 1, "nothing was touched"

    empty = Settings(database_url=f"sqlite:///{(tmp_path / 'empty.db').as_posix()}", data_dir=tmp_path / "d")
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    result = cli(empty, "restore", str(bogus))
    assert result.exit_code != 0 and "备份文件无法读取" in result.output
