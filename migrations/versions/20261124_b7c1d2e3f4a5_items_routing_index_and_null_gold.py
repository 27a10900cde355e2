"""items: an index for routing's order, and absent gold/metadata as SQL NULL

Revision ID: b7c1d2e3f4a5
Revises: 9000ff7818f8
Create Date: 2026-11-24 20:25:00
"""
from alembic import op

revision = 'b7c1d2e3f4a5'
down_revision = '9000ff7818f8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_project_confidence', ['project_id', 'model_confidence'], unique=False)
    # Rows written before the columns stored None as SQL NULL held JSON null: make them NULL.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE items SET gold = NULL WHERE gold::text = 'null'")
        op.execute("UPDATE items SET metadata = NULL WHERE metadata::text = 'null'")
    else:
        op.execute("UPDATE items SET gold = NULL WHERE gold = 'null'")
        op.execute("UPDATE items SET metadata = NULL WHERE metadata = 'null'")


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_project_confidence')
