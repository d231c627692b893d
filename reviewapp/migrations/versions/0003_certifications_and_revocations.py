"""certifications and revocations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:59:13.334707
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('certification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('factory_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['review_round.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certification_credit_code'), ['credit_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_certification_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certification_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certification_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_certification_tier'), ['tier'], unique=False)

    op.create_table('revocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certification_id', sa.Integer(), nullable=True),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('enterprise_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reason_category', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=False),
    sa.Column('banned_until', sa.Date(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['certification_id'], ['certification.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('revocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revocation_certification_id'), ['certification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revocation_credit_code'), ['credit_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('revocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revocation_credit_code'))
        batch_op.drop_index(batch_op.f('ix_revocation_certification_id'))

    op.drop_table('revocation')
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certification_tier'))
        batch_op.drop_index(batch_op.f('ix_certification_status'))
        batch_op.drop_index(batch_op.f('ix_certification_round_id'))
        batch_op.drop_index(batch_op.f('ix_certification_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_certification_credit_code'))

    op.drop_table('certification')
