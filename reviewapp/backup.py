"""`reviewapp backup FILE` and `reviewapp restore FILE`: the database and the attachments it references, in one
archive, copied consistently while the app keeps serving.

The database is copied first, from one snapshot (SQLite's online backup API; pg_dump on an exported snapshot),
and the attachments are the files that snapshot's stored_file rows name. Uploads are written to disk before their
row commits and never changed afterwards, so every file the copy references exists and is complete.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import click
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from reviewapp.cli import cli_settings, main
from reviewapp.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
UPLOADS = "uploads"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message is Chinese."""


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份或恢复。")
    return Path(database)


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database as a libpq URL without its password, and an environment carrying the password."""
    url: URL = make_url(settings.database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _storage_keys_sqlite(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT storage_key FROM stored_file")]


def _add_uploads(archive: tarfile.TarFile, settings: Settings, keys: list[str]) -> list[str]:
    """Put each referenced file into the archive; return the keys whose file is missing."""
    missing = []
    for key in keys:
        path = settings.upload_dir / key[:2] / key
        if path.is_file():
            archive.add(path, arcname=f"{UPLOADS}/{key[:2]}/{key}", recursive=False)
        else:
            missing.append(key)
    return missing


def _manifest_bytes(**values: object) -> bytes:
    return json.dumps({"format": FORMAT, **values}, ensure_ascii=False, indent=2).encode("utf-8")


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def backup(settings: Settings, target: Path) -> dict[str, object]:
    """Write the archive to `target` (atomically: a partial file never carries the name)."""
    from reviewapp.clock import utcnow

    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reviewapp-backup-") as tmp:
        work = Path(tmp)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            if settings.is_sqlite:
                copy = work / SQLITE_MEMBER
                source = sqlite3.connect(_sqlite_path(settings))
                dest = sqlite3.connect(copy)
                try:
                    source.backup(dest)  # one read snapshot of the live database, writers carry on
                    dest.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
                finally:
                    dest.close()
                    source.close()
                keys = _storage_keys_sqlite(copy)
                revision = _revision_sqlite(copy)
                archive.add(copy, arcname=SQLITE_MEMBER)
                backend = "sqlite"
            else:
                keys, revision = _pg_dump(settings, work / PG_MEMBER)
                archive.add(work / PG_MEMBER, arcname=PG_MEMBER)
                backend = "postgresql"
            missing = _add_uploads(archive, settings, keys)
            manifest = {
                "backend": backend,
                "created_at": utcnow().isoformat(),
                "alembic_revision": revision,
                "crypto": settings.crypto,
                "files": len(keys) - len(missing),
                "missing_files": missing,
            }
            _add_bytes(archive, MANIFEST, _manifest_bytes(**manifest))
        os.replace(partial, target)
    return manifest


def _revision_sqlite(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else ""


def _pg_dump(settings: Settings, out: Path) -> tuple[list[str], str]:
    """pg_dump on a snapshot exported by a transaction that reads the file keys from the same snapshot."""
    url, env = _libpq(settings)
    engine = sa.create_engine(settings.database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                keys = [row[0] for row in conn.execute(sa.text("SELECT storage_key FROM stored_file"))]
                revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() or ""
                _run(
                    [
                        "pg_dump",
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot}",
                        f"--file={out}",
                        url,
                    ],
                    env,
                    "pg_dump",
                )
    finally:
        engine.dispose()
    return keys, revision


def _run(args: list[str], env: dict[str, str], tool: str) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"找不到 {tool}：请安装 PostgreSQL 客户端工具（与服务器版本一致）。") from exc
    if result.returncode != 0:
        raise BackupError(f"{tool} 执行失败：{result.stderr.strip()[:500]}")


def _table_count(settings: Settings) -> int:
    engine = sa.create_engine(settings.database_url, poolclass=sa.pool.NullPool)
    try:
        return len(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def restore(settings: Settings, source: Path) -> dict[str, object]:
    """Restore an archive into an empty database and an empty attachments folder; then migrate to this version."""
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}。")
    fresh_file = settings.is_sqlite and not _sqlite_path(settings).exists()
    tables = 0 if fresh_file else _table_count(settings)
    if tables:
        raise BackupError(
            f"目标数据库不是空的（已有 {tables} 张表），为防止覆盖现有数据，恢复已取消。请新建一个空数据库后再恢复。"
        )
    uploads = settings.upload_dir
    if uploads.exists() and any(uploads.iterdir()):
        raise BackupError(f"附件目录 {uploads} 不是空的，恢复已取消。请指定一个空的数据目录（REVIEWAPP_DATA_DIR）。")
    with tempfile.TemporaryDirectory(prefix="reviewapp-restore-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(source, "r:gz") as archive:
                members = archive.getmembers()
                if any(not _safe_member(m.name) or not (m.isfile() or m.isdir()) for m in members):
                    raise BackupError("备份文件中含有不安全的路径，已拒绝。")
                archive.extractall(work, members=members, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"备份文件无法读取（{exc}）。") from exc
        manifest_path = work / MANIFEST
        if not manifest_path.is_file():
            raise BackupError("这不是本系统的备份文件（缺少 manifest.json）。")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        backend = "sqlite" if settings.is_sqlite else "postgresql"
        if manifest.get("backend") != backend:
            raise BackupError(f"备份来自 {manifest.get('backend')} 数据库，不能恢复到 {backend} 数据库。")
        if backend == "sqlite":
            target = _sqlite_path(settings)
            target.parent.mkdir(parents=True, exist_ok=True)
            src = sqlite3.connect(work / SQLITE_MEMBER)
            dest = sqlite3.connect(target)
            try:
                src.backup(dest)
            finally:
                dest.close()
                src.close()
        else:
            url, env = _libpq(settings)
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    f"--dbname={url}",
                    str(work / PG_MEMBER),
                ],
                env,
                "pg_restore",
            )
        if (work / UPLOADS).is_dir():
            uploads.mkdir(parents=True, exist_ok=True)
            shutil.copytree(work / UPLOADS, uploads, dirs_exist_ok=True)
    from reviewapp.upgrade import upgrade

    upgrade(settings)  # a backup from an older version is brought up to this one
    return manifest


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Copy the database and its attachments into FILE (.tar.gz) while the app keeps serving."""
    try:
        manifest = backup(cli_settings(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"备份完成：{file}（数据库与 {manifest['files']} 个附件）。")
    if manifest["missing_files"]:
        click.echo(f"注意：{len(manifest['missing_files'])} 个附件在磁盘上缺失，未能备份。", err=True)


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Restore FILE into an empty database and data directory."""
    try:
        manifest = restore(cli_settings(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"恢复完成：备份时间 {manifest.get('created_at', '')}，{manifest.get('files', 0)} 个附件。"
        "建议运行 reviewapp audit verify 核对审计日志。"
    )
