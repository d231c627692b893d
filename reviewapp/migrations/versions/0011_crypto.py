"""国密 option: the audit chain records each entry's hash algorithm; confidential columns become TEXT (their
SM4 ciphertext is longer than the plaintext); blind indexes for the expert lookups on encrypted columns

Revision ID: 0011_crypto
Revises: 0010_spot_checks
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "0011_crypto"
down_revision: str | None = "0010_spot_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIDENTIAL = {
    "expert": {"phone": 32, "id_number_hint": 8},
    "report": {"reporter_name": 64, "reporter_contact": 120},
    "objection": {"objector_name": 200, "objector_contact": 120, "objector_address": 300},
}


def upgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(
            sa.Column("hash_alg", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="sha256")
        )
    for table, columns in CONFIDENTIAL.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns.items():
                batch.alter_column(
                    column, type_=sa.Text(), existing_type=sa.String(length=length), existing_nullable=False
                )
    with op.batch_alter_table("expert") as batch:
        batch.add_column(sa.Column("phone_index", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("id_number_hint_index", sa.String(length=64), nullable=False, server_default=""))
        batch.create_index("ix_expert_phone_index", ["phone_index"])
        batch.create_index("ix_expert_id_number_hint_index", ["id_number_hint_index"])


def downgrade() -> None:
    with op.batch_alter_table("expert") as batch:
        batch.drop_index("ix_expert_id_number_hint_index")
        batch.drop_index("ix_expert_phone_index")
        batch.drop_column("id_number_hint_index")
        batch.drop_column("phone_index")
    for table, columns in CONFIDENTIAL.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns.items():
                batch.alter_column(column, type_=sa.String(length=length), existing_type=sa.Text(), existing_nullable=False)
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("hash_alg")
