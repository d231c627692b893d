"""The default crypto setting behaves as before 国密: no key, confidential fields in plain text, SHA-256 chain;
and every confidential field of the issue goes through the encrypting column type."""

import sqlalchemy as sa
from sqlmodel import SQLModel, select

from reviewapp.audit.models import AuditEntry
from reviewapp.crypto import ConfidentialText
from reviewapp.crypto.types import CONFIDENTIAL_COLUMNS
from reviewapp.models_registry import import_all_models
from tests.conftest import reread
from tests.integration.test_reports_public import file_report

CONFIDENTIAL = {
    ("report", "reporter_name"),
    ("report", "reporter_contact"),
    ("objection", "objector_name"),
    ("objection", "objector_contact"),
    ("objection", "objector_address"),
    ("expert", "phone"),
    ("expert", "id_number_hint"),
}


def test_every_confidential_field_is_stored_through_the_encrypting_type():
    import_all_models()
    typed = {
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, ConfidentialText)
    }
    assert typed == CONFIDENTIAL == set(CONFIDENTIAL_COLUMNS), "rotate-key walks exactly these"


def test_by_default_the_values_are_plain_and_the_chain_is_sha256(client, db, settings):
    assert settings.crypto == "sha256" and not settings.crypto_key
    file_report(client, reporter_name="张举报", reporter_contact="13800000000")
    reread(db)
    assert db.execute(sa.text("SELECT reporter_name, reporter_contact FROM report")).one() == ("张举报", "13800000000")
    assert {e.hash_alg for e in db.exec(select(AuditEntry))} == {"sha256"}
