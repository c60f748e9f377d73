"""Real-time co-editing: everyone who opens a piece edits one Yjs document over
``WS /api/pieces/{id}/collab``, which speaks the standard y-websocket protocol (sync step 1 and 2,
updates, awareness), so the browser's y-websocket provider connects unchanged.

One ``Room`` per open piece in each server process, built on pycrdt-websocket's ``YRoom`` (which
syncs clients and relays awareness). What we add around it:

- **Durable before acknowledged.** A client's update is checked, appended to the piece's update
  log in the database and committed *before* the room applies it and sends it to anyone
  (including back to its author: that echo is the acknowledgement). A room opens a piece as its
  snapshot + the log after it, i.e. from the very same Yjs updates, never rebuilt from a Score,
  so a client that reconnects after a restart merges without duplicating anything.
- **One log, several writers.** The HTTP routes that change a piece (edits, notes, restore) log
  their change as one Yjs update with a note in words; other server processes log their clients'
  updates. A ``Collab`` poller reads the log by id (woken at once by this process's own commits,
  every ``POLL_S`` otherwise) and applies what it did not write to the open rooms, which pass it
  on. The note ("Someone regenerated bars 5-8") is set on the room's awareness state as
  ``change`` for the studio to show.
- **Presence between processes.** Awareness entries from this process's sockets are saved
  (``Store.put_presence``, batched once a poll); the poller reads what other processes saved and
  relays the entries whose clock is new to the room's clients. A room that opens learns who is on
  the piece elsewhere.
- **Bad input.** Text frames, oversized, malformed or unknown messages and updates that do not
  decode close that socket with a clear reason before they reach the document; a viewer's
  changes are refused (4403). The room and everyone else carry on.
- **Compaction.** When a room empties, and every ``COMPACT_EVERY`` updates, the log is folded
  into the piece's snapshot (``Store.compact``); versions are untouched.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from functools import partial

import anyio
from pycrdt import Decoder, Doc, Encoder, YMessageType, YSyncMessageType, create_awareness_message, get_state
from pycrdt.websocket import YRoom
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from symphony.server.access import Access, AccessDenied, socket_access
from symphony.server.ratelimit import RateLimit
from symphony.server.store import Logged, NotFound, Store

log = logging.getLogger(__name__)

POLL_S = 0.02  # how often a process looks for updates other processes logged
MAX_MESSAGE_BYTES = 4 * 2**20  # a whole long piece as one update is far below this
MAX_AWARENESS_BYTES = 64 * 2**10
COMPACT_EVERY = 500  # updates logged by a room between compactions
EMPTY_UPDATE = b"\x00\x00"  # a Yjs update that changes nothing (a sync step 2 with nothing new)
PRESENCE_FRESH_S = 30.0  # a room opens with the presence other processes saved this recently (clients renew every 15 s)
PRESENCE_OVERLAP_S = 1.0  # presence rows are read again this far back (a row may commit after its time)
LOOKBACK_IDS = 64  # PostgreSQL may commit ids out of order: re-read the last few
FLOOD = (2000, 10.0)  # at most this many messages from one socket in this many seconds (a drag: ~60 a second)

# close codes (4000-4999 are the application's own)
TOO_BIG, UNSUPPORTED, MALFORMED, FORBIDDEN, GONE, TOO_MANY = 1009, 1003, 4400, 4403, 4404, 4429
SERVER_NAME = "Symphony"


class Refused(Exception):
    """A message that closes its socket: ``code`` and ``reason`` go to the client."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


# ----------------------------------------------------------------------------- checking messages

def check(message: bytes, may_edit: bool) -> bytes | None:
    """Refuse a message that could harm the document or the other clients; return the Yjs update
    it carries that must be logged (None: nothing to log)."""
    if len(message) > MAX_MESSAGE_BYTES:
        raise Refused(TOO_BIG, f"message of {len(message)} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    if not message:
        raise Refused(MALFORMED, "empty message")
    kind = message[0]
    if kind == YMessageType.AWARENESS:
        _check_awareness(message)
        return None
    if kind != YMessageType.SYNC or len(message) < 2:
        raise Refused(MALFORMED, f"unknown message type {kind}; expected y-websocket sync (0) or awareness (1)")
    step = message[1]
    payload = _payload(message[2:])
    if step == YSyncMessageType.SYNC_STEP1:
        try:
            Doc().get_update(payload)
        except ValueError:
            raise Refused(MALFORMED, "sync step 1 carries a state vector that does not decode") from None
        return None
    if step not in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE):
        raise Refused(MALFORMED, f"unknown sync message type {step}")
    if payload == EMPTY_UPDATE:
        return None
    try:
        get_state(payload)  # decodes the whole update
    except ValueError:
        raise Refused(MALFORMED, "a Yjs update that does not decode") from None
    if not may_edit:
        raise Refused(FORBIDDEN, "you may view this piece but not change it")
    return payload


