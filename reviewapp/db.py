"""Database engine, per-request sessions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from reviewapp.settings import Settings

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Execution option read by the SQLite "begin" hook: writers take the write lock up front
# (BEGIN IMMEDIATE) so that read-then-write transactions never fail with "database is locked".
SQLITE_BEGIN = "reviewapp_sqlite_begin"
# Seconds a writer waits for the write lock, in this process (the gate below) and in SQLite (busy_timeout).
SQLITE_LOCK_WAIT = 30


IN_LIST_SIZE = 900  # values per IN (...) list: below SQLite's bound-parameter limit; PostgreSQL does not mind


def chunked(values: Iterable[T], size: int = IN_LIST_SIZE) -> Iterator[list[T]]:
    """`values` in lists of at most `size`, for queries with IN (...) over many ids."""
    items: Sequence[T] = values if isinstance(values, (list, tuple)) else list(values)
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def create_db_engine(settings: Settings, *, pool_size: int | None = None, max_overflow: int | None = None,
                     pool_timeout: float = 30) -> Engine:  # fmt: skip
    """The engine of `settings`' database; the pool's sizes default to 20 + 20 (SQLite) and 10 + 20 (PostgreSQL).
    web.db_slots keeps a process's requests within the pool whatever its size."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20 if pool_size is None else pool_size,
            max_overflow=20 if max_overflow is None else max_overflow,
            pool_timeout=pool_timeout,
        )
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(
        url,
        pool_size=10 if pool_size is None else pool_size,
        max_overflow=20 if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
    )


class SqliteWriteLockTimeout(OperationalError):
    """A writer waited SQLITE_LOCK_WAIT seconds for this process's turn at the write lock: the same failure as
    SQLite's own "database is locked" after its busy timeout."""

    def __init__(self) -> None:
        super().__init__("BEGIN IMMEDIATE", None, Exception("database is locked (waited for this process's writers)"))


def _install_sqlite_hooks(engine: Engine) -> None:
    # SQLite has one write lock. Threads of this process that want it queue on this gate first, so that the
    # next writer starts the moment the previous one has committed. Without it they all wait inside SQLite,
    # whose busy handler polls with sleeps of up to 100 ms: under a burst of autosaves the lock then sat free
    # while every waiter slept, and throughput collapsed. Other processes still meet at SQLite's busy timeout.
    gate = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode == "IMMEDIATE" and not conn.info.get("holds_write_gate"):
            if not gate.acquire(timeout=SQLITE_LOCK_WAIT):
                raise SqliteWriteLockTimeout()
            conn.info["holds_write_gate"] = True  # released when the connection goes back to the pool
        # Straight to the driver: this runs for every transaction, and SQLAlchemy's statement machinery
        # (exec_driver_sql) cost as much as one of the autosave's queries.
        conn.connection.driver_connection.execute(f"BEGIN {mode}")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        # A returned connection has committed or rolled back (the pool resets it): its write lock is gone.
        if record is not None and record.info.pop("holds_write_gate", False):
            gate.release()


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


def migrate(settings: Settings, revision: str = "head") -> None:
    """Apply pending migrations (schema only; `reviewapp.upgrade` also loads the reference catalogues)."""
    from alembic import command

    engine = create_db_engine(settings)  # also creates the SQLite file's folder
    try:
        command.upgrade(alembic_config(settings), revision)
    finally:
        engine.dispose()
