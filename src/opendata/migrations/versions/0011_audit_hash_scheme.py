"""audit records name their hash scheme: keyed HMAC-SHA256 from now on

Existing records keep their unkeyed SHA-256 hashes (scheme "sha256"): the table is
append-only and re-chaining them would rewrite the history it is meant to keep. The first
keyed record's HMAC covers the last legacy hash, and the portal's first signed checkpoint
pins how many legacy records there are (docs/security.md, "The audit's trust model").

Token signing keys are sealed under the key-encryption key at the portal's start
(access/keys.py, seal_stored_keys), not here: the KEK is outside the database, and a
migration only knows the database.

Revision ID: 0011
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy on SQLite): copying the table would drop and
    # recreate it, and with it the append-only triggers.
    op.add_column('audit_records', sa.Column('scheme', sa.String(length=16), nullable=False,
                                             server_default='sha256'))


def downgrade() -> None:
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_column('scheme')
