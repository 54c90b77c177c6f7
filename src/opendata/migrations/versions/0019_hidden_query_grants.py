"""hidden query grants: a licence's daily number of hidden queries on a resource and its fields

Revision ID: 0019hq
Revises: 0017v
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0019hq'
down_revision = '0017v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('licence_hidden_query_grants',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('resource_id', sa.String(length=63), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('per_day', sa.Integer(), nullable=False),
    sa.Column('updated_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=127), nullable=False),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_licence_hidden_query_grants_licence_id_licences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licence_hidden_query_grants')),
    sa.UniqueConstraint('licence_id', 'dataset_id', 'resource_id', name='uq_hidden_query_grant')
    )
    with op.batch_alter_table('licence_hidden_query_grants') as batch:
        batch.create_index(batch.f('ix_licence_hidden_query_grants_licence_id'), ['licence_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('licence_hidden_query_grants') as batch:
        batch.drop_index(batch.f('ix_licence_hidden_query_grants_licence_id'))
    op.drop_table('licence_hidden_query_grants')
