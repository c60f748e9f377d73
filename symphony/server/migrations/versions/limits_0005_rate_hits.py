"""Rate limits kept in the database, so that every server process on it counts the same hits
(symphony/server/ratelimit.py: failed sign-ins, generations).

Revision ID: limits_0005_rate_hits
Revises: collab_0004_updates
"""
import sqlalchemy as sa
from alembic import op

revision = "limits_0005_rate_hits"
down_revision = "collab_0004_updates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_hits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_rate_hits_key_at", "rate_hits", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_rate_hits_key_at", table_name="rate_hits")
    op.drop_table("rate_hits")
