"""dataset metadata extensions: the values plugins' extensions validated, per dataset

Revision ID: 0022mx
Revises: 0021psi
"""

from alembic import op
import sqlalchemy as sa


revision = '0022mx'
down_revision = '0021psi'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('datasets', sa.Column('extensions', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('datasets') as batch:
        batch.drop_column('extensions')
