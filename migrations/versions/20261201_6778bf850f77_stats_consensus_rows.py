"""statistics consensus rows: one row per item and snapshot, so a page reads only what it shows.

Revision ID: 6778bf850f77
Revises: 447328e60325
Create Date: 2026-12-01 20:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '6778bf850f77'
down_revision = '447328e60325'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stats_consensus_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('any_tied', sa.Boolean(), nullable=False),
    sa.Column('min_share', sa.Float(), nullable=True),
    sa.Column('adjudicated', sa.Boolean(), nullable=False),
    sa.Column('n_imported', sa.Integer(), nullable=False),
    sa.Column('row', sa.JSON(), nullable=False),
    sa.CheckConstraint('n_imported >= 0', name=op.f('ck_stats_consensus_rows_n_imported')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['stats_snapshots.id'],
                            name=op.f('fk_stats_consensus_rows_snapshot_id_stats_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_consensus_rows')),
    sa.UniqueConstraint('snapshot_id', 'position', name=op.f('uq_stats_consensus_rows_snapshot_id_position'))
    )


def downgrade() -> None:
    op.drop_table('stats_consensus_rows')
