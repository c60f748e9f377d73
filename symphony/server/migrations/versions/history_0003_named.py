"""Versions say what they did in words and may carry a name (the version history).

Revision ID: history_0003_named
Revises: auth_0002_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "history_0003_named"
down_revision = "auth_0002_accounts"
branch_labels = None
depends_on = None

COLUMNS = (("summary", 500), ("name", 120))


def upgrade() -> None:
    # a database made by create_all from models that already had these columns is stamped at the
    # baseline; it keeps them
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("versions")}
    with op.batch_alter_table("versions") as table:
        for name, length in COLUMNS:
            if name not in have:
                table.add_column(sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("versions") as table:
        for name, _ in reversed(COLUMNS):
            table.drop_column(name)
