"""initial schema

Revision ID: a0ba5f99a97a
Revises: 
Create Date: 2026-11-24 19:01:27.024869
"""
from alembic import op
import sqlalchemy as sa
import database


revision = 'a0ba5f99a97a'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('at', database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_remote_addr'), ['remote_addr'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('senior', sa.Boolean(), nullable=False),
    sa.Column('consent_version', sa.String(length=40), nullable=True),
    sa.Column('consent_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('admin','manager','researcher','rater')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('media_kind', sa.String(length=10), nullable=False),
    sa.Column('mime_type', sa.String(length=60), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('duration_source', sa.String(length=20), nullable=True),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('source_model', sa.String(length=120), nullable=True),
    sa.Column('model_version', sa.String(length=120), nullable=True),
    sa.Column('generation_params', sa.JSON(), nullable=True),
    sa.Column('rights_holder', sa.String(length=200), nullable=True),
    sa.Column('license', sa.String(length=120), nullable=True),
    sa.Column('consent', sa.String(length=20), nullable=False),
    sa.Column('consent_ref', sa.String(length=200), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("consent IN ('granted','pending','revoked','not_required')", name=op.f('ck_assets_consent')),
    sa.CheckConstraint("media_kind IN ('video','audio','script')", name=op.f('ck_assets_media_kind')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assets_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets')),
    sa.UniqueConstraint('public_id', name=op.f('uq_assets_public_id')),
    sa.UniqueConstraint('sha256', name=op.f('uq_assets_sha256'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at', database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('modality', sa.String(length=20), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('rubric', sa.JSON(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('overlap', sa.Integer(), nullable=False),
    sa.Column('max_overlap', sa.Integer(), nullable=False),
    sa.Column('agreement_target', sa.Float(), nullable=False),
    sa.Column('confidence_threshold', sa.Float(), nullable=False),
    sa.Column('audit_rate', sa.Float(), nullable=False),
    sa.Column('gold_rate', sa.Float(), nullable=False),
    sa.Column('min_rationale_words', sa.Integer(), nullable=False),
    sa.Column('min_media_fraction', sa.Float(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('pairwise','rubric')", name=op.f('ck_projects_kind')),
    sa.CheckConstraint("modality IN ('video','audio','script')", name=op.f('ck_projects_modality')),
    sa.CheckConstraint('agreement_target >= 0 AND agreement_target <= 1', name=op.f('ck_projects_agreement_target')),
    sa.CheckConstraint('audit_rate >= 0 AND audit_rate <= 1', name=op.f('ck_projects_audit_rate')),
    sa.CheckConstraint('confidence_threshold >= 0 AND confidence_threshold <= 1', name=op.f('ck_projects_confidence_threshold')),
    sa.CheckConstraint('gold_rate >= 0 AND gold_rate <= 1', name=op.f('ck_projects_gold_rate')),
    sa.CheckConstraint('min_media_fraction >= 0 AND min_media_fraction <= 1', name=op.f('ck_projects_min_media_fraction')),
    sa.CheckConstraint('min_rationale_words >= 0', name=op.f('ck_projects_min_rationale_words')),
    sa.CheckConstraint('overlap >= 1 AND max_overlap >= overlap', name=op.f('ck_projects_overlap')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_projects_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('name', name=op.f('uq_projects_name'))
    )
    op.create_table('user_expertise',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_expertise_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'tag', name=op.f('pk_user_expertise'))
    )
    op.create_table('consent_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('old_consent', sa.String(length=20), nullable=True),
    sa.Column('new_consent', sa.String(length=20), nullable=False),
    sa.Column('consent_ref', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_consent_changes_asset_id_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_consent_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_changes'))
    )
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_changes_asset_id'), ['asset_id'], unique=False)

    op.create_table('item_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_format', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('n_items', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_item_imports_imported_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_item_imports_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_imports'))
    )
    with op.batch_alter_table('item_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_imports_project_id'), ['project_id'], unique=False)

    op.create_table('project_members',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_members_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_project_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'user_id', name=op.f('pk_project_members'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('model_confidence', sa.Float(), nullable=True),
    sa.Column('gold', sa.JSON(), nullable=True),
    sa.Column('metadata', sa.JSON(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('model_confidence IS NULL OR (model_confidence >= 0 AND model_confidence <= 1)', name=op.f('ck_items_model_confidence')),
    sa.ForeignKeyConstraint(['import_id'], ['item_imports.id'], name=op.f('fk_items_import_id_item_imports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_items_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('project_id', 'external_id', name=op.f('uq_items_project_id_external_id'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_project_id'), ['project_id'], unique=False)

    op.create_table('item_expertise',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_expertise_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'tag', name=op.f('pk_item_expertise'))
    )
    op.create_table('item_outputs',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=1), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("label IN ('a','b')", name=op.f('ck_item_outputs_label')),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_item_outputs_asset_id_assets')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_outputs_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'label', name=op.f('pk_item_outputs'))
    )
    with op.batch_alter_table('item_outputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_outputs_asset_id'), ['asset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_outputs_model'), ['model'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('item_outputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_outputs_model'))
        batch_op.drop_index(batch_op.f('ix_item_outputs_asset_id'))

    op.drop_table('item_outputs')
    op.drop_table('item_expertise')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_project_id'))

    op.drop_table('items')
    op.drop_table('project_members')
    with op.batch_alter_table('item_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_imports_project_id'))

    op.drop_table('item_imports')
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_changes_asset_id'))

    op.drop_table('consent_changes')
    op.drop_table('user_expertise')
    op.drop_table('projects')
    op.drop_table('audit_events')
    op.drop_table('assets')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_remote_addr'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_email'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))

    op.drop_table('login_attempts')
