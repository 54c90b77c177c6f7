"""catalogue search index: token documents, FTS5 / tsvector, synonyms

Replaces the substring column datasets.search_text (and its pg_trgm index) with a real
full-text index. Existing datasets are indexed at the next start (plugin.prepare), not
here: indexing needs the models as they are then.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import opendata.db
from opendata.search.index import create_engine_index

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

DEFAULT_SYNONYMS = (
    "公交 巴士 公共汽车 bus",
    "地铁 轨道交通 metro subway",
    "学校 school",
    "医院 hospital",
    "企业 公司 enterprise company",
    "停车 泊车 parking",
    "社保 社会保险 social-insurance",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_datasets_search_trgm")
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    op.create_table('search_documents',
    sa.Column('doc_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dataset_id', sa.String(length=63), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('chars', sa.Text(), nullable=False),
    sa.Column('pinyin', sa.Text(), nullable=False),
    sa.Column('facet_tags', sa.Text(), nullable=False),
    sa.Column('facet_formats', sa.Text(), nullable=False),
    sa.Column('document', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_search_documents_dataset_id_datasets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('doc_id', name=op.f('pk_search_documents')),
    sa.UniqueConstraint('dataset_id', name=op.f('uq_search_documents_dataset_id'))
    )
    op.create_table('search_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_state'))
    )
    synonyms = op.create_table('search_synonyms',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('updated_at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=127), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_synonyms'))
    )
    create_engine_index(bind)
    now = opendata.db.utcnow()
    op.bulk_insert(synonyms, [{"terms": t, "updated_at": now, "updated_by": "default"} for t in DEFAULT_SYNONYMS])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in ("DROP TRIGGER IF EXISTS search_documents_ai", "DROP TRIGGER IF EXISTS search_documents_ad",
                          "DROP TRIGGER IF EXISTS search_documents_au", "DROP TABLE IF EXISTS search_fts_vocab",
                          "DROP TABLE IF EXISTS search_fts"):
            op.execute(statement)
    op.drop_table('search_synonyms')
    op.drop_table('search_state')
    op.drop_table('search_documents')
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
