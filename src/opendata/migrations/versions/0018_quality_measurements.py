"""measured data quality: quality rules on resources, one measurement per ingest

Revision ID: 0018
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('resources') as batch:
        batch.add_column(sa.Column('quality_rules', sa.JSON(), nullable=True))
    op.create_table('quality_measurements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('resource_pk', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.String(length=63), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('measured_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['resource_pk'], ['resources.pk'],
                            name=op.f('fk_quality_measurements_resource_pk_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_measurements')),
    )
    op.create_index('ix_quality_measurements_resource_pk_id', 'quality_measurements', ['resource_pk', 'id'])
    op.create_index('ix_quality_measurements_dataset_id', 'quality_measurements', ['dataset_id'])


def downgrade() -> None:
    op.drop_index('ix_quality_measurements_dataset_id', table_name='quality_measurements')
    op.drop_index('ix_quality_measurements_resource_pk_id', table_name='quality_measurements')
    op.drop_table('quality_measurements')
    with op.batch_alter_table('resources') as batch:
        batch.drop_column('quality_rules')
