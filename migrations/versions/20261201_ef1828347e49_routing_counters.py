"""items: routing's counters (judged, held, target, hold) and the partial index of items that still
need work, in routing's order (tasks.rating.routing); counters backfilled from the rows they count.

Revision ID: ef1828347e49
Revises: 5e1c0a7b9d24
Create Date: 2026-12-01 20:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'ef1828347e49'
down_revision = '5e1c0a7b9d24'
branch_labels = None
depends_on = None

ROUTABLE = "hold = 0 AND n_judged + n_held < target"
# The recount of tasks.rating.routing._recount as of this revision (HOLD_* bits 1, 2, 4, 8, 16, 32).
BACKFILL = """
UPDATE items SET
  n_judged = (SELECT count(*) FROM judgments j WHERE j.item_id = items.id AND j.superseded_at IS NULL),
  n_held = (SELECT count(*) FROM assignments a WHERE a.item_id = items.id AND a.status = 'open'),
  target = CASE
    WHEN (SELECT p.target FROM item_panels p WHERE p.item_id = items.id) > {max_overlap} THEN {max_overlap}
    WHEN (SELECT p.target FROM item_panels p WHERE p.item_id = items.id) > {overlap}
      THEN (SELECT p.target FROM item_panels p WHERE p.item_id = items.id)
    ELSE {overlap} END,
  hold = (CASE WHEN EXISTS (SELECT 1 FROM flags f WHERE f.item_id = items.id AND f.resolved_at IS NULL)
               THEN 1 ELSE 0 END)
       + (CASE WHEN EXISTS (SELECT 1 FROM item_outputs o JOIN assets s ON s.id = o.asset_id
                            WHERE o.item_id = items.id AND s.consent NOT IN ('granted', 'not_required'))
               THEN 2 ELSE 0 END)
       + (CASE WHEN gold IS NOT NULL THEN 4 ELSE 0 END)
       + (CASE WHEN model_confidence IS NOT NULL AND model_confidence >= {threshold}
                AND (id * 2654435761 + {project_term}) % 4294967296 >= {audit} THEN 8 ELSE 0 END)
       + (CASE WHEN EXISTS (SELECT 1 FROM adjudications d WHERE d.item_id = items.id) THEN 16 ELSE 0 END)
       + (CASE WHEN dropped_at IS NOT NULL THEN 32 ELSE 0 END)
WHERE project_id = {project_id}
"""


def upgrade() -> None:
    # No batch (copy-and-move) table rebuild: on SQLite it would drop the old items table with
    # foreign keys on, and the cascade would delete every item's outputs, judgments and panels.
    # SQLite adds the columns in place and goes without the check constraint (PostgreSQL has it).
    bind = op.get_bind()
    for name in ('n_judged', 'n_held', 'target', 'hold'):
        op.add_column('items', sa.Column(name, sa.Integer(), server_default='0', nullable=False))
    if bind.dialect.name != 'sqlite':
        op.create_check_constraint(op.f('ck_items_routing_counters'), 'items',
                                   'n_judged >= 0 AND n_held >= 0 AND target >= 0 AND hold >= 0')
    op.drop_index('ix_items_project_confidence', table_name='items')
    projects = bind.execute(sa.text(
        "SELECT id, overlap, max_overlap, confidence_threshold, audit_rate FROM projects")).all()
    for project_id, overlap, max_overlap, threshold, audit_rate in projects:
        op.execute(BACKFILL.format(project_id=int(project_id), overlap=int(overlap), max_overlap=int(max_overlap),
                                   threshold=repr(float(threshold)), project_term=int(project_id) * 40503,
                                   audit=int(round(float(audit_rate) * 2**32))))
    op.create_index('ix_items_routing', 'items', ['project_id', sa.text('coalesce(model_confidence, 0.0)'), 'id'],
                    unique=False, sqlite_where=sa.text(ROUTABLE), postgresql_where=sa.text(ROUTABLE))
    op.create_index('ix_items_gold', 'items', ['project_id', 'id'], unique=False,
                    sqlite_where=sa.text('gold IS NOT NULL'), postgresql_where=sa.text('gold IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_items_gold', table_name='items')
    op.drop_index('ix_items_routing', table_name='items')
    op.create_index('ix_items_project_confidence', 'items', ['project_id', 'model_confidence'], unique=False)
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_items_routing_counters'), 'items', type_='check')
    for name in ('hold', 'target', 'n_held', 'n_judged'):  # in place (SQLite 3.35+), no rebuild
        op.drop_column('items', name)
