"""The database schema's history as Alembic revisions (``versions/``). ``upgrade(engine)`` brings
a database to the newest revision; the Store calls it whenever it opens one, so a new server
version migrates its database on start. A database made before Alembic (by ``create_all``: the
``pieces`` and ``versions`` tables, no ``alembic_version``) is stamped at the baseline first.

A schema change is a new file in ``versions/`` whose ``down_revision`` is the newest one; after
it, the models in ``store.py`` / ``accounts.py`` and the revisions must agree (a test compares
them)."""
from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).parent
BASELINE = "0001_baseline"
PG_LOCK = 0x53796D70  # "Symp": one migrating server at a time on a shared PostgreSQL
_IN_PROCESS = threading.Lock()  # Alembic's `context` is one per process


def config(connection: Connection | None = None, url: str | None = None):
    """An Alembic Config for these revisions, on an open connection (or a URL, for the alembic CLI)."""
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (stamping a pre-Alembic database first), in one
    transaction that holds the database's write lock (PostgreSQL: an advisory lock; SQLite: BEGIN
    IMMEDIATE), so two servers starting together take turns."""
    from alembic import command
    with _IN_PROCESS, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK})
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg = config(conn)
        tables = set(inspect(conn).get_table_names())
        if "pieces" in tables and "alembic_version" not in tables:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: not under Alembic yet)."""
    from alembic.runtime.migration import MigrationContext
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(config()).get_current_head()
