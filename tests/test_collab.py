"""Co-editing over WS /api/pieces/{id}/collab with real sockets (``websockets`` clients holding
real pycrdt Docs) against uvicorn servers: in a thread of this process, or `symphony serve`
subprocesses on one database (killed with SIGKILL for the durability test)."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from pycrdt import Array, Map

from symphony.server import document
from symphony.server.app import create_app
from symphony.server.client import CollabClient
from symphony.server.config import ServerSettings

from .conftest import DATA, serve_live

TUNE = DATA / "AcaciaReel.abc"


def ws_url(base: str, piece_id: str, **query) -> str:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return base.replace("http://", "ws://") + f"/api/pieces/{piece_id}/collab" + (f"?{q}" if q else "")


def upload(base: str) -> str:
    r = httpx.post(base + "/api/pieces/upload", files={"file": (TUNE.name, TUNE.read_bytes())}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def notes_of(doc) -> list:
    return doc.get("parts", type=Array)[0]["notes"]


def add_note(doc, note_id: str, onset: float = 0.0, pitch: int = 72) -> None:
    notes_of(doc).append(Map({"id": note_id, "pitch": pitch, "spelling": None, "onset": onset, "duration": 0.5,
                              "velocity": 80, "fermata": False}))


def ids_in(doc) -> list[str]:
    return [m["id"] for p in doc.get("parts", type=Array) for m in p["notes"]]


async def until(condition, timeout: float = 5.0, step: float = 0.01) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(step)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A server in a thread of this process (no model needed: pieces come from uploads)."""
    tmp = tmp_path_factory.mktemp("collab")
    settings = ServerSettings(database_url=f"sqlite:///{tmp / 'studio.db'}", static_dir=tmp / "no-studio")
    app = create_app(settings, preload=False)
    yield from serve_live(app)


def test_an_edit_in_one_client_reaches_the_other(live):
    piece_id = upload(live)
    before = httpx.get(f"{live}/api/pieces/{piece_id}").json()

    async def main():
        async with CollabClient(ws_url(live, piece_id)) as a, CollabClient(ws_url(live, piece_id)) as b:
            assert sorted(ids_in(a.doc)) == sorted(n["id"] for p in before["parts"] for n in p["notes"])
            add_note(a.doc, "fromA", onset=1.0)
            await until(lambda: "fromA" in ids_in(b.doc))
            add_note(b.doc, "fromB", onset=2.0)
            await until(lambda: "fromB" in ids_in(a.doc))
            assert a.doc.get_state() == b.doc.get_state()
    asyncio.run(main())
    after = httpx.get(f"{live}/api/pieces/{piece_id}").json()  # the HTTP API sees the live edits
    ids = [n["id"] for p in after["parts"] for n in p["notes"]]
    assert "fromA" in ids and "fromB" in ids and len(ids) == len(set(ids))
    assert after["version"] == before["version"]  # live edits are not versions


BAD_MESSAGES = [
    ("text", "hello", 1003, "binary"),
    ("empty", b"", 4400, "empty"),
    ("unknown type", b"\x07\x00", 4400, "unknown message type"),
    ("unknown sync type", b"\x00\x09\x00", 4400, "unknown sync"),
    ("length past the end", b"\x00\x02\x7f\x01\x02", 4400, "length"),
    ("update that does not decode", b"\x00\x02\x05garba", 4400, "does not decode"),
    ("state vector that does not decode", b"\x00\x00\x01\xff", 4400, "state vector"),
    ("awareness that does not decode", b"\x01\x05\x01\x01\x01\x09{", 4400, "awareness"),
    ("oversized", b"\x00\x02" + b"\xff" * (5 * 2**20), 1009, "over the limit"),
]


@pytest.mark.parametrize("name,message,code,words", BAD_MESSAGES, ids=[m[0] for m in BAD_MESSAGES])
def test_bad_messages_close_that_socket_and_harm_nothing(live, name, message, code, words):
    piece_id = upload(live)

    async def main():
        async with CollabClient(ws_url(live, piece_id)) as good, CollabClient(ws_url(live, piece_id)) as bad:
            state = good.doc.get_state()
            await bad.send_raw(message)
            closed = await bad.wait_closed()
            assert closed[0] == code and words in closed[1].lower(), closed
            add_note(good.doc, "after")  # the room carries on
            async with CollabClient(ws_url(live, piece_id)) as third:
                await until(lambda: "after" in ids_in(third.doc))
                assert third.doc.get_state() == good.doc.get_state() != state
    asyncio.run(main())


