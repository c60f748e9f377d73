"""A Python client of the co-editing socket, speaking y-websocket as the browser's provider does:
for scripts, tests and benchmarks (``websockets`` + a pycrdt ``Doc``).

    async with CollabClient("ws://127.0.0.1:8000/api/pieces/ab12/collab") as c:
        notes = c.doc.get("parts", type=Array)[0]["notes"]
        notes.append(Map({"id": "n1", "pitch": 60, "onset": 0.0, "duration": 1.0, "velocity": 80}))

Local changes to ``doc`` are sent as they happen; remote ones are applied as they arrive
(``received`` counts them, ``on_update`` is called after each). ``closed`` holds the server's
close code and reason once the socket is closed. ``presence`` is the pycrdt ``Awareness`` of
everyone on the piece (``presence.states``: client id -> state); ``set_presence`` sets ours.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from pycrdt import (Awareness, Doc, YMessageType, YSyncMessageType, create_awareness_message, create_sync_message,
                    create_update_message, handle_sync_message, read_message)


class CollabClient:
    def __init__(self, url: str, doc: Doc | None = None, timeout: float = 10.0, headers: dict | None = None):
        self.url, self.timeout, self.headers = url, timeout, headers
        self.doc = doc if doc is not None else Doc()
        self.synced = asyncio.Event()
        self.received = 0
        self.on_update: Callable[[], None] | None = None
        self.closed: tuple[int, str] | None = None
        self.presence = Awareness(self.doc)
        self._remote = False
        self._sub = None

    async def __aenter__(self) -> "CollabClient":
        import websockets
        self.ws = await websockets.connect(self.url, max_size=None, additional_headers=self.headers)
        self._sub = self.doc.observe(self._local_change)
        self._reader = asyncio.create_task(self._read())
        await self._send(create_sync_message(self.doc))  # a refused socket is closed by now: see below
        await asyncio.wait_for(self._synced_or_closed(), self.timeout)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the socket (again: nothing more happens)."""
        if self._sub is None:
            return
        self.doc.unobserve(self._sub)
        self._sub = None
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def send_raw(self, message: bytes | str) -> None:
        await self.ws.send(message)

    async def set_presence(self, state: dict | None) -> None:
        self.presence.set_local_state(state)
        await self.ws.send(create_awareness_message(self.presence.encode_awareness_update([self.presence.client_id])))

    async def wait_closed(self) -> tuple[int, str] | None:
        await asyncio.wait_for(asyncio.shield(self._reader), self.timeout)
        return self.closed

    async def _synced_or_closed(self) -> None:
        done = asyncio.ensure_future(self.synced.wait())
        await asyncio.wait([done, self._reader], return_when=asyncio.FIRST_COMPLETED)
        if not self.synced.is_set():
            done.cancel()
            raise ConnectionError(f"the server closed the socket: {self.closed}")

    def _local_change(self, event) -> None:
        if not self._remote:
            asyncio.ensure_future(self._send(create_update_message(event.update)))

    async def _send(self, message: bytes) -> None:
        try:
            await self.ws.send(message)
        except Exception:  # closed: the caller sees it in ``closed``
            pass

    async def _read(self) -> None:
        import websockets
        try:
            async for message in self.ws:
                if isinstance(message, str):
                    continue
                if message[0] == YMessageType.AWARENESS:
                    self.presence.apply_awareness_update(read_message(message[1:]), "remote")
                    continue
                self._remote = True
                try:
                    reply = handle_sync_message(message[1:], self.doc)
                finally:
                    self._remote = False
                if reply is not None:
                    await self.ws.send(reply)
                if message[1] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()
                elif message[1] == YSyncMessageType.SYNC_UPDATE:
                    self.received += 1
                    if self.on_update:
                        self.on_update()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = (self.ws.close_code or 1006, self.ws.close_reason or "")
