"""missing-value markers (resources, fields) and field constraints

Revision ID: 0013
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column("missing_values", sa.JSON(), nullable=True))
    with op.batch_alter_table("fields") as batch:
        batch.add_column(sa.Column("missing_values", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("constraints", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fields") as batch:
        batch.drop_column("constraints")
        batch.drop_column("missing_values")
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("missing_values")
