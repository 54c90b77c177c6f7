"""the public-data asset register and its certificates

Revision ID: 0016
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0016'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_assets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('holder_department', sa.String(length=255), nullable=False),
    sa.Column('source_system', sa.String(length=255), nullable=True),
    sa.Column('responsible_department', sa.String(length=255), nullable=True),
    sa.Column('update_mechanism', sa.String(length=255), nullable=True),
    sa.Column('quality_standard', sa.String(length=255), nullable=True),
    sa.Column('row_count', sa.BigInteger(), nullable=False),
    sa.Column('byte_count', sa.BigInteger(), nullable=True),
    sa.Column('quality_score', sa.Float(), nullable=True),
    sa.Column('open_level', sa.String(length=16), nullable=False),
    sa.Column('permitted_uses', sa.JSON(), nullable=False),
    sa.Column('value_assessment', sa.Text(), nullable=True),
    sa.Column('compliance_status', sa.String(length=16), nullable=False),
    sa.Column('compliance_reviewer', sa.String(length=255), nullable=True),
    sa.Column('compliance_date', sa.Date(), nullable=True),
    sa.Column('compliance_notes', sa.Text(), nullable=True),
    sa.Column('registered_by', sa.String(length=255), nullable=False),
    sa.Column('registered_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('amended_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_data_assets_dataset_id_datasets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_assets')),
    sa.UniqueConstraint('code', name=op.f('uq_data_assets_code')),
    sa.UniqueConstraint('dataset_id', name=op.f('uq_data_assets_dataset_id')),
    )
    op.create_index(op.f('ix_data_assets_status'), 'data_assets', ['status'], unique=False)
    op.create_table('data_asset_certificates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('issued_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', opendata.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['data_assets.id'],
                            name=op.f('fk_data_asset_certificates_asset_id_data_assets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_asset_certificates')),
    )
    op.create_index(op.f('ix_data_asset_certificates_asset_id'), 'data_asset_certificates', ['asset_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_data_asset_certificates_asset_id'), table_name='data_asset_certificates')
    op.drop_table('data_asset_certificates')
    op.drop_index(op.f('ix_data_assets_status'), table_name='data_assets')
    op.drop_table('data_assets')
