"""Alembic's entry point: runs the revisions on the connection that ``upgrade`` hands over (or,
from the alembic command line, on ``sqlalchemy.url``)."""
from alembic import context
from sqlalchemy import create_engine

from symphony.server import accounts, ratelimit  # noqa: F401  (their tables join the metadata)
from symphony.server.store import Base

config = context.config
OPTIONS = dict(target_metadata=Base.metadata, render_as_batch=True, compare_type=True)


def run(connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    run(config.attributes["connection"])
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).begin() as conn:
        run(conn)
