"""Expert row_version; at most one chair per panel

Revision ID: 0004_panels
Revises: 0003
Create Date: 2026-11-22 01:02:37.504284
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op


revision: str = '0004_panels'
down_revision: str | None = '0004_applications'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('expert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('row_version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.create_index('uq_panel_member_one_chair', ['panel_id'], unique=True, sqlite_where=sa.text('is_chair'), postgresql_where=sa.text('is_chair'))


def downgrade() -> None:
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.drop_index('uq_panel_member_one_chair', sqlite_where=sa.text('is_chair'), postgresql_where=sa.text('is_chair'))

    with op.batch_alter_table('expert', schema=None) as batch_op:
        batch_op.drop_column('row_version')
