"""one active token signing key: a partial unique index

Processes that issued their first tokens at the same moment each created an "active" key.
Any such extra keys are retired here (the newest stays active; the retired ones stay
published until their tokens have expired), then the index makes a second one impossible.

Revision ID: 0009
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa

import opendata.db

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

WHERE = sa.text("retired_at IS NULL")


def upgrade() -> None:
    bind = op.get_bind()
    keys = sa.table("signing_keys", sa.column("kid", sa.String), sa.column("algorithm", sa.String),
                    sa.column("created_at", opendata.db.UTCDateTime()),
                    sa.column("retired_at", opendata.db.UTCDateTime()))
    active = bind.execute(sa.select(keys.c.kid, keys.c.algorithm).where(keys.c.retired_at.is_(None))
                          .order_by(keys.c.algorithm, keys.c.created_at.desc(), keys.c.kid)).all()
    seen: set[str] = set()
    for kid, algorithm in active:
        if algorithm in seen:
            bind.execute(keys.update().where(keys.c.kid == kid).values(retired_at=opendata.db.utcnow()))
        seen.add(algorithm)
    op.create_index("uq_signing_keys_one_active", "signing_keys", ["algorithm"], unique=True,
                    sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade() -> None:
    op.drop_index("uq_signing_keys_one_active", table_name="signing_keys")
