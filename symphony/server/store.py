"""Pieces and their versions in a database (SQLAlchemy: a SQLite file by default, any URL such
as PostgreSQL by setting). A piece row holds the current Doc as a Yjs update; every change adds a
version row with a snapshot of the Doc after it, what it did in words and, on request, a name.
Version rows are the history: compacting the piece's update log never touches them. Each change is one database transaction, and a
change that lost a race with another (the piece's version moved on) is redone on the new state,
so two writers never overwrite each other."""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pycrdt import Doc
from sqlalchemy import (DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, create_engine, event,
                        select, update)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from symphony.server import document, migrations
from symphony.server.document import Content

MAX_RETRIES = 20
VERSION_PAGE = 50  # versions listed at once, the latest first
Describe = Callable[[Content, Content], str]  # (before, after) -> what the change did, in words


class Base(DeclarativeBase):
    pass


class PieceRow(Base):
    __tablename__ = "pieces"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[bytes] = mapped_column(LargeBinary)  # the current Doc, as one Yjs update
    version: Mapped[int] = mapped_column(Integer, default=1)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)  # accounts come next
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class VersionRow(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("piece_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    piece_id: Mapped[str] = mapped_column(String(32), ForeignKey("pieces.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(32))
    author: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[str | None] = mapped_column(String(500), nullable=True)  # "regenerated bars 5-8 (infill)"
    name: Mapped[str | None] = mapped_column(String(120), nullable=True)  # a name someone gave it


class _Raced(Exception):
    """Another writer saved a version between our read and our write."""


class NotFound(LookupError):
    """No such piece or version."""


@dataclass
class Stored:
    """A piece as read: its row's fields and its Doc."""
    id: str
    title: str
    version: int
    created: dt.datetime
    updated: dt.datetime
    doc: Doc


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(t: dt.datetime) -> str:
    if t.tzinfo is None:  # SQLite hands back naive datetimes; they were written in UTC
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    def __init__(self, url: str):
        kwargs: dict = {}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        migrations.upgrade(self.engine)  # the schema through Alembic: new, old or pre-Alembic databases
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._cache: OrderedDict[tuple, object] = OrderedDict()  # (id, version[, 'json']) -> the piece, serialised
        self._cache_lock = threading.Lock()

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ reading
    def get(self, piece_id: str) -> Stored:
        with self.sessions() as s:
            row = s.get(PieceRow, piece_id)
            if row is None:
                raise NotFound(f"no piece {piece_id!r}")
            return Stored(row.id, row.title, row.version, row.created, row.updated, document.new_doc(row.state))

    def version_of(self, piece_id: str) -> int:
        with self.sessions() as s:
            v = s.scalar(select(PieceRow.version).where(PieceRow.id == piece_id))
            if v is None:
                raise NotFound(f"no piece {piece_id!r}")
            return v

    def list(self) -> list[dict]:
        with self.sessions() as s:
            rows = s.execute(select(PieceRow.id, PieceRow.title, PieceRow.version, PieceRow.created,
                                    PieceRow.updated).order_by(PieceRow.updated.desc())).all()
        return [{"id": r.id, "title": r.title, "version": r.version, "created": iso(r.created),
                 "updated": iso(r.updated)} for r in rows]

    def versions(self, piece_id: str) -> list[dict]:
        """Every version of the piece, the first first."""
        return self.version_page(piece_id, limit=None)[0]

    def version_page(self, piece_id: str, limit: int | None = VERSION_PAGE,
                     before: int | None = None) -> tuple[list[dict], bool]:
        """A page of the version list: the ``limit`` latest versions (None: all) older than
        ``before`` (None: the latest), the oldest first, and whether there are older ones."""
        query = select(*_VERSION_COLUMNS).where(VersionRow.piece_id == piece_id)
        if before is not None:
            query = query.where(VersionRow.version < before)
        with self.sessions() as s:
            if s.get(PieceRow, piece_id) is None:
                raise NotFound(f"no piece {piece_id!r}")
            query = query.order_by(VersionRow.version.desc())
            rows = s.execute(query if limit is None else query.limit(limit + 1)).all()
        more = limit is not None and len(rows) > limit
        return [_version_dict(r) for r in rows[:limit][::-1]], more

    def version_info(self, piece_id: str, version: int) -> dict:
        """One version's row, without its snapshot: {version, author, op, created, summary, name}."""
        with self.sessions() as s:
            r = s.execute(select(*_VERSION_COLUMNS).where(VersionRow.piece_id == piece_id,
                                                          VersionRow.version == version)).first()
        if r is None:
            self.version_of(piece_id)  # no such piece: say so
            raise NotFound(f"piece {piece_id!r} has no version {version}")
        return _version_dict(r)

    def name_version(self, piece_id: str, version: int, name: str) -> dict:
        """Give a version a name (naming it again renames it); the piece itself does not change."""
        with self.sessions.begin() as s:
            moved = s.execute(update(VersionRow).where(VersionRow.piece_id == piece_id, VersionRow.version == version)
                              .values(name=name))
        if moved.rowcount != 1:
            self.version_of(piece_id)
            raise NotFound(f"piece {piece_id!r} has no version {version}")
        return self.version_info(piece_id, version)

    def snapshot(self, piece_id: str, version: int) -> Doc:
        with self.sessions() as s:
            data = s.scalar(select(VersionRow.snapshot).where(VersionRow.piece_id == piece_id,
                                                              VersionRow.version == version))
        if data is None:
            raise NotFound(f"piece {piece_id!r} has no version {version}")
        return document.new_doc(data)

    # ------------------------------------------------------------------ writing
    def create(self, content: Content, title: str, op: str, author: str | None = None,
               summary: str | None = None) -> Stored:
        doc = document.new_doc()
        document.write(doc, content)
        state, t = doc.get_update(), now()
        piece_id = uuid.uuid4().hex[:16]
        with self.sessions.begin() as s:
            s.add(PieceRow(id=piece_id, title=title, state=state, version=1, owner=author, created=t, updated=t))
            s.flush()
            s.add(VersionRow(piece_id=piece_id, version=1, op=op, author=author, created=t, snapshot=state,
                             summary=summary))
        return Stored(piece_id, title, 1, t, t, doc)

    def change(self, piece_id: str, edit: Callable[[Doc], str | None], op: str,
               author: str | None = None, describe: Describe | None = None) -> Stored:
        """Apply ``edit`` (one Doc transaction; it may return a new title) to the current Doc and
        save it as the next version, all in one database transaction; redone if another writer
        saved a version in between. ``describe`` says in words what the change did."""
        for _ in range(MAX_RETRIES):
            current = self.get(piece_id)
            doc = current.doc
            before = document.read(doc) if describe else None
            title = edit(doc) or current.title
            summary = describe(before, document.read(doc))[:500] if describe else None
            state, t, v = doc.get_update(), now(), current.version + 1
            try:
                with self.sessions.begin() as s:
                    moved = s.execute(update(PieceRow).where(PieceRow.id == piece_id,
                                                             PieceRow.version == current.version)
                                      .values(state=state, version=v, title=title, updated=t))
                    if moved.rowcount != 1:
                        raise _Raced
                    s.add(VersionRow(piece_id=piece_id, version=v, op=op, author=author, created=t,
                                     snapshot=state, summary=summary))
            except _Raced:  # rolled back; read the new state and apply the edit to it
                continue
            return Stored(piece_id, title, v, current.created, t, doc)
        raise RuntimeError(f"piece {piece_id} changed {MAX_RETRIES} times while saving; try again")

    def delete(self, piece_id: str) -> None:
        with self.sessions.begin() as s:
            row = s.get(PieceRow, piece_id)
            if row is None:
                raise NotFound(f"no piece {piece_id!r}")
            s.query(VersionRow).filter(VersionRow.piece_id == piece_id).delete()
            s.delete(row)

    # ------------------------------------------------------------------ serialised pieces
    def cached(self, key: tuple):
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def remember(self, key: tuple, piece, size: int = 512) -> None:
        with self._cache_lock:
            self._cache[key] = piece
            while len(self._cache) > size:
                self._cache.popitem(last=False)


_VERSION_COLUMNS = (VersionRow.version, VersionRow.author, VersionRow.op, VersionRow.created, VersionRow.summary,
                    VersionRow.name)


def _version_dict(r) -> dict:
    return {"version": r.version, "author": r.author, "op": r.op, "created": iso(r.created), "summary": r.summary,
            "name": r.name}


def _sqlite_pragmas(conn, _record) -> None:
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not wait for a writer
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
