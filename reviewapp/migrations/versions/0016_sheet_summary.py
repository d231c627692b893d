"""a submitted sheet's dimension subtotals and gate outcomes, written on submit, read by the rankings

Revision ID: 0016_sheet_summary
Revises: 0015_pool_settings
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_sheet_summary"
down_revision: str | None = "0015_pool_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable and not backfilled: a submitted sheet without it is read from its item scores, as before.
    with op.batch_alter_table("score_sheet") as batch:
        batch.add_column(sa.Column("summary_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("score_sheet") as batch:
        batch.drop_column("summary_json")
