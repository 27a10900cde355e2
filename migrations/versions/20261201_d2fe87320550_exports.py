"""exports: versioned dataset exports, the assets each contains, per-project export settings;
an index of judgments by item (exports read an item's judgments in order, superseded ones too).

Revision ID: d2fe87320550
Revises: 6778bf850f77
Create Date: 2026-12-01 20:40:00
"""
from alembic import op
import sqlalchemy as sa
import database


revision = 'd2fe87320550'
down_revision = '6778bf850f77'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('export_settings',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('release_gate', sa.Boolean(), nullable=False),
    sa.Column('pseudonym_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_export_settings_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_export_settings'))
    )
    op.create_table('exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('file_format', sa.String(length=10), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('series_key', sa.String(length=64), nullable=False),
    sa.Column('data_key', sa.String(length=200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('manifest', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('row_counts', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('archive_sha256', sa.String(length=64), nullable=True),
    sa.Column('archive_bytes', sa.BigInteger(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('built_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('release_note', sa.Text(), nullable=True),
    sa.Column('affected_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('affected_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('queued','building','draft','released','failed')", name=op.f('ck_exports_state')),
    sa.CheckConstraint("kind IN ('preferences','ratings')", name=op.f('ck_exports_kind')),
    sa.CheckConstraint("file_format IN ('parquet','jsonl','csv')", name=op.f('ck_exports_file_format')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_exports_version')),
    sa.CheckConstraint('progress >= 0 AND progress <= 1', name=op.f('ck_exports_progress')),
    sa.CheckConstraint("(state = 'released') = (released_at IS NOT NULL)", name=op.f('ck_exports_released_has_time')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_exports_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_exports_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_exports_released_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports')),
    sa.UniqueConstraint('project_id', 'series_key', 'version', name=op.f('uq_exports_project_id'))
    )
    op.create_index('ix_exports_project_created', 'exports', ['project_id', 'created_at'], unique=False)
    op.create_table('export_assets',
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_export_assets_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['export_id'], ['exports.id'], name=op.f('fk_export_assets_export_id_exports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('export_id', 'asset_id', name=op.f('pk_export_assets'))
    )
    op.create_index(op.f('ix_export_assets_asset_id'), 'export_assets', ['asset_id'], unique=False)
    op.create_index('ix_judgments_item_id', 'judgments', ['item_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_judgments_item_id', table_name='judgments')
    op.drop_index(op.f('ix_export_assets_asset_id'), table_name='export_assets')
    op.drop_table('export_assets')
    op.drop_index('ix_exports_project_created', table_name='exports')
    op.drop_table('exports')
    op.drop_table('export_settings')
