"""applications: unknown credit codes, formal-review overrides and failed-check index

Revision ID: 0004_applications
Revises: 0003
Create Date: 2026-11-22 01:02:41.337759
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op


revision: str = '0004_applications'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('formal_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('check_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'check_code')
    )
    with op.batch_alter_table('formal_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_formal_override_application_id'), ['application_id'], unique=False)

    with op.batch_alter_table('application', schema=None) as batch_op:
        # Existing rows get an empty value; the default is dropped again so the schema matches the models.
        batch_op.add_column(
            sa.Column('formal_failed_codes', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                      server_default='')
        )
        batch_op.alter_column('formal_override_reason', new_column_name='formal_note', existing_type=sa.VARCHAR(),
                              existing_nullable=False)
        batch_op.create_index(batch_op.f('ix_application_formal_failed_codes'), ['formal_failed_codes'], unique=False)

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.alter_column('formal_failed_codes', server_default=None,
                              existing_type=sqlmodel.sql.sqltypes.AutoString(length=200), existing_nullable=False)

    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.alter_column('credit_code',
               existing_type=sa.VARCHAR(length=18),
               nullable=True)



def downgrade() -> None:
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.alter_column('credit_code',
               existing_type=sa.VARCHAR(length=18),
               nullable=False)

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_formal_failed_codes'))
        batch_op.alter_column('formal_note', new_column_name='formal_override_reason', existing_type=sa.VARCHAR(),
                              existing_nullable=False)
        batch_op.drop_column('formal_failed_codes')

    with op.batch_alter_table('formal_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_formal_override_application_id'))

    op.drop_table('formal_override')
