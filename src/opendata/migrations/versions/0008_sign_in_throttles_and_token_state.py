"""sign-in throttling, client secret versions, disabled organisations

Revision ID: 0008
Revises: 0009 (numbers were handed out before landing; the chain is 0007 -> 0009 -> 0008)
"""

from alembic import op
import sqlalchemy as sa

import opendata.db

revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_throttles',
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_allowed_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_until', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('subject', name=op.f('pk_sign_in_throttles'))
    )
    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_throttles_locked_until'), ['locked_until'], unique=False)
    # Existing rows: version 0 (tokens without an ``sv`` claim count as 0), organisations enabled.
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_version', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('disabled')
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_column('secret_version')
    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_throttles_locked_until'))
    op.drop_table('sign_in_throttles')
