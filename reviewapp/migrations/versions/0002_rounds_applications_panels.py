"""rounds, criteria, enterprises, applications, files, experts, panels, conflicts, pledges

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:56:52.294356
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('criteria_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('is_template', sa.Boolean(), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('frozen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['based_on_id'], ['criteria_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('enterprise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('group_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('group_credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('nature', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('size_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('industry_group', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('industry_mid', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('industry_small', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('above_designated_size', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_city'), ['city'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_credit_code'), ['credit_code'], unique=True)
        batch_op.create_index(batch_op.f('ix_enterprise_group_credit_code'), ['group_credit_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_industry_group'), ['industry_group'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_name'), ['name'], unique=False)

    op.create_table('criteria_node',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('guidance', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('max_points', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('step', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['criteria_node.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['criteria_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'code')
    )
    with op.batch_alter_table('criteria_node', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criteria_node_version_id'), ['version_id'], unique=False)

    op.create_table('expert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('employer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('employer_credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('specialties_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('id_number_hint', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id')
    )
    with op.batch_alter_table('expert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_employer_credit_code'), ['employer_credit_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_name'), ['name'], unique=False)

    op.create_table('review_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('criteria_version_id', sa.Integer(), nullable=True),
    sa.Column('scenario_catalogue_version', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('application_close', sa.Date(), nullable=True),
    sa.Column('scoring_deadline', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('publicity_working_days', sa.Integer(), nullable=False),
    sa.Column('aggregation', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('min_scorers', sa.Integer(), nullable=False),
    sa.Column('opinion_min_length', sa.Integer(), nullable=False),
    sa.Column('outlier_threshold', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('gate_failure_vetoes', sa.Boolean(), nullable=False),
    sa.Column('tie_break_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('min_maturity_level', sa.Integer(), nullable=False),
    sa.Column('min_scenarios', sa.Integer(), nullable=False),
    sa.Column('required_stages_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('branch_industries_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('coi_same_credit_code', sa.Boolean(), nullable=False),
    sa.Column('coi_employment', sa.Boolean(), nullable=False),
    sa.Column('coi_employment_years', sa.Integer(), nullable=False),
    sa.Column('coi_provider', sa.Boolean(), nullable=False),
    sa.Column('coi_declared_relation', sa.Boolean(), nullable=False),
    sa.Column('coi_same_city', sa.Boolean(), nullable=False),
    sa.Column('pledge_text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('validity_years', sa.Integer(), nullable=False),
    sa.Column('publish_scores', sa.Boolean(), nullable=False),
    sa.Column('scoring_started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['criteria_version_id'], ['criteria_version.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('storage_key')
    )
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_file_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_file_owner_type'), ['owner_type'], unique=False)

    op.create_table('expert_employment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('employer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('start', sa.Date(), nullable=True),
    sa.Column('end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['expert_id'], ['expert.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('expert_employment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_employment_credit_code'), ['credit_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_employment_expert_id'), ['expert_id'], unique=False)

    op.create_table('expert_relation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['expert.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('expert_relation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_relation_credit_code'), ['credit_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_relation_expert_id'), ['expert_id'], unique=False)

    op.create_table('panel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('industry_group', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('group_opinion', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('finalized_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finalized_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['finalized_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['review_round.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('panel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_round_id'), ['round_id'], unique=False)

    op.create_table('pledge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('pledge_text_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('declaration_done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('client_addr', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['expert.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['review_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'expert_id')
    )
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledge_round_id'), ['round_id'], unique=False)

    op.create_table('application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('factory_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('project_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('maturity_score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('maturity_level', sa.Integer(), nullable=True),
    sa.Column('is_branch', sa.Boolean(), nullable=False),
    sa.Column('branch_industry', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('major_accident', sa.Boolean(), nullable=False),
    sa.Column('serious_dishonesty', sa.Boolean(), nullable=False),
    sa.Column('is_overseas', sa.Boolean(), nullable=False),
    sa.Column('overseas_factory_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('revenue_10k_yuan', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('overseas_intro', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('contact_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('contact_phone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('formal_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('formal_checks_json', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('formal_override_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('formal_decided_by', sa.Integer(), nullable=True),
    sa.Column('formal_decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('panel_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
    sa.ForeignKeyConstraint(['formal_decided_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['review_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'enterprise_id', 'factory_name')
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_formal_status'), ['formal_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_round_id'), ['round_id'], unique=False)

    op.create_table('panel_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('is_chair', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['expert.id'], ),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('panel_id', 'expert_id')
    )
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_member_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_member_panel_id'), ['panel_id'], unique=False)

    op.create_table('application_party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('application_party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_party_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_party_credit_code'), ['credit_code'], unique=False)

    op.create_table('application_scenario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.ForeignKeyConstraint(['scenario_id'], ['catalogue_scenario.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'name')
    )
    with op.batch_alter_table('application_scenario', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_scenario_application_id'), ['application_id'], unique=False)

    op.create_table('conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['expert.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['review_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'expert_id', 'application_id', 'rule')
    )
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflict_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflict_round_id'), ['round_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_round_id'))
        batch_op.drop_index(batch_op.f('ix_conflict_expert_id'))
        batch_op.drop_index(batch_op.f('ix_conflict_application_id'))

    op.drop_table('conflict')
    with op.batch_alter_table('application_scenario', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_scenario_application_id'))

    op.drop_table('application_scenario')
    with op.batch_alter_table('application_party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_party_credit_code'))
        batch_op.drop_index(batch_op.f('ix_application_party_application_id'))

    op.drop_table('application_party')
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_member_panel_id'))
        batch_op.drop_index(batch_op.f('ix_panel_member_expert_id'))

    op.drop_table('panel_member')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_round_id'))
        batch_op.drop_index(batch_op.f('ix_application_panel_id'))
        batch_op.drop_index(batch_op.f('ix_application_formal_status'))
        batch_op.drop_index(batch_op.f('ix_application_enterprise_id'))

    op.drop_table('application')
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_round_id'))
        batch_op.drop_index(batch_op.f('ix_pledge_expert_id'))

    op.drop_table('pledge')
    with op.batch_alter_table('panel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_round_id'))

    op.drop_table('panel')
    with op.batch_alter_table('expert_relation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_relation_expert_id'))
        batch_op.drop_index(batch_op.f('ix_expert_relation_credit_code'))

    op.drop_table('expert_relation')
    with op.batch_alter_table('expert_employment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_employment_expert_id'))
        batch_op.drop_index(batch_op.f('ix_expert_employment_credit_code'))

    op.drop_table('expert_employment')
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_file_owner_type'))
        batch_op.drop_index(batch_op.f('ix_stored_file_owner_id'))

    op.drop_table('stored_file')
    op.drop_table('review_round')
    with op.batch_alter_table('expert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_name'))
        batch_op.drop_index(batch_op.f('ix_expert_employer_credit_code'))

    op.drop_table('expert')
    with op.batch_alter_table('criteria_node', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criteria_node_version_id'))

    op.drop_table('criteria_node')
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_name'))
        batch_op.drop_index(batch_op.f('ix_enterprise_industry_group'))
        batch_op.drop_index(batch_op.f('ix_enterprise_group_credit_code'))
        batch_op.drop_index(batch_op.f('ix_enterprise_credit_code'))
        batch_op.drop_index(batch_op.f('ix_enterprise_city'))

    op.drop_table('enterprise')
    op.drop_table('criteria_version')
