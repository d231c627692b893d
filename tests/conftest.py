"""Test fixtures: a migrated database (SQLite, or PostgreSQL via REVIEWAPP_TEST_DATABASE_URL), the app, clients.

The schema is built once per run with the real migrations; each test starts from empty tables
(reference catalogues kept). Tests that use the database are marked `db` automatically, so the
PostgreSQL pass (`pytest -m db`) runs exactly them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlmodel import Session, SQLModel

from reviewapp.audit import Actor
from reviewapp.audit.service import GENESIS
from reviewapp.auth import service as accounts
from reviewapp.auth.models import Role, User
from reviewapp.db import create_db_engine
from reviewapp.models_registry import import_all_models
from reviewapp.rounds.seeds import REFERENCE_TABLES
from reviewapp.settings import Settings
from reviewapp.upgrade import upgrade

DB_FIXTURES = {
    "engine",
    "settings",
    "db",
    "app",
    "client",
    "make_user",
    "login",
    "staff_client",
    "admin_client",
    "sysadmin_client",
    "secadmin_client",
    "auditadmin_client",
}

PASSWORD = "correct-horse-42"

logging.getLogger("httpx").setLevel(logging.WARNING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("REVIEWAPP_TEST_DATABASE_URL", "")
    if url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return worker_database(url, worker) if worker else url
    return f"sqlite:///{(tmp_path_factory.mktemp('db') / 'test.db').as_posix()}"


def worker_database(url: str, worker: str) -> str:
    """Each pytest-xdist worker gets its own PostgreSQL database beside the given one (created on first use),
    since every worker drops and rebuilds its schema."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def base_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    return Settings(mode="dev", database_url=database_url, data_dir=Path(data_dir), secret_key="t" * 40)


@pytest.fixture(scope="session")
def migrated_engine(base_settings: Settings) -> Iterator[Engine]:
    import_all_models()
    engine = create_db_engine(base_settings)
    if engine.dialect.name == "postgresql":
        # Start from an empty schema so the migrations themselves are exercised on every run.
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(base_settings)
    yield engine
    engine.dispose()


def reset_database(engine: Engine) -> None:
    """Empty every table but the reference catalogues, and re-seed the audit chain's head row."""
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None
        conn.execute(text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, :h)"), {"h": GENESIS})


def _has_sqlite_sequence(conn) -> bool:  # type: ignore[no-untyped-def]
    return bool(conn.execute(text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    reset_database(migrated_engine)
    return migrated_engine


@pytest.fixture
def settings(base_settings: Settings, engine: Engine) -> Settings:
    return base_settings


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def reread(session: Session) -> None:
    """Forget what this test session has read: end its read snapshot (SQLite WAL) and expire cached rows,
    so the next query sees what the app committed meanwhile."""
    session.rollback()
    session.expire_all()


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from reviewapp.app import create_app

    application = create_app(settings)
    yield application


@pytest.fixture
def make_user(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    def _make(
        username: str,
        role: Role | str = Role.staff,
        *,
        password: str = PASSWORD,
        must_change: bool = False,
        display_name: str | None = None,
    ) -> User:
        with Session(engine, expire_on_commit=False) as session:
            user = accounts.create_user(
                session,
                actor=Actor.system("测试"),
                username=username,
                display_name=display_name or f"{username}姓名",
                role=role,
                password=password,
                must_change_password=must_change,
                settings=settings,
            )
            session.commit()
            return user

    return _make


CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


class Browser(TestClient):
    """A TestClient that knows the app's forms: it fetches a CSRF token before posting."""

    def csrf(self) -> str:
        """The CSRF token the pages embed is the value of the csrftoken cookie set by any GET."""
        token = self.cookies.get("csrftoken")
        if token is None:
            self.get("/login")
            token = self.cookies.get("csrftoken")
        assert token, "no CSRF cookie was set"
        return token

    def submit(self, url: str, data: dict | None = None, files=None, **kwargs):  # type: ignore[no-untyped-def]
        payload = dict(data or {})
        payload["_csrf_token"] = self.csrf()
        return self.post(url, data=payload, files=files, **kwargs)


@pytest.fixture
def client(app) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    with Browser(app=app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
def login(app, client):  # type: ignore[no-untyped-def]
    """login(user_or_username, password) -> a signed-in Browser of its own.

    Only `client` runs the app's lifespan: a second lifespan on the same app hangs when it exits
    (Litestar 2.25), so these browsers send their requests without entering one of their own.
    """

    def _login(username: str | User, password: str = PASSWORD) -> Browser:
        name = username.username if isinstance(username, User) else username
        browser = Browser(app=app, base_url="http://testserver.local")
        page = browser.get("/login")
        response = browser.post(
            "/login",
            data={"username": name, "password": password, "_csrf_token": csrf_from(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303, f"login of {name} failed: {response.text[:500]}"
        return browser

    return _login


@pytest.fixture
def staff_client(make_user, login) -> Browser:  # type: ignore[no-untyped-def]
    return login(make_user("staff1", Role.staff))


@pytest.fixture
def sysadmin_client(make_user, login) -> Browser:  # type: ignore[no-untyped-def]
    return login(make_user("admin1", Role.sysadmin))


@pytest.fixture
def admin_client(sysadmin_client) -> Browser:  # type: ignore[no-untyped-def]
    """The old single administrator is the system administrator now (三员分立)."""
    return sysadmin_client


@pytest.fixture
def secadmin_client(make_user, login) -> Browser:  # type: ignore[no-untyped-def]
    return login(make_user("secadmin1", Role.secadmin))


@pytest.fixture
def auditadmin_client(make_user, login) -> Browser:  # type: ignore[no-untyped-def]
    return login(make_user("auditor1", Role.auditadmin))
