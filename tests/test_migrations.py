"""The schema through Alembic, on SQLite and on a real PostgreSQL server: a new database is made
at the newest revision and matches the models; a database made before Alembic keeps its pieces
and is stamped, not broken; two stores opening one database at once both work."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, inspect

from symphony.formats.files import read_score
from symphony.server import document, migrations
from symphony.server.store import Base, Store

from .conftest import DATA
from .postgres import database_url, postgres_server  # noqa: F401  (fixtures)


def tune():
    return document.content_of(read_score(DATA / "oneills_sample.abc"))


def test_a_new_database_is_at_the_newest_revision_and_matches_the_models(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    store = Store(database_url)
    assert migrations.current(store.engine) == migrations.head()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], diff  # a model changed without a revision (or the other way round)
    store.close()


def test_a_database_made_before_alembic_is_stamped_and_keeps_its_pieces(database_url):
    from sqlalchemy.orm import Session

    from symphony.server.store import PieceRow, VersionRow, now
    engine = create_engine(database_url)
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[n] for n in ("pieces", "versions")])  # as before
    doc = document.new_doc()
    document.write(doc, tune())
    t = now()
    with Session(engine) as s, s.begin():
        s.add(PieceRow(id="old1", title="old tune", state=doc.get_update(), version=1, created=t, updated=t))
        s.flush()
        s.add(VersionRow(piece_id="old1", version=1, op="upload", created=t, snapshot=doc.get_update()))
    assert "alembic_version" not in inspect(engine).get_table_names()
    engine.dispose()
    store = Store(database_url)
    assert migrations.current(store.engine) == migrations.head()
    assert [p["title"] for p in store.list()] == ["old tune"]
    changed = store.change("old1", lambda d: "renamed", "notes")
    assert changed.version == 2 and [v["op"] for v in store.versions("old1")] == ["upload", "notes"]
    store.close()


def test_two_stores_opening_one_new_database_at_once(database_url):
    stores, errors = [], []

    def open_store():
        try:
            stores.append(Store(database_url))
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)
    threads = [threading.Thread(target=open_store) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    piece = stores[0].create(tune(), "shared", "upload")
    assert stores[1].get(piece.id).title == "shared"
    for s in stores:
        s.close()


def test_a_database_url_that_cannot_be_opened_is_one_clear_error(capsys, tmp_path):
    from symphony.cli import main
    with pytest.raises(SystemExit) as e:
        main(["serve", "--port", "0", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot open the database" in err[0], err