def test_a_missing_piece_closes_with_4404(live):
    async def main():
        with pytest.raises(ConnectionError, match="4404"):
            async with CollabClient(ws_url(live, "nosuchpiece")):
                pass
    asyncio.run(main())


def server_change(client: CollabClient) -> str | None:
    """The text of the last attributed change the server announced (its awareness state)."""
    for state in client.presence.states.values():
        if state and state.get("user", {}).get("name") == "Symphony" and "change" in state:
            return state["change"]["text"]
    return None


def test_http_changes_reach_every_client_as_one_attributed_change(live):
    piece_id = upload(live)

    async def main():
        async with CollabClient(ws_url(live, piece_id)) as a, CollabClient(ws_url(live, piece_id)) as b:
            piece = httpx.get(f"{live}/api/pieces/{piece_id}").json()
            gone = piece["parts"][0]["notes"].pop(0)["id"]
            seen = a.received
            r = await asyncio.to_thread(httpx.put, f"{live}/api/pieces/{piece_id}/notes",
                                        json={"parts": piece["parts"]}, timeout=30)
            assert r.status_code == 200, r.text
            for c in (a, b):
                await until(lambda: gone not in ids_in(c.doc) and server_change(c) == "Someone edited notes")
            assert a.received == seen + 1  # one transaction, one update
            r = await asyncio.to_thread(httpx.post, f"{live}/api/pieces/{piece_id}/versions/1/restore", timeout=30)
            assert r.status_code == 200, r.text
            await until(lambda: gone in ids_in(b.doc) and server_change(b) == "Someone restored version 1")
            assert document.read(b.doc).score.parts[0].notes == document.read(a.doc).score.parts[0].notes
    asyncio.run(main())


def test_presence_is_relayed_to_everyone_and_removed_when_a_client_leaves(live):
    piece_id = upload(live)

    async def main():
        async with CollabClient(ws_url(live, piece_id)) as a:
            await a.set_presence({"user": {"name": "Ana", "color": "#c33"}, "bars": [5, 8]})
            async with CollabClient(ws_url(live, piece_id)) as b:  # a newcomer sees who is already here
                await until(lambda: any(s.get("user", {}).get("name") == "Ana" for s in b.presence.states.values()))
                await b.set_presence({"user": {"name": "Bo"}})
                await until(lambda: a.presence.states.get(b.doc.client_id, {}).get("user", {}).get("name") == "Bo")
            await until(lambda: b.doc.client_id not in a.presence.states)
    asyncio.run(main())


def test_a_viewer_may_watch_but_its_changes_are_refused(tmp_path):
    from symphony.server.collab import Access
    settings = ServerSettings(database_url=f"sqlite:///{tmp_path / 'studio.db'}", static_dir=tmp_path / "no-studio")
    app = create_app(settings, preload=False)
    for base in serve_live(app):
        piece_id = upload(base)
        owner_access = app.state.collab.access

        def access(websocket, pid, store):  # as socket_access answers for a piece shared read-only
            if websocket.query_params.get("as") == "viewer":
                return Access("v1", "Vi", "viewer")
            return owner_access(websocket, pid, store)
        app.state.collab.access = access

        async def main():
            async with CollabClient(ws_url(base, piece_id)) as editor, \
                    CollabClient(ws_url(base, piece_id, **{"as": "viewer"})) as viewer:
                add_note(editor.doc, "byEditor")
                await until(lambda: "byEditor" in ids_in(viewer.doc))  # a viewer sees changes
                add_note(viewer.doc, "byViewer")
                assert (await viewer.wait_closed())[0] == 4403
                await asyncio.sleep(0.2)
                assert "byViewer" not in ids_in(editor.doc)
            piece = httpx.get(f"{base}/api/pieces/{piece_id}").json()
            ids = [n["id"] for p in piece["parts"] for n in p["notes"]]
            assert "byEditor" in ids and "byViewer" not in ids
        asyncio.run(main())
