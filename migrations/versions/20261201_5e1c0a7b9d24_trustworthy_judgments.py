"""trustworthy judgments: server-observed playback, flags naming the output and the manager's
action, dropped items

Revision ID: 5e1c0a7b9d24
Revises: d2fe87320550
Create Date: 2026-12-01 20:30:00
"""
from alembic import op
import sqlalchemy as sa
import database


revision = '5e1c0a7b9d24'
down_revision = 'd2fe87320550'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('playback_observations',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=1), nullable=False),
    sa.Column('position_s', sa.Float(), nullable=True),
    sa.Column('playing', sa.Boolean(), nullable=False),
    sa.Column('heartbeat_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heard_s', sa.Float(), nullable=False),
    sa.Column('byte_ranges', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('bytes_seen', sa.BigInteger(), nullable=False),
    sa.Column('first_fetch_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("label IN ('a','b')", name=op.f('ck_playback_observations_label')),
    sa.CheckConstraint('heard_s >= 0 AND bytes_seen >= 0', name=op.f('ck_playback_observations_amounts')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_playback_observations_assignment_id_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assignment_id', 'label', name=op.f('pk_playback_observations'))
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('model', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('action', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(op.f('ck_flags_label'), "label IS NULL OR label IN ('a','b')")
        batch_op.create_check_constraint(op.f('ck_flags_action'), "action IS NULL OR action IN ('returned','dropped','replaced')")
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dropped_at', database.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('dropped_at')
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_flags_action'), type_='check')
        batch_op.drop_constraint(op.f('ck_flags_label'), type_='check')
        batch_op.drop_column('action')
        batch_op.drop_column('model')
        batch_op.drop_column('label')
    op.drop_table('playback_observations')
