"""Rater standing per project membership (status active/warned/paused/removed with its reason and
rule, excluded flag and note, gold counters and qualification) and per-project quality settings
(qualification_gold, quality_thresholds overrides) — tasks.rating.standing; and each judgment's
rationale features (word count, shingle hashes, points at a moment), stored when it is written so
the rater-quality desk does not re-tokenise every rationale (backfilled here).

Revision ID: a7c3e9d41b20
Revises: b7c4e91d2a53
Create Date: 2026-12-01 23:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'a7c3e9d41b20'
down_revision = "b7c4e91d2a53"
branch_labels = None
depends_on = None

MEMBER_COLUMNS = (
    lambda: sa.Column('status', sa.String(length=10), server_default='active', nullable=False),
    lambda: sa.Column('status_reason', sa.Text(), nullable=True),
    lambda: sa.Column('status_rule', sa.String(length=20), nullable=True),
    lambda: sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    lambda: sa.Column('excluded', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    lambda: sa.Column('exclusion_note', sa.Text(), nullable=True),
    lambda: sa.Column('gold_seen', sa.Integer(), server_default='0', nullable=False),
    lambda: sa.Column('gold_right', sa.Integer(), server_default='0', nullable=False),
    lambda: sa.Column('qualified_at', sa.DateTime(timezone=True), nullable=True),
    lambda: sa.Column('fast_streak', sa.Integer(), server_default='0', nullable=False),
)


def upgrade() -> None:
    # No batch (copy-and-move) table rebuild: on SQLite it would drop the old tables with foreign
    # keys on and cascade-delete their rows. SQLite adds the columns in place and goes without
    # the check constraints (PostgreSQL has them).
    bind = op.get_bind()
    for column in MEMBER_COLUMNS:
        op.add_column('project_members', column())
    op.add_column('projects', sa.Column('qualification_gold', sa.Integer(), server_default='0', nullable=False))
    op.add_column('projects', sa.Column('quality_thresholds', sa.JSON(), nullable=True))
    if bind.dialect.name != 'sqlite':
        op.create_check_constraint(op.f('ck_project_members_status'), 'project_members',
                                   "status IN ('active','warned','paused','removed')")
        op.create_check_constraint(op.f('ck_projects_qualification_gold'), 'projects', 'qualification_gold >= 0')
    # Raters already working count as qualified; their gold counters start at this revision (the
    # panel's gold accuracy still reads every gold judgment).
    op.execute("UPDATE project_members SET qualified_at = added_at")
    op.add_column('judgments', sa.Column('rationale_features', sa.JSON(), nullable=True))
    _backfill_features(bind)


def _backfill_features(bind, batch: int = 2000) -> None:
    # The function as of this revision; a later version of it is recomputed when read (its "v").
    from tasks.rating.answers import rationale_features
    judgments = sa.table('judgments', sa.column('id', sa.Integer), sa.column('rationale', sa.Text),
                         sa.column('rationale_features', sa.JSON))
    last = 0
    while True:
        rows = bind.execute(sa.select(judgments.c.id, judgments.c.rationale).where(judgments.c.id > last)
                            .order_by(judgments.c.id).limit(batch)).all()
        if not rows:
            return
        bind.execute(judgments.update().where(judgments.c.id == sa.bindparam('jid'))
                     .values(rationale_features=sa.bindparam('features')),
                     [{'jid': jid, 'features': rationale_features(text)} for jid, text in rows])
        last = rows[-1][0]


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_projects_qualification_gold'), 'projects', type_='check')
        op.drop_constraint(op.f('ck_project_members_status'), 'project_members', type_='check')
    op.drop_column('judgments', 'rationale_features')
    op.drop_column('projects', 'quality_thresholds')
    op.drop_column('projects', 'qualification_gold')
    for column in reversed(MEMBER_COLUMNS):
        op.drop_column('project_members', column().name)
