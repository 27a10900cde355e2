"""exports: a build's lease and heartbeat (a build whose worker died is failed after a timeout
instead of staying "building" forever); builds left "building" by an older version are failed.

Revision ID: 3b7e51c0d9a2
Revises: b7c3e1d90a4f
Create Date: 2026-12-01 23:40:00
"""
from alembic import op
import sqlalchemy as sa

import database

revision = '3b7e51c0d9a2'
down_revision = 'b7c3e1d90a4f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', database.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE exports SET state = 'failed', "
               "error = 'build interrupted: its worker stopped before the upgrade that added build leases' "
               "WHERE state = 'building'")
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.create_check_constraint('building_has_lease', "(state = 'building') = (lease IS NOT NULL)")


def downgrade():
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_exports_building_has_lease'), type_='check')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('lease')
