"""statistics consensus rows keyed by (snapshot, position): no surrogate id, no foreign key.

The rows are a cache written a snapshot at a time (up to one per item: millions for a large
project). The surrogate ``id`` (a sequence and a second index) and the foreign key to
``stats_snapshots`` (a trigger checking every row) were two thirds of the write's cost on
PostgreSQL; ``scoring.reports.data`` deletes a snapshot's rows with it (``prune_snapshots``)
and before writing them (``_store_consensus_rows``), which the tests check.

Revision ID: 5d0c4e8a1f37
Revises: a7c3e9d41b20
Create Date: 2026-12-02 13:30:00
"""
from alembic import op


revision = '5d0c4e8a1f37'
down_revision = 'a7c3e9d41b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stats_consensus_rows') as batch:
        batch.drop_constraint('fk_stats_consensus_rows_snapshot_id_stats_snapshots', type_='foreignkey')
        batch.drop_constraint('uq_stats_consensus_rows_snapshot_id_position', type_='unique')
        batch.drop_constraint('pk_stats_consensus_rows', type_='primary')
        batch.drop_column('id')
        batch.create_primary_key('pk_stats_consensus_rows', ['snapshot_id', 'position'])


def downgrade() -> None:
    """Back to the surrogate-keyed table. The rows are a cache: the snapshots are dropped with
    them and computed again on the next look."""
    import sqlalchemy as sa
    op.drop_table('stats_consensus_rows')
    op.execute("DELETE FROM stats_snapshots")
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
