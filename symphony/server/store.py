"""Pieces and their versions in a database (SQLAlchemy: a SQLite file by default, any URL such
as PostgreSQL by setting). A piece is its snapshot (``pieces.state``, one Yjs update) plus its
update log (``collab_updates``: every change since, one Yjs update a row, in commit order); the
log is folded into the snapshot now and then (``compact``). Every change adds a log row; a change
through the HTTP API (an edit, a restore) also adds a version row with a snapshot of the Doc
after it. Each change is one database transaction that first moves the piece's version on (which
locks the piece: SQLite's one writer, PostgreSQL's row lock) and only then reads the Doc it edits,
so changes of one piece queue behind each other and each one edits the state every earlier
change left (never a stale read, never a retry). Yjs updates are idempotent: applying one twice
changes nothing, which is what makes snapshot + log safe to read at any moment. A version row also says what its change did in words
and, on request, carries a name; version rows are the history, and compacting the log never
touches them."""
from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pycrdt import Doc
from sqlalchemy import (BigInteger, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint,
                        create_engine, delete, event, func, select, update)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from symphony.server import document, migrations
from symphony.server.document import Content

VERSION_PAGE = 50  # versions listed at once, the latest first
Describe = Callable[[Content, Content], str]  # (before, after) -> what the change did, in words
PRESENCE_KEEP_S = 120.0  # a presence row not renewed for this long goes (clients renew theirs every 15 s)
LOG_GRACE_S = 30.0  # log rows younger than this stay after compaction: other processes may not have read them yet


class Base(DeclarativeBase):
    pass


class PieceRow(Base):
    __tablename__ = "pieces"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[bytes] = mapped_column(LargeBinary)  # the Doc as one Yjs update at the last compaction (+ the log)
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


