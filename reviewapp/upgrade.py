"""Bring a database up to date: apply the migrations, then load the reference catalogues (idempotent).

It sits above db.py (which knows no domain) and the rounds package whose catalogues it loads."""

from __future__ import annotations

from reviewapp.db import create_db_engine, migrate, session_scope
from reviewapp.rounds.seeds import load_reference_data
from reviewapp.settings import Settings


def upgrade(settings: Settings, revision: str = "head") -> None:
    migrate(settings, revision)
    engine = create_db_engine(settings)
    try:
        with session_scope(engine, write=True) as session:
            load_reference_data(session)
            session.commit()
    finally:
        engine.dispose()