def _payload(data: bytes) -> bytes:
    """The length-prefixed bytes that start ``data``."""
    d = Decoder(data)
    try:
        size = d.read_var_uint()
    except (IndexError, RuntimeError):
        size = -1
    if not 0 <= size <= d.length:
        raise Refused(MALFORMED, "a message whose length prefix does not match its content")
    return data[d.i0:d.i0 + size]


def _check_awareness(message: bytes) -> list[tuple[int, int, str]]:
    """An awareness update: [count, (client id, clock, JSON state or "")...], as y-protocols
    writes it; returns its entries (client id, clock, state)."""
    if len(message) > MAX_AWARENESS_BYTES:
        raise Refused(TOO_BIG, f"awareness message of {len(message)} bytes is over the limit of {MAX_AWARENESS_BYTES}")
    clients = []
    try:
        d = Decoder(_payload(message[1:]))
        for _ in range(d.read_var_uint()):
            client, clock, state = d.read_var_uint(), d.read_var_uint(), d.read_var_string()
            if state:
                json.loads(state)
            clients.append((client, clock, state))
    except (IndexError, RuntimeError, UnicodeDecodeError, ValueError):
        raise Refused(MALFORMED, "an awareness update that does not decode") from None
    return clients


# ----------------------------------------------------------------------------- rooms

@dataclass
class Room:
    """An open piece in this process: its YRoom, and which log rows its Doc holds."""
    piece_id: str
    yroom: YRoom
    cursor: int  # every log row up to here is in the Doc (on SQLite; see LOOKBACK_IDS)
    seen: set[int] = field(default_factory=set)
    logged: int = 0  # rows this room appended since its last compaction
    peers: int = 0

    def take(self, row: Logged, author_name: str | None = None) -> None:
        """Apply a row someone else logged; the YRoom passes it on to the clients."""
        self.seen.add(row.id)
        self.cursor = max(self.cursor, row.id)
        try:
            self.yroom.ydoc.apply_update(row.data)
        except ValueError:
            log.error("log row %s of piece %s does not decode; skipped", row.id, self.piece_id)
            return
        if row.note:
            self.yroom.awareness.set_local_state({
                "user": {"name": SERVER_NAME},
                "change": {"by": row.author, "text": f"{author_name or 'Someone'} {row.note}",
                           "at": int(time.time() * 1000)}})


