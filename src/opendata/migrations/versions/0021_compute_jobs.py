"""compute jobs and their chunks: long computations whose progress any process can read

Revision ID: 0021j
Revises: 0019f
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0021j'
down_revision = '0019f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compute_jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=127), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('total_chunks', sa.Integer(), nullable=False),
    sa.Column('done_chunks', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('refunded', sa.Integer(), nullable=False),
    sa.Column('charged_on', sa.Date(), nullable=False),
    sa.Column('engine', sa.String(length=16), nullable=False),
    sa.Column('runner', sa.String(length=127), nullable=False),
    sa.Column('error_code', sa.String(length=63), nullable=True),
    sa.Column('error_message', sa.String(length=500), nullable=True),
    sa.Column('created_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_compute_jobs_licence_id_licences'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_compute_jobs_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_jobs')),
    )
    op.create_index(op.f('ix_compute_jobs_licence_id'), 'compute_jobs', ['licence_id'], unique=False)
    op.create_index(op.f('ix_compute_jobs_organisation_id'), 'compute_jobs', ['organisation_id'], unique=False)
    op.create_index('ix_compute_jobs_state_heartbeat', 'compute_jobs', ['state', 'heartbeat_at'], unique=False)
    op.create_table('compute_job_chunks',
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('input', sa.JSON(), nullable=True),
    sa.Column('output', sa.Text(), nullable=True),
    sa.Column('done_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['compute_jobs.id'], name=op.f('fk_compute_job_chunks_job_id_compute_jobs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'index', name=op.f('pk_compute_job_chunks')),
    )


def downgrade() -> None:
    op.drop_table('compute_job_chunks')
    op.drop_index('ix_compute_jobs_state_heartbeat', table_name='compute_jobs')
    op.drop_index(op.f('ix_compute_jobs_organisation_id'), table_name='compute_jobs')
    op.drop_index(op.f('ix_compute_jobs_licence_id'), table_name='compute_jobs')
    op.drop_table('compute_jobs')
