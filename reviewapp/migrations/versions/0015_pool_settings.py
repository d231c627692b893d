"""the pool's rule settings: the evaluation score below which an expert is suspended, the default suspension length

Revision ID: 0015_pool_settings
Revises: 0014_file_store
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "0015_pool_settings"
down_revision: str | None = "0014_file_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pool_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suspend_below", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("suspend_months", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("pool_settings")
