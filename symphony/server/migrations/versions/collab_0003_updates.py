"""The update log of live editing: every Yjs update since a piece's snapshot, committed before it
is relayed (symphony/server/collab.py).

Revision ID: collab_0003_updates
Revises: auth_0002_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "collab_0003_updates"
down_revision = "auth_0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collab_updates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("piece_id", sa.String(32), sa.ForeignKey("pieces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("author", sa.String(64), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,  # ids are never reused: readers poll by id
    )
    op.create_index("ix_collab_updates_piece_id", "collab_updates", ["piece_id"])


def downgrade() -> None:
    op.drop_index("ix_collab_updates_piece_id", table_name="collab_updates")
    op.drop_table("collab_updates")
