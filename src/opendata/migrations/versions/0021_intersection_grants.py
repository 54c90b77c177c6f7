"""private intersection statistics: grants (clamping, privacy budget, minimum cohort) and sessions

Revision ID: 0021psi
Revises: 0021j
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0021psi'
down_revision = '0021j'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('licence_intersection_grants',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('resource_id', sa.String(length=63), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('scale', sa.Integer(), nullable=False),
    sa.Column('epsilon_per_query', sa.Float(), nullable=False),
    sa.Column('epsilon_total', sa.Float(), nullable=False),
    sa.Column('epsilon_spent', sa.Float(), nullable=False),
    sa.Column('min_cohort', sa.Integer(), nullable=False),
    sa.Column('max_ids', sa.Integer(), nullable=False),
    sa.Column('per_day', sa.Integer(), nullable=False),
    sa.Column('updated_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=127), nullable=False),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_licence_intersection_grants_licence_id_licences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licence_intersection_grants')),
    sa.UniqueConstraint('licence_id', 'dataset_id', 'resource_id', name='uq_intersection_grant')
    )
    with op.batch_alter_table('licence_intersection_grants') as batch:
        batch.create_index(batch.f('ix_licence_intersection_grants_licence_id'), ['licence_id'], unique=False)
    op.create_table('compute_intersection_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('resource_id', sa.String(length=63), nullable=False),
    sa.Column('field', sa.String(length=63), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('subjects', sa.Integer(), nullable=False),
    sa.Column('value_total', sa.Text(), nullable=False),
    sa.Column('created_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('epsilon', sa.Float(), nullable=True),
    sa.Column('answered_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_compute_intersection_sessions_licence_id_licences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_intersection_sessions'))
    )
    with op.batch_alter_table('compute_intersection_sessions') as batch:
        batch.create_index(batch.f('ix_compute_intersection_sessions_licence_id'), ['licence_id'], unique=False)
        batch.create_index(batch.f('ix_compute_intersection_sessions_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('compute_intersection_sessions') as batch:
        batch.drop_index(batch.f('ix_compute_intersection_sessions_created_at'))
        batch.drop_index(batch.f('ix_compute_intersection_sessions_licence_id'))
    op.drop_table('compute_intersection_sessions')
    with op.batch_alter_table('licence_intersection_grants') as batch:
        batch.drop_index(batch.f('ix_licence_intersection_grants_licence_id'))
    op.drop_table('licence_intersection_grants')
