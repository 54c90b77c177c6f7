"""compute proof parameters: the portal's ring-Pedersen modulus and its factors

Revision ID: 0010
Revises: 0013
Create Date: 2026-12-02 14:20:00

The parameters are generated (or imported from OPENDATA_COMPUTE_PARAMETERS_FILE) on first
use, not here: generating two safe primes takes seconds. Keys registered before proofs
were required stay unusable (compute_keys.proven_at NULL, migration 0006) until proved.
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0010'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compute_parameters',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('private_json', sa.Text(), nullable=False),
    sa.Column('created_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_compute_parameters'))
    )


def downgrade() -> None:
    op.drop_table('compute_parameters')
