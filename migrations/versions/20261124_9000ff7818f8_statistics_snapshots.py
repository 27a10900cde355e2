"""statistics snapshots: cached statistics reports per project and cache key (scoring.reports.models).

Revision ID: 9000ff7818f8
Revises: da8bf01ee9ab
Create Date: 2026-11-24 19:41:43.202493
"""
from alembic import op
import sqlalchemy as sa
import database


revision = '9000ff7818f8'
down_revision = 'da8bf01ee9ab'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stats_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('report', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('consensus', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('computed_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('n_judgments', sa.Integer(), nullable=True),
    sa.Column('requested_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(report IS NULL) = (computed_at IS NULL)', name=op.f('ck_stats_snapshots_ready_has_time')),
    sa.CheckConstraint('duration_ms IS NULL OR duration_ms >= 0', name=op.f('ck_stats_snapshots_duration')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_stats_snapshots_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_snapshots')),
    sa.UniqueConstraint('project_id', 'key', name=op.f('uq_stats_snapshots_project_id_key'))
    )
    with op.batch_alter_table('stats_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_stats_snapshots_project_computed', ['project_id', 'computed_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stats_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_snapshots_project_computed')

    op.drop_table('stats_snapshots')
