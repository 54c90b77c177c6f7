"""compute against a malicious licensee: proven keys, output modes, deny by default, caps

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:10:00

* compute_keys.proven_at: NULL for every key registered before key proofs; such a key
  computes nothing until its owner attaches a proof (POST /api/v1/compute/keys/{kid}/proof).
* compute_models: output_mode (NULL for older models: they cannot score, their weights were
  never bounded), plain_weights, enc_thresholds, weight_bits, bias_bits.
* licence_compute_policies: restrict_subjects -> all_subjects. Deny by default: every
  existing policy becomes "only the listed subjects" (an old unrestricted policy thus
  allows nobody until an administrator explicitly chooses every subject again).
* compute_subject_usage, compute_key_attempts: the daily per-subject/per-field caps and the
  key registration rate limit.
"""

from alembic import op
import sqlalchemy as sa
import opendata.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compute_key_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('at', opendata.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_compute_key_attempts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compute_key_attempts'))
    )
    with op.batch_alter_table('compute_key_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compute_key_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_compute_key_attempts_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('compute_subject_usage',
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_compute_subject_usage_licence_id_licences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('licence_id', 'day', 'subject', 'field', name=op.f('pk_compute_subject_usage'))
    )
    with op.batch_alter_table('compute_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proven_at', opendata.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('compute_models', schema=None) as batch_op:
        batch_op.add_column(sa.Column('output_mode', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('plain_weights', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('enc_thresholds', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('weight_bits', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('bias_bits', sa.Integer(), nullable=True))

    with op.batch_alter_table('licence_compute_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('all_subjects', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('licence_compute_policies', schema=None) as batch_op:
        batch_op.alter_column('all_subjects', server_default=None)
        batch_op.drop_column('restrict_subjects')


def downgrade() -> None:
    with op.batch_alter_table('licence_compute_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restrict_subjects', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.execute("UPDATE licence_compute_policies SET restrict_subjects = NOT all_subjects")
    with op.batch_alter_table('licence_compute_policies', schema=None) as batch_op:
        batch_op.alter_column('restrict_subjects', server_default=None)
        batch_op.drop_column('all_subjects')

    with op.batch_alter_table('compute_models', schema=None) as batch_op:
        batch_op.drop_column('bias_bits')
        batch_op.drop_column('weight_bits')
        batch_op.drop_column('enc_thresholds')
        batch_op.drop_column('plain_weights')
        batch_op.drop_column('output_mode')

    with op.batch_alter_table('compute_keys', schema=None) as batch_op:
        batch_op.drop_column('proven_at')

    op.drop_table('compute_subject_usage')
    with op.batch_alter_table('compute_key_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compute_key_attempts_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_compute_key_attempts_at'))

    op.drop_table('compute_key_attempts')
