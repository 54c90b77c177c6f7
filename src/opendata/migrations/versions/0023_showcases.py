"""reuse showcase: showcases and the datasets they use

Revision ID: 0023sc
Revises: 0022mx
Create Date: 2026-12-04 01:50:00
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0023sc'
down_revision = '0022mx'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('showcases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.Column('submitter_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_showcases_decided_by_users')),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_showcases_submitter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_showcases'))
    )
    with op.batch_alter_table('showcases', schema=None) as batch_op:
        batch_op.create_index('ix_showcases_state_id', ['state', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_showcases_submitter_id'), ['submitter_id'], unique=False)

    op.create_table('showcase_datasets',
    sa.Column('showcase_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_showcase_datasets_dataset_id_datasets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['showcase_id'], ['showcases.id'], name=op.f('fk_showcase_datasets_showcase_id_showcases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('showcase_id', 'dataset_id', name=op.f('pk_showcase_datasets'))
    )
    with op.batch_alter_table('showcase_datasets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_showcase_datasets_dataset_id'), ['dataset_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('showcase_datasets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_showcase_datasets_dataset_id'))
    op.drop_table('showcase_datasets')
    with op.batch_alter_table('showcases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_showcases_submitter_id'))
        batch_op.drop_index('ix_showcases_state_id')
    op.drop_table('showcases')