class UpdateRow(Base):
    """One Yjs update of a piece, committed before anyone is told about it."""
    __tablename__ = "collab_updates"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused: readers poll by id
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    piece_id: Mapped[str] = mapped_column(String(32), ForeignKey("pieces.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    author: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)  # "Ana regenerated bars 5-8"
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PresenceRow(Base):
    """A collaborator's latest awareness state (presence) on a piece, as the process whose socket
    it came in on wrote it, for the other processes to relay (``state`` "": they left)."""
    __tablename__ = "collab_presence"
    piece_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # the awareness client id
    clock: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text)  # JSON, as y-protocols encodes it
    process: Mapped[str] = mapped_column(String(32))
    updated: Mapped[float] = mapped_column(Float, index=True)  # wall-clock seconds


@dataclass
class Logged:
    """A row of the update log as read."""
    id: int
    piece_id: str
    data: bytes
    author: str | None
    note: str | None


class _Raced(Exception):
    """Another process compacted the log between our read and our write."""


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
    log_id: int = 0  # the last update log row in doc (version alone misses live edits)
    log_rows: int = 0  # how many log rows doc holds (PostgreSQL may commit a lower id after a higher one)

    @property
    def revision(self) -> tuple[int, int, int]:
        """What ``Store.revision`` answers while the piece is as read (the cache key)."""
        return self.version, self.log_id, self.log_rows


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
        self._cache: OrderedDict[tuple, object] = OrderedDict()  # (id, version, log id[, "json"]) -> the piece
        self._cache_lock = threading.Lock()
        self._listeners: list[Callable[[str], None]] = []

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ reading
    def get(self, piece_id: str) -> Stored:
        """The piece now: its snapshot with every logged update after it applied."""
        with self.sessions() as s:
            row = s.execute(select(*_PIECE_COLUMNS).where(PieceRow.id == piece_id)).first()
            if row is None:
                raise NotFound(f"no piece {piece_id!r}")
            return _read(s, row)

    def revision(self, piece_id: str) -> tuple[int, int, int]:
        """(version, last log row, log rows): changes whenever the piece's content does. The row
        count catches a row that commits after a higher id was read (PostgreSQL hands ids out
        before commit); a compaction changes it without changing the content (a cache miss)."""
        with self.sessions() as s:
            v = s.scalar(select(PieceRow.version).where(PieceRow.id == piece_id))
            if v is None:
                raise NotFound(f"no piece {piece_id!r}")
            last, rows = s.execute(select(func.max(UpdateRow.id), func.count())
                                   .where(UpdateRow.piece_id == piece_id)).one()
            return v, last or 0, rows

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
               author: str | None = None, describe: Describe | None = None, note: str | None = None) -> Stored:
        """Apply ``edit`` (one Doc transaction; it may return a new title) to the current Doc and
        save it as the next version, all in one database transaction. ``describe`` says in words
        what the change did (the version's summary). The change goes into the update log as one
        Yjs update (with ``note``, what it was in words; the summary when no note is given), so
        the people editing the piece live get it.

        The transaction's first statement moves the version on: that takes the piece's lock
        (SQLite: the database's write lock; PostgreSQL: the row's, which leaves the log's inserts
        free), so another change of the piece waits here until this one commits, and the Doc read
        after it holds every change committed before. (Reading first and checking the version when
        writing let a change read the version of a change that committed between its log read and
        its row read, and so save, and answer, a Doc without that change; under load, retries also
        ran out.) ``edit`` runs while the lock is held: keep it short (the engine runs before)."""
        with self.sessions.begin() as s:
            row = s.execute(update(PieceRow).where(PieceRow.id == piece_id).values(version=PieceRow.version + 1)
                            .returning(*_PIECE_COLUMNS)).first()
            if row is None:
                raise NotFound(f"no piece {piece_id!r}")
            current = _read(s, row)
            doc = current.doc
            state_before = doc.get_state()
            before = document.read(doc) if describe else None
            title = edit(doc) or current.title
            summary = describe(before, document.read(doc))[:500] if describe else None
            logged = (note or summary or "")[:200] or None
            t = now()
            s.execute(update(PieceRow).where(PieceRow.id == piece_id).values(title=title, updated=t))
            s.add(VersionRow(piece_id=piece_id, version=current.version, op=op, author=author, created=t,
                             snapshot=doc.get_update(), summary=summary))
            logrow = UpdateRow(piece_id=piece_id, data=doc.get_update(state_before), author=author, note=logged,
                               created=t)
            s.add(logrow)
        self._appended(piece_id)
        return Stored(piece_id, title, current.version, current.created, t, doc, logrow.id, current.log_rows + 1)

    # ------------------------------------------------------------------ the update log
    def append(self, piece_id: str, data: bytes, author: str | None = None, note: str | None = None,
               notify: bool = True) -> int:
        """Log one Yjs update of the piece; returns its row id once it is committed (durable).
        ``notify``: tell the listeners (the caller that relays it itself need not be told)."""
        from sqlalchemy.exc import IntegrityError
        try:
            with self.sessions.begin() as s:
                row = UpdateRow(piece_id=piece_id, data=data, author=author, note=note, created=now())
                s.add(row)
        except IntegrityError:  # the foreign key: no such piece (any more)
            raise NotFound(f"no piece {piece_id!r}") from None
        if notify:
            self._appended(piece_id)
        return row.id

    def log_after(self, piece_ids: list[str], after: int, skip: set[int] = frozenset()) -> tuple[int, list[Logged]]:
        """The log rows of these pieces with an id above ``after`` except those in ``skip``, in id
        order, and the highest id there is (skipped or not; ``after`` when there is none)."""
        with self.sessions() as s:
            ids = s.scalars(select(UpdateRow.id).where(UpdateRow.piece_id.in_(piece_ids), UpdateRow.id > after)).all()
            wanted = [i for i in ids if i not in skip]
            rows = s.execute(select(UpdateRow.id, UpdateRow.piece_id, UpdateRow.data, UpdateRow.author, UpdateRow.note)
                             .where(UpdateRow.id.in_(wanted)).order_by(UpdateRow.id)).all() if wanted else []
        return max(ids, default=after), [Logged(*r) for r in rows]

    def compact(self, piece_id: str, grace_s: float = LOG_GRACE_S) -> int:
        """Fold the piece's log rows older than ``grace_s`` into its snapshot (the newest row
        always stays, so the last log id never goes back). Versions are untouched. Returns how many
        rows went."""
        try:
            with self.sessions.begin() as s:
                log = _log_of(s, piece_id)
                row = s.execute(select(PieceRow).where(PieceRow.id == piece_id).with_for_update()).scalar()
                cutoff = now() - dt.timedelta(seconds=grace_s)
                fold = [r for r in log[:-1] if _aware(r.created) <= cutoff]
                if row is None or not fold:
                    return 0
                doc = document.new_doc(row.state)
                for r in fold:
                    doc.apply_update(r.data)
                row.state = doc.get_update()
                gone = s.execute(delete(UpdateRow).where(UpdateRow.id.in_([r.id for r in fold])))
                if gone.rowcount != len(fold):  # another process compacted meanwhile: keep its snapshot
                    raise _Raced
        except _Raced:
            return 0
        return len(fold)

    # ------------------------------------------------------------------ presence, between processes
    def put_presence(self, entries: list[tuple[str, int, int, str]], process: str) -> None:
        """Save (piece id, client id, clock, state JSON or "") awareness entries that came in on
        ``process``'s sockets, the newest clock winning; entries older than ``PRESENCE_KEEP_S`` go."""
        if not entries:
            return
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        t = time.time()
        latest = {}
        for piece_id, client, clock, state in entries:  # one row each: the last entry of a client wins
            latest[piece_id, client] = dict(piece_id=piece_id, client=client, clock=clock, state=state,
                                            process=process, updated=t)
        stmt = insert(PresenceRow).values(list(latest.values()))
        stmt = stmt.on_conflict_do_update(index_elements=["piece_id", "client"],
                                          where=PresenceRow.clock <= stmt.excluded.clock,
                                          set_={k: stmt.excluded[k] for k in ("clock", "state", "process", "updated")})
        with self.sessions.begin() as s:
            s.execute(stmt)
            s.execute(delete(PresenceRow).where(PresenceRow.updated < t - PRESENCE_KEEP_S))

    def presence_since(self, piece_ids: list[str], since: float, process: str) -> list[PresenceRow]:
        """The presence rows of these pieces that other processes wrote after ``since`` (wall clock)."""
        with self.sessions() as s:
            return list(s.scalars(select(PresenceRow).where(PresenceRow.piece_id.in_(piece_ids),
                                                            PresenceRow.updated > since,
                                                            PresenceRow.process != process)))

    def listen(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(piece_id)`` (on the writing thread) after each committed log row."""
        self._listeners.append(callback)

    def _appended(self, piece_id: str) -> None:
        for callback in self._listeners:
            callback(piece_id)

    def delete(self, piece_id: str) -> None:
        with self.sessions.begin() as s:
            row = s.get(PieceRow, piece_id)
            if row is None:
                raise NotFound(f"no piece {piece_id!r}")
            s.query(VersionRow).filter(VersionRow.piece_id == piece_id).delete()
            s.query(UpdateRow).filter(UpdateRow.piece_id == piece_id).delete()
            s.query(PresenceRow).filter(PresenceRow.piece_id == piece_id).delete()
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


_PIECE_COLUMNS = (PieceRow.id, PieceRow.title, PieceRow.version, PieceRow.created, PieceRow.updated)


def _read(s: Session, row) -> Stored:
    """The piece whose row (``_PIECE_COLUMNS``) was just read: its snapshot and its log after it.
    The version is read first, so the Doc holds at least that version's change; the log before the
    snapshot, so that a compaction in between loses nothing (a row folded in and read twice
    changes nothing)."""
    log = _log_of(s, row.id)
    doc = document.new_doc(s.scalar(select(PieceRow.state).where(PieceRow.id == row.id)))
    for r in log:
        doc.apply_update(r.data)
    return Stored(row.id, row.title, row.version, row.created, row.updated, doc, log[-1].id if log else 0, len(log))


def _log_of(s: Session, piece_id: str) -> list:
    return s.execute(select(UpdateRow.id, UpdateRow.data, UpdateRow.created).where(UpdateRow.piece_id == piece_id)
                     .order_by(UpdateRow.id)).all()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)  # SQLite hands back naive UTC
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
