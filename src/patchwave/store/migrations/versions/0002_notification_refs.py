"""notifications: subject (de-duplication) and the Slack message reference of edits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('ref_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('channel_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('thread_ts', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_subject'), ['subject'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_subject'))
        batch_op.drop_column('thread_ts')
        batch_op.drop_column('channel_id')
        batch_op.drop_column('ref_key')
        batch_op.drop_column('subject')
