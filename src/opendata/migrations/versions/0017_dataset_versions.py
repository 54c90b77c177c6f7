"""dataset versions (history with diffs) and the dataset's version number

Revision ID: 0017v
Revises: 0018
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0017v'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of the table): both backends support it.
    op.add_column('datasets', sa.Column('version_number', sa.Integer(), server_default='0', nullable=False))
    op.add_column('datasets', sa.Column('data_modified_at', opendata.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table('dataset_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.String(length=63), nullable=False),
    sa.Column('created_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('file_digest', sa.String(length=64), nullable=True),
    sa.Column('row_count', sa.BigInteger(), nullable=False),
    sa.Column('diff_key', sa.String(length=63), nullable=True),
    sa.Column('added', sa.BigInteger(), nullable=False),
    sa.Column('removed', sa.BigInteger(), nullable=False),
    sa.Column('changed', sa.BigInteger(), nullable=True),
    sa.Column('samples', sa.JSON(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('table_name', sa.String(length=63), nullable=True),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_dataset_versions_dataset_id_datasets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_versions')),
    sa.UniqueConstraint('dataset_id', 'number', name='uq_dataset_versions_dataset_id_number'),
    )
    op.create_index('ix_dataset_versions_table_name', 'dataset_versions', ['table_name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dataset_versions_table_name', table_name='dataset_versions')
    op.drop_table('dataset_versions')
    with op.batch_alter_table('datasets') as batch:
        batch.drop_column('data_modified_at')
        batch.drop_column('version_number')
