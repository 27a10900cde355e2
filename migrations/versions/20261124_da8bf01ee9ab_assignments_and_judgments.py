"""assignments and judgments: the rating record (assignments, judgments, drafts, flags, item
panels, adjudications) and the projects' revision window.

The two partial unique indexes (one open assignment per rater and project; one current judgment
per rater and item) carry their WHERE clause on both SQLite and PostgreSQL.

Revision ID: da8bf01ee9ab
Revises: a0ba5f99a97a
Create Date: 2026-11-24 19:14:08.565653
"""
from alembic import op
import sqlalchemy as sa
import database


revision = 'da8bf01ee9ab'
down_revision = 'a0ba5f99a97a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adjudications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('choice', sa.String(length=3), nullable=True),
    sa.Column('strength', sa.Integer(), nullable=True),
    sa.Column('scores', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("choice IS NULL OR choice IN ('a','b','tie')", name=op.f('ck_adjudications_choice')),
    sa.CheckConstraint('(choice IS NULL) <> (scores IS NULL)', name=op.f('ck_adjudications_one_answer')),
    sa.CheckConstraint('strength IS NULL OR (strength >= 1 AND strength <= 3)', name=op.f('ck_adjudications_strength')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_adjudications_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_adjudications_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_adjudications_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjudications')),
    sa.UniqueConstraint('item_id', name=op.f('uq_adjudications_item_id'))
    )
    with op.batch_alter_table('adjudications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjudications_project_id'), ['project_id'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('served_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('left_label', sa.String(length=1), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('is_audit', sa.Boolean(), nullable=False),
    sa.Column('skip_reason', sa.Text(), nullable=True),
    sa.Column('submitted_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("left_label IN ('a','b')", name=op.f('ck_assignments_left_label')),
    sa.CheckConstraint("status IN ('open','submitted','skipped','expired')", name=op.f('ck_assignments_status')),
    sa.CheckConstraint('expires_at > served_at', name=op.f('ck_assignments_expiry')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_assignments_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_assignments_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rater_id'], ['users.id'], name=op.f('fk_assignments_rater_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('item_id', 'rater_id', name=op.f('uq_assignments_item_id_rater_id'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_item_status', ['item_id', 'status'], unique=False)
        batch_op.create_index('ix_assignments_project_status', ['project_id', 'status', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignments_rater_id'), ['rater_id'], unique=False)
        batch_op.create_index('uq_assignments_one_open', ['project_id', 'rater_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('item_panels',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('n_judgments', sa.Integer(), nullable=False),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('agreement', sa.Float(), nullable=True),
    sa.Column('updated_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('collecting','extended','agreed','split')", name=op.f('ck_item_panels_state')),
    sa.CheckConstraint('target >= 1', name=op.f('ck_item_panels_target')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_panels_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_item_panels_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_item_panels'))
    )
    with op.batch_alter_table('item_panels', schema=None) as batch_op:
        batch_op.create_index('ix_item_panels_project_state', ['project_id', 'state'], unique=False)

    op.create_table('drafts',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('updated_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_drafts_assignment_id_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assignment_id', name=op.f('pk_drafts'))
    )
    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('broken','unsafe','other')", name=op.f('ck_flags_kind')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_flags_assignment_id_assignments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_flags_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_flags_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_flags_reported_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_flags_resolved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flags'))
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.create_index('ix_flags_item_open', ['item_id', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_flags_project_id'), ['project_id'], unique=False)

    op.create_table('judgments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=3), nullable=True),
    sa.Column('strength', sa.Integer(), nullable=True),
    sa.Column('scores', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Integer(), nullable=False),
    sa.Column('time_on_task_ms', sa.BigInteger(), nullable=True),
    sa.Column('playback', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('paste_count', sa.Integer(), nullable=False),
    sa.Column('keystrokes', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('request_sha256', sa.String(length=64), nullable=True),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_at', database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("choice IS NULL OR choice IN ('a','b','tie')", name=op.f('ck_judgments_choice')),
    sa.CheckConstraint("source = 'imported' OR assignment_id IS NOT NULL", name=op.f('ck_judgments_live_has_assignment')),
    sa.CheckConstraint("source IN ('live','imported')", name=op.f('ck_judgments_source')),
    sa.CheckConstraint('(choice IS NULL) <> (scores IS NULL)', name=op.f('ck_judgments_one_answer')),
    sa.CheckConstraint('confidence >= 1 AND confidence <= 5', name=op.f('ck_judgments_confidence')),
    sa.CheckConstraint('paste_count >= 0', name=op.f('ck_judgments_paste_count')),
    sa.CheckConstraint('strength IS NULL OR (strength >= 1 AND strength <= 3)', name=op.f('ck_judgments_strength')),
    sa.CheckConstraint('time_on_task_ms IS NULL OR time_on_task_ms >= 0', name=op.f('ck_judgments_time_on_task')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_judgments_assignment_id_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_judgments_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_judgments_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rater_id'], ['users.id'], name=op.f('fk_judgments_rater_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supersedes_id'], ['judgments.id'], name=op.f('fk_judgments_supersedes_id_judgments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judgments')),
    sa.UniqueConstraint('rater_id', 'idempotency_key', name=op.f('uq_judgments_rater_id_idempotency_key')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_judgments_supersedes_id'))
    )
    with op.batch_alter_table('judgments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judgments_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index('ix_judgments_project_rater', ['project_id', 'rater_id'], unique=False)
        batch_op.create_index('uq_judgments_current', ['item_id', 'rater_id'], unique=True, sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        # A column-level CHECK: SQLite adds it with ALTER TABLE ADD COLUMN, no table rebuild.
        batch_op.add_column(sa.Column('revision_window_h', sa.Integer(),
                                      sa.CheckConstraint('revision_window_h >= 0', name=op.f('ck_projects_revision_window_h')),
                                      server_default='24', nullable=False))



def downgrade() -> None:
    # Not a batch rebuild: on SQLite that would drop and recreate ``projects`` (cascading deletes
    # into items); SQLite ≥ 3.35 drops a column in place.
    op.execute('ALTER TABLE projects DROP COLUMN revision_window_h')

    with op.batch_alter_table('judgments', schema=None) as batch_op:
        batch_op.drop_index('uq_judgments_current', sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))
        batch_op.drop_index('ix_judgments_project_rater')
        batch_op.drop_index(batch_op.f('ix_judgments_assignment_id'))

    op.drop_table('judgments')
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flags_project_id'))
        batch_op.drop_index('ix_flags_item_open')

    op.drop_table('flags')
    op.drop_table('drafts')
    with op.batch_alter_table('item_panels', schema=None) as batch_op:
        batch_op.drop_index('ix_item_panels_project_state')

    op.drop_table('item_panels')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('uq_assignments_one_open', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_assignments_rater_id'))
        batch_op.drop_index('ix_assignments_project_status')
        batch_op.drop_index('ix_assignments_item_status')

    op.drop_table('assignments')
    with op.batch_alter_table('adjudications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjudications_project_id'))

    op.drop_table('adjudications')
