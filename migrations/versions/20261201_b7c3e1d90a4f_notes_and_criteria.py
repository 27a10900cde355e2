"""time-coded notes and per-criterion choices on judgments; pairwise criteria and the note
requirement on projects; frame rate on assets

Audio and script assets have no frame rate: marked probed (``none``) here. Video assets keep
``frame_rate_source`` NULL (not probed) until ``tasks.catalogue.assets.probe_missing_frame_rates``
reads their files — ``flask db upgrade`` runs it after migrating, since a migration does not
know where the asset store lives.

Revision ID: b7c3e1d90a4f
Revises: ef1828347e49
Create Date: 2026-12-01 23:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b7c3e1d90a4f'
down_revision = 'ef1828347e49'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frame_rate', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('frame_rate_source', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(op.f('ck_assets_frame_rate'),
                                         'frame_rate IS NULL OR (frame_rate > 0 AND frame_rate <= 1000)')
    op.execute("UPDATE assets SET frame_rate_source = 'none' WHERE media_kind IN ('audio', 'script')")
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pairwise_criteria', sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column('require_note', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('judgments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notes', sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column('criteria', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('judgments', schema=None) as batch_op:
        batch_op.drop_column('criteria')
        batch_op.drop_column('notes')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('require_note')
        batch_op.drop_column('pairwise_criteria')
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_assets_frame_rate'), type_='check')
        batch_op.drop_column('frame_rate_source')
        batch_op.drop_column('frame_rate')