class Peer:
    """One client's socket as a pycrdt ``Channel``: each message is checked, and its update
    logged and committed, before the YRoom sees it."""

    def __init__(self, websocket: WebSocket, room: Room, access: Access, collab: "Collab"):
        self.websocket, self.room, self.access, self.collab = websocket, room, access, collab
        self._send_lock = anyio.Lock()
        self.presence: set[int] = set()  # the awareness client ids this socket speaks for
        self.flood = RateLimit(*FLOOD)

    @property
    def path(self) -> str:
        return self.room.piece_id

    def __aiter__(self) -> "Peer":
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except (WebSocketDisconnect, Refused, RuntimeError):
            raise StopAsyncIteration from None

    async def recv(self) -> bytes:
        event = await self.websocket.receive()
        if event["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(event.get("code", 1000))
        message = event.get("bytes")
        try:
            if self.flood.take("messages"):
                raise Refused(TOO_MANY, f"more than {FLOOD[0]} messages in {FLOOD[1]:g} s; reconnect to go on")
            if message is None:
                raise Refused(UNSUPPORTED, "send binary y-websocket messages, not text")
            update = check(message, self.access.may("editor"))
            if message[0] == YMessageType.AWARENESS:
                entries = _check_awareness(message)
                self.presence.update(client for client, _, _ in entries)
                self.collab.share_presence(self.room, entries)
            elif update is not None:
                await self.collab.log_update(self.room, update, self.access)
        except Refused as e:
            await self.close(e.code, e.reason)
            raise
        return message

    async def send(self, message: bytes) -> None:
        async with self._send_lock:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                try:
                    await self.websocket.send_bytes(message)
                except (WebSocketDisconnect, RuntimeError, OSError):
                    pass  # gone; its receive loop ends the connection

    async def close(self, code: int, reason: str) -> None:
        log.info("closing a collab socket on %s: %s %s", self.room.piece_id, code, reason)
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.websocket.close(code, reason)


class Collab:
    """The open rooms of this process and the poller that feeds them the log. Use as an async
    context manager for the application's lifetime."""

    def __init__(self, store: Store, access=None, poll_s: float = POLL_S):
        self.store = store
        self.access = access or socket_access  # (websocket, piece_id, store) -> Access, or raises AccessDenied
        self.poll_s = poll_s
        self.rooms: dict[str, Room] = {}
        self._lock = asyncio.Lock()  # opening and closing rooms
        self._lookback = 0 if store.engine.dialect.name == "sqlite" else LOOKBACK_IDS  # SQLite commits in id order
        self.process = uuid.uuid4().hex[:16]  # this process's name on its presence rows
        self._presence_out: list[tuple[str, int, int, str]] = []  # entries from our sockets, not yet saved
        self._presence_since = time.time()  # rows other processes wrote after this are not relayed yet

    async def __aenter__(self) -> "Collab":
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        self._tasks.start_soon(self._poll_forever)
        self.store.listen(self._on_commit)
        return self

    async def __aexit__(self, *exc) -> None:
        self._tasks.cancel_scope.cancel()
        await self._tasks.__aexit__(None, None, None)

    def _on_commit(self, piece_id: str) -> None:  # on the thread that committed
        if piece_id in self.rooms:
            self._loop.call_soon_threadsafe(self._wake.set)

    # ------------------------------------------------------------------ a client
    async def serve(self, websocket: WebSocket, piece_id: str) -> None:
        await websocket.accept()  # first, so that a refusal reaches the client as a close code and reason
        try:
            access = self.access(websocket, piece_id, self.store)
            if inspect.isawaitable(access):
                access = await access
            room = await self._open(piece_id)
        except AccessDenied as e:
            await websocket.close(e.close_code, e.detail)
            return
        except NotFound:
            await websocket.close(GONE, "no such piece")
            return
        peer = Peer(websocket, room, access, self)
        try:
            await self._greet(peer)
            await room.yroom.serve(peer)
        finally:
            await self._leave(room, peer)
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the client may be gone already
                await websocket.close()

    async def log_update(self, room: Room, update: bytes, access: Access) -> None:
        """Commit a client's update to the log (before anyone sees it)."""
        try:
            row_id = await anyio.to_thread.run_sync(partial(self.store.append, room.piece_id, update, access.user_id,
                                                            notify=False))  # this room relays it itself
        except NotFound:
            raise Refused(GONE, "the piece was deleted") from None
        room.seen.add(row_id)
        room.logged += 1
        if room.logged >= COMPACT_EVERY:
            room.logged = 0
            self._tasks.start_soon(self._compact, room.piece_id)

    # ------------------------------------------------------------------ rooms
    async def _open(self, piece_id: str) -> Room:
        """The piece's room (opened from the database if it is not open) with one more peer."""
        async with self._lock:
            room = self.rooms.get(piece_id)
            if room is None:
                stored = await anyio.to_thread.run_sync(self.store.get, piece_id)
                yroom = YRoom(ready=True, ydoc=stored.doc, log=log, exception_handler=_log_exception)
                await self._tasks.start(yroom.start)
                yroom.awareness.set_local_state({"user": {"name": SERVER_NAME}})
                room = self.rooms[piece_id] = Room(piece_id, yroom, stored.log_id)
                here = await anyio.to_thread.run_sync(self.store.presence_since, [piece_id],
                                                      time.time() - PRESENCE_FRESH_S, self.process)
                self._relay_presence([r for r in here if r.state not in ("", "null")])  # who is on the others
            room.peers += 1
            return room

    async def _greet(self, peer: Peer) -> None:
        """Who is here already (YRoom tells a newcomer only of later changes)."""
        awareness = peer.room.yroom.awareness
        if awareness.states:
            await peer.send(create_awareness_message(awareness.encode_awareness_update(list(awareness.states))))

    async def _leave(self, room: Room, peer: Peer) -> None:
        """One peer fewer: the others see its presence go; the last one out closes the room and
        compacts the piece's log."""
        async with self._lock:
            room.peers -= 1
            gone = [c for c in peer.presence if c in room.yroom.awareness.states]
            meta = room.yroom.awareness.meta
            self._presence_out.extend((room.piece_id, c, meta[c]["clock"] + 1, "null") for c in gone)
            if gone and room.peers > 0:
                room.yroom.awareness.remove_awareness_states(gone, "left")
                bye = create_awareness_message(room.yroom.awareness.encode_awareness_update(gone))
                for other in list(room.yroom.clients):
                    self._tasks.start_soon(other.send, bye)
            if room.peers > 0:
                return
            del self.rooms[room.piece_id]
            await room.yroom.stop()
        await self._compact(room.piece_id)

    async def _compact(self, piece_id: str) -> None:
        try:
            await anyio.to_thread.run_sync(self.store.compact, piece_id)
        except Exception:  # a compaction that fails leaves the log as it was: nothing is lost
            log.exception("compacting piece %s failed", piece_id)

    # ------------------------------------------------------------------ the log, from other writers
    async def _poll_forever(self) -> None:
        while True:
            with anyio.move_on_after(self.poll_s):
                await self._wake.wait()
            self._wake.clear()
            if self._presence_out:
                out, self._presence_out = self._presence_out, []
                try:
                    await anyio.to_thread.run_sync(self.store.put_presence, out, self.process)
                except Exception:  # presence is best effort: the next state a client sends goes out again
                    log.exception("saving presence failed")
            if self.rooms:
                try:
                    await self._poll()
                except Exception:  # the database away for a moment: try again next time
                    log.exception("reading the update log failed")

    async def _poll(self) -> None:
        rooms = dict(self.rooms)
        after = min(r.cursor for r in rooms.values()) - self._lookback
        seen = set().union(*(r.seen for r in rooms.values()))  # what these rooms logged themselves
        since, self._presence_since = self._presence_since, time.time()
        top, rows, names, presence = await anyio.to_thread.run_sync(self._read_log, list(rooms), after, seen,
                                                                    since - PRESENCE_OVERLAP_S)
        self._relay_presence(presence)
        for row in rows:
            room = self.rooms.get(row.piece_id)
            if room is not None and row.id > room.cursor - self._lookback and row.id not in room.seen:
                room.take(row, names.get(row.author))
        for room in rooms.values():  # the read covered every row of these pieces up to `top`
            room.cursor = max(room.cursor, top)
            room.seen = {i for i in room.seen if i > room.cursor - self._lookback}

    def _read_log(self, piece_ids: list[str], after: int, skip: set[int], since: float):
        """The new log rows, the display names of the authors of those with a note, and the
        presence rows other processes wrote since ``since``."""
        from symphony.server.accounts import names
        top, rows = self.store.log_after(piece_ids, after, skip)
        authors = [r.author for r in rows if r.note and r.author]
        presence = self.store.presence_since(piece_ids, since, self.process)
        return top, rows, names(self.store, authors) if authors else {}, presence

    # ------------------------------------------------------------------ presence, between processes
    def share_presence(self, room: Room, entries: list[tuple[int, int, str]]) -> None:
        """A socket's awareness entries, saved (at the next poll) for the other processes."""
        self._presence_out.extend((room.piece_id, client, clock, state) for client, clock, state in entries)

    def _relay_presence(self, rows: list) -> None:
        """Apply the presence other processes saved to our rooms and pass on what is new to their
        clients (an entry whose clock the room has seen already changes nothing)."""
        news: dict[str, list] = {}
        for row in rows:
            room = self.rooms.get(row.piece_id)
            if room is None:
                continue
            awareness = room.yroom.awareness
            clock = awareness.meta.get(row.client, {}).get("clock", 0)
            gone = row.state in ("", "null")
            if clock < row.clock or (clock == row.clock and gone and row.client in awareness.states):
                news.setdefault(row.piece_id, []).append(row)
        for piece_id, entries in news.items():
            room = self.rooms[piece_id]
            encoder = Encoder()
            encoder.write_var_uint(len(entries))
            for row in entries:
                encoder.write_var_uint(row.client)
                encoder.write_var_uint(row.clock)
                encoder.write_var_string(row.state)
            update = encoder.to_bytes()
            room.yroom.awareness.apply_awareness_update(update, "relay")  # not "local": the YRoom does not send it
            message = create_awareness_message(update)
            for peer in list(room.yroom.clients):
                self._tasks.start_soon(peer.send, message)


def _log_exception(exception: Exception, logger: logging.Logger) -> bool:
    logger.error("collab room error", exc_info=exception)
    return True
