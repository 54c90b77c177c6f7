"""dataset subscriptions and the mail outbox

Revision ID: 0020s
Revises: 0019hq
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0020s'
down_revision = '0019hq'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dataset_subscriptions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('created_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_dataset_subscriptions_dataset_id_datasets'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dataset_subscriptions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_subscriptions')),
    sa.UniqueConstraint('user_id', 'dataset_id', name='uq_dataset_subscriptions_user_id_dataset_id'),
    )
    op.create_index(op.f('ix_dataset_subscriptions_dataset_id'), 'dataset_subscriptions', ['dataset_id'], unique=False)
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('to_address', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    )
    op.create_index('ix_mail_outbox_status_next_attempt_at', 'mail_outbox', ['status', 'next_attempt_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_mail_outbox_status_next_attempt_at', table_name='mail_outbox')
    op.drop_table('mail_outbox')
    op.drop_index(op.f('ix_dataset_subscriptions_dataset_id'), table_name='dataset_subscriptions')
    op.drop_table('dataset_subscriptions')
