"""judgments: the rater's judgments in a project in id order (``ix_judgments_project_rater_id``
replaces ``ix_judgments_project_rater``), so a submit reads the rater's last rationales through a
bounded index scan (tasks.rating.judging.compared_rationales) instead of sorting all of them.

Revision ID: b7c4e91d2a53
Revises: 3b7e51c0d9a2
Create Date: 2026-12-01 23:50:00
"""
from alembic import op

revision = 'b7c4e91d2a53'
down_revision = "3b7e51c0d9a2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('judgments', schema=None) as batch_op:
        batch_op.create_index('ix_judgments_project_rater_id', ['project_id', 'rater_id', 'id'], unique=False)
        batch_op.drop_index('ix_judgments_project_rater')


def downgrade() -> None:
    with op.batch_alter_table('judgments', schema=None) as batch_op:
        batch_op.create_index('ix_judgments_project_rater', ['project_id', 'rater_id'], unique=False)
        batch_op.drop_index('ix_judgments_project_rater_id')
