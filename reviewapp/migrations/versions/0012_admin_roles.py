"""三员分立: the single administrator role becomes three; the security policy row and the password history

Revision ID: 0012_admin_roles
Revises: 0011_crypto
Create Date: 2026-12-06

NOTE FOR OPERATORS: every account with the old role `admin` becomes a system administrator (`sysadmin`): it keeps
managing accounts but no longer reaches the review pages or the audit log. Create the first security administrator
and audit administrator with `reviewapp user create NAME --role secadmin|auditadmin --name 姓名`
(`reviewapp db upgrade` prints this reminder while either role has no account). Downgrading turns all three
administrator roles back into `admin`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision: str = "0012_admin_roles"
down_revision: str | None = "0011_crypto"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_history_user_id"), ["user_id"], unique=False)
    op.create_table(
        "security_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("password_min_length", sa.Integer(), nullable=False),
        sa.Column("password_min_classes", sa.Integer(), nullable=False),
        sa.Column("password_expiry_days", sa.Integer(), nullable=False),
        sa.Column("password_history", sa.Integer(), nullable=False),
        sa.Column("lockout_failures", sa.Integer(), nullable=False),
        sa.Column("lockout_minutes", sa.Integer(), nullable=False),
        sa.Column("idle_minutes", sa.Integer(), nullable=False),
        sa.Column("single_session", sa.Boolean(), nullable=False),
        sa.Column("admin_networks", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The old single administrator role becomes the system administrator (see the note above).
    op.execute("UPDATE user_account SET role = 'sysadmin' WHERE role = 'admin'")


def downgrade() -> None:
    op.execute("UPDATE user_account SET role = 'admin' WHERE role IN ('sysadmin', 'secadmin', 'auditadmin')")
    op.drop_table("security_policy")
    with op.batch_alter_table("password_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_history_user_id"))
    op.drop_table("password_history")
