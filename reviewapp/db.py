"""Database engine, per-request sessions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from reviewapp.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Execution option read by the SQLite "begin" hook: writers take the write lock up front
# (BEGIN IMMEDIATE) so that read-then-write transactions never fail with "database is locked".
SQLITE_BEGIN = "reviewapp_sqlite_begin"


def import_all_models() -> None:
    """Import every models module so SQLModel.metadata knows all tables."""
    from reviewapp import models_registry  # noqa: F401


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=20,
        )
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def writer_engine(engine: Engine) -> Engine:
    """The same pool, but transactions begin as writers (only meaningful on SQLite)."""
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session outside a request (CLI, background work). Callers commit explicitly."""
    with Session(writer_engine(engine) if write else engine, expire_on_commit=False) as session:
        yield session


def alembic_config(settings: Settings):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply pending migrations, then load the reference catalogues (idempotent)."""
    from alembic import command

    engine = create_db_engine(settings)  # also creates the SQLite file's folder
    try:
        command.upgrade(alembic_config(settings), revision)
        from reviewapp.rounds.seeds import load_reference_data

        with session_scope(engine, write=True) as session:
            load_reference_data(session)
            session.commit()
    finally:
        engine.dispose()


def metadata() -> SQLModel:
    import_all_models()
    return SQLModel.metadata  # type: ignore[return-value]
