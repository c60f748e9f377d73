"""Presence (awareness) between server processes: each collaborator's latest state on a piece,
written by the process their socket is on and relayed by the others (symphony/server/collab.py).

Revision ID: collab_0006_presence
Revises: limits_0005_rate_hits
"""
import sqlalchemy as sa
from alembic import op

revision = "collab_0006_presence"
down_revision = "limits_0005_rate_hits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collab_presence",
        sa.Column("piece_id", sa.String(32), primary_key=True),
        sa.Column("client", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("clock", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("process", sa.String(32), nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )
    op.create_index("ix_collab_presence_updated", "collab_presence", ["updated"])


def downgrade() -> None:
    op.drop_index("ix_collab_presence_updated", table_name="collab_presence")
    op.drop_table("collab_presence")
