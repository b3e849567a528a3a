"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 12:53:47.453142
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import patchwave.store.types
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('advisories',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('vendor', sa.String(length=50), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('classification', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('cves', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('cvss', sa.Float(), nullable=True),
    sa.Column('epss', sa.Float(), nullable=True),
    sa.Column('packages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('released', sa.Date(), nullable=True),
    sa.Column('reboot_required', sa.Boolean(), nullable=False),
    sa.Column('supersedes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('product', sa.String(length=200), nullable=False),
    sa.Column('kev', sa.Boolean(), nullable=False),
    sa.Column('updated_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advisories'))
    )
    op.create_table('approvers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('tenants', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('slack_user_id', sa.String(length=50), nullable=True),
    sa.Column('slack_team_id', sa.String(length=50), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvers')),
    sa.UniqueConstraint('name', name=op.f('uq_approvers_name'))
    )
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.Column('host', sa.String(length=300), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_run_id'), ['run_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('calendars',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_calendars'))
    )
    op.create_table('campaign_runs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('spec_hash', sa.String(length=64), nullable=False),
    sa.Column('spec_path', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('clock_kind', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('flow_run_id', sa.String(length=40), nullable=True),
    sa.Column('current_ring', sa.String(length=50), nullable=True),
    sa.Column('clock', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('created_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.Column('started_at', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('finished_at', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('report_path', sa.String(length=500), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_runs'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('slack_ts', sa.String(length=40), nullable=True),
    sa.Column('at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_run_id'), ['run_id'], unique=False)

    op.create_table('scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.Column('finished_at', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('hosts_total', sa.Integer(), nullable=False),
    sa.Column('hosts_ok', sa.Integer(), nullable=False),
    sa.Column('hosts_failed', sa.Integer(), nullable=False),
    sa.Column('findings_new', sa.Integer(), nullable=False),
    sa.Column('findings_resolved', sa.Integer(), nullable=False),
    sa.Column('findings_open', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans'))
    )
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('calendar', sa.String(length=100), nullable=True),
    sa.Column('sla_p1_days', sa.Integer(), nullable=False),
    sa.Column('sla_p2_days', sa.Integer(), nullable=False),
    sa.Column('sla_p3_days', sa.Integer(), nullable=False),
    sa.Column('sla_p4_days', sa.Integer(), nullable=False),
    sa.Column('slack_channel', sa.String(length=100), nullable=True),
    sa.Column('created_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('slug', name=op.f('uq_tenants_slug'))
    )
    op.create_table('approvals',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('ring', sa.String(length=50), nullable=False),
    sa.Column('plan_hash', sa.String(length=64), nullable=False),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('min_approvers', sa.Integer(), nullable=False),
    sa.Column('approver_roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tenants', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.Column('expires_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.Column('decided_at', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('flow_run_id', sa.String(length=40), nullable=True),
    sa.Column('slack_channel', sa.String(length=100), nullable=True),
    sa.Column('slack_ts', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['campaign_runs.id'], name=op.f('fk_approvals_run_id_campaign_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals'))
    )
    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('calendar', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sites_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_sites_tenant_name')
    )
    op.create_table('approval_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('approval_id', sa.String(length=40), nullable=False),
    sa.Column('approver', sa.String(length=100), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_approval_decisions_approval_id_approvals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_decisions')),
    sa.UniqueConstraint('approval_id', 'approver', name='uq_approval_decisions_approver')
    )
    op.create_table('hosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=253), nullable=False),
    sa.Column('name_key', sa.String(length=253), nullable=False),
    sa.Column('os_family', sa.String(length=20), nullable=False),
    sa.Column('os_version', sa.String(length=100), nullable=False),
    sa.Column('connector', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=253), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('ring', sa.String(length=50), nullable=True),
    sa.Column('criticality', sa.String(length=20), nullable=False),
    sa.Column('internet_facing', sa.Boolean(), nullable=False),
    sa.Column('rdp_exposed', sa.Boolean(), nullable=False),
    sa.Column('calendar', sa.String(length=100), nullable=True),
    sa.Column('credential_ref', sa.String(length=200), nullable=True),
    sa.Column('quarantined', sa.Boolean(), nullable=False),
    sa.Column('quarantine_reason', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=300), nullable=True),
    sa.Column('last_scan_at', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('last_scan_status', sa.String(length=20), nullable=True),
    sa.Column('last_scan_error', sa.Text(), nullable=True),
    sa.Column('created_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_hosts_site_id_sites'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_hosts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hosts')),
    sa.UniqueConstraint('tenant_id', 'name_key', name='uq_hosts_tenant_name_key')
    )
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.create_index('ix_hosts_tenant_address', ['tenant_id', 'address'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('advisory_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('first_seen', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.Column('last_seen', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.Column('resolved_at', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('tier', sa.String(length=2), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['advisory_id'], ['advisories.id'], name=op.f('fk_findings_advisory_id_advisories')),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_findings_host_id_hosts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings')),
    sa.UniqueConstraint('host_id', 'advisory_id', name='uq_findings_host_advisory')
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_status_tier', ['status', 'tier'], unique=False)

    op.create_table('host_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('ring', sa.String(length=50), nullable=False),
    sa.Column('ring_index', sa.Integer(), nullable=False),
    sa.Column('wave', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('patches', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('installed', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('calendar', sa.String(length=100), nullable=True),
    sa.Column('not_before', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('planned_start', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('planned_end', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('est_seconds', sa.Integer(), nullable=False),
    sa.Column('deferrals', sa.Integer(), nullable=False),
    sa.Column('reboot_required', sa.Boolean(), nullable=False),
    sa.Column('rebooted', sa.Boolean(), nullable=False),
    sa.Column('snapshot_id', sa.String(length=200), nullable=True),
    sa.Column('started_at', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('finished_at', patchwave.store.types.UtcDateTime(), nullable=True),
    sa.Column('failed_step', sa.String(length=20), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('updated_at', patchwave.store.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_host_jobs_host_id_hosts')),
    sa.ForeignKeyConstraint(['run_id'], ['campaign_runs.id'], name=op.f('fk_host_jobs_run_id_campaign_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_jobs')),
    sa.UniqueConstraint('run_id', 'host_id', name='uq_host_jobs_run_host')
    )
    with op.batch_alter_table('host_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_host_jobs_run_state', ['run_id', 'state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('host_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_host_jobs_run_state')

    op.drop_table('host_jobs')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_status_tier')

    op.drop_table('findings')
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.drop_index('ix_hosts_tenant_address')

    op.drop_table('hosts')
    op.drop_table('approval_decisions')
    op.drop_table('sites')
    op.drop_table('approvals')
    op.drop_table('tenants')
    op.drop_table('scans')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_run_id'))

    op.drop_table('notifications')
    op.drop_table('campaign_runs')
    op.drop_table('calendars')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_run_id'))

    op.drop_table('audit_events')
    op.drop_table('approvers')
    op.drop_table('advisories')
