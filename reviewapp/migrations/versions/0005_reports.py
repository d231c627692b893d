"""certifications, casework steps and whistle-blower reports

Revision ID: 0005_reports
Revises: 0003
Create Date: 2026-11-22 01:52:28.154013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op


revision: str = '0005_reports'
down_revision: str | None = '0004_panels'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('public_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('client_addr', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('public_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_request_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_request_bucket'), ['bucket'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_request_client_addr'), ['client_addr'], unique=False)

    op.create_table('case_handler',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_type', 'case_id', 'user_id')
    )
    with op.batch_alter_table('case_handler', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_handler_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_handler_case_type'), ['case_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_handler_user_id'), ['user_id'], unique=False)

    op.create_table('case_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('data_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_type', 'case_id', 'seq')
    )
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_step_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_step_case_type'), ['case_type'], unique=False)

    op.create_table('penetration_count',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('above_size_total', sa.Integer(), nullable=False),
    sa.Column('above_size_level2', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('certification_rereview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certification_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('previous_valid_to', sa.Date(), nullable=False),
    sa.Column('new_valid_to', sa.Date(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['certification_id'], ['certification.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('certification_rereview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certification_rereview_certification_id'), ['certification_id'], unique=False)

    op.create_table('major_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certification_id', sa.Integer(), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['certification_id'], ['certification.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('major_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_major_change_certification_id'), ['certification_id'], unique=False)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('certification_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('target_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('target_factory', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reporter_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reporter_contact', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('receipt_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('conclusion', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reply_deadline', sa.Date(), nullable=True),
    sa.Column('rectify_deadline', sa.Date(), nullable=True),
    sa.Column('revocation_id', sa.Integer(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.ForeignKeyConstraint(['certification_id'], ['certification.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['revocation_id'], ['revocation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('receipt_hash')
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_certification_id'), ['certification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_conclusion'), ['conclusion'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_number'), ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_state'), ['state'], unique=False)

    with op.batch_alter_table('certification', schema=None) as batch_op:
        # Server defaults fill the rows that exist before this migration (certifications entered earlier).
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='round'))
        batch_op.add_column(sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('created_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False, server_default=sa.func.current_timestamp()))
        batch_op.create_foreign_key('fk_certification_created_by_user_account', 'user_account', ['created_by'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('certification', schema=None) as batch_op:
        batch_op.drop_constraint('fk_certification_created_by_user_account', type_='foreignkey')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('created_by')
        batch_op.drop_column('note')
        batch_op.drop_column('source')

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_state'))
        batch_op.drop_index(batch_op.f('ix_report_received_on'))
        batch_op.drop_index(batch_op.f('ix_report_number'))
        batch_op.drop_index(batch_op.f('ix_report_conclusion'))
        batch_op.drop_index(batch_op.f('ix_report_certification_id'))
        batch_op.drop_index(batch_op.f('ix_report_application_id'))

    op.drop_table('report')
    with op.batch_alter_table('major_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_major_change_certification_id'))

    op.drop_table('major_change')
    with op.batch_alter_table('certification_rereview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certification_rereview_certification_id'))

    op.drop_table('certification_rereview')
    op.drop_table('penetration_count')
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_step_case_type'))
        batch_op.drop_index(batch_op.f('ix_case_step_case_id'))

    op.drop_table('case_step')
    with op.batch_alter_table('case_handler', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_handler_user_id'))
        batch_op.drop_index(batch_op.f('ix_case_handler_case_type'))
        batch_op.drop_index(batch_op.f('ix_case_handler_case_id'))

    op.drop_table('case_handler')
    with op.batch_alter_table('public_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_request_client_addr'))
        batch_op.drop_index(batch_op.f('ix_public_request_bucket'))
        batch_op.drop_index(batch_op.f('ix_public_request_at'))

    op.drop_table('public_request')
