"""Co-editing over WS /api/pieces/{id}/collab with real sockets (``websockets`` clients holding
real pycrdt Docs) against uvicorn servers: in a thread of this process, or `symphony serve`
subprocesses on one database, SQLite or a real PostgreSQL server (killed with SIGKILL for the
durability test)."""
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
from .postgres import database_url, postgres_server  # noqa: F401  (fixtures)

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


async def until(condition, timeout: float = 15.0, step: float = 0.01) -> None:
    """Wait for ``condition`` (generously: the machine may be busy; the benchmark measures speed)."""
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


def test_a_flood_of_messages_closes_that_socket_with_4429(live):
    from pycrdt import Awareness, Doc, create_awareness_message

    from symphony.server.collab import FLOOD
    piece_id = upload(live)
    me = Awareness(Doc())

    async def main():
        async with CollabClient(ws_url(live, piece_id)) as flooder, CollabClient(ws_url(live, piece_id)) as other:
            for i in range(FLOOD[0] + 1):
                me.set_local_state({"user": {"name": "Flo"}, "cursor": i})
                await flooder.send_raw(create_awareness_message(me.encode_awareness_update([me.client_id])))
            assert (await flooder.wait_closed())[0] == 4429
            add_note(other.doc, "still")  # the others carry on
            async with CollabClient(ws_url(live, piece_id)) as third:
                await until(lambda: "still" in ids_in(third.doc))
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
                await until(lambda: gone not in ids_in(c.doc) and server_change(c) == "Someone removed a note in bar 0")  # the pickup
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
    from symphony.server.access import Access
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


# ----------------------------------------------------------------------------- `symphony serve` processes

def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`symphony serve` in a subprocess (as a user starts it), killed or stopped by the test."""

    def __init__(self, db_url: str, *args: str, **env_vars: str):
        import os
        import subprocess
        import sys
        port = str(free_port())
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **env_vars}
        self.proc = subprocess.Popen([sys.executable, "-m", "symphony.cli", "serve", "--port", port, "--db", db_url,
                                      "--workers", "1", *args],  # the shipped model: it loads in a moment
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"symphony serve exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(self.base + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("symphony serve did not answer in 120 s")

    def kill(self) -> None:
        import signal
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except Exception:
                self.kill()


@pytest.fixture
def served(database_url):
    """Start `symphony serve` processes on one database (SQLite file, then PostgreSQL); all
    stopped at the end."""
    started = []

    def start(*args: str, **env: str) -> Served:
        s = Served(database_url, *args, **env)
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


def test_kill_9_loses_no_acknowledged_update_and_a_reconnecting_client_duplicates_nothing(served):
    server = served()
    piece_id = upload(server.base)
    url = ws_url(server.base, piece_id)
    original = len(httpx.get(f"{server.base}/api/pieces/{piece_id}").json()["parts"][0]["notes"])
    written = [f"edit{i:03d}" for i in range(300)]

    async def stream_and_kill():
        writer, observer = CollabClient(url), CollabClient(url)
        await writer.__aenter__()
        await observer.__aenter__()
        for i, note_id in enumerate(written):
            add_note(writer.doc, note_id, onset=i * 0.25)
            await asyncio.sleep(0.005)
            if i == 100:
                await until(lambda: len(ids_in(observer.doc)) > original + 30, timeout=20)
                server.kill()  # mid-stream: the writer goes on editing, offline
        acknowledged = set(ids_in(observer.doc)) & set(written)  # the server relayed these: it had committed them
        for c in (writer, observer):
            await c.close()
        return writer.doc, acknowledged
    kept, acknowledged = asyncio.run(stream_and_kill())
    assert len(acknowledged) > 30

    restarted = served()  # on the same database (a new port: the old one may linger in TIME_WAIT)
    url = ws_url(restarted.base, piece_id)

    async def reconnect():
        async with CollabClient(url) as fresh:
            after_restart = ids_in(fresh.doc)
            assert len(after_restart) == len(set(after_restart))  # nothing twice
            assert acknowledged <= set(after_restart)  # nothing acknowledged lost
            async with CollabClient(url, doc=kept) as writer:  # kept its doc, with edits made offline
                await until(lambda: set(written) <= set(ids_in(fresh.doc)), timeout=30)
                assert writer.doc.get_state() == fresh.doc.get_state()
        return ids_in(kept)
    final = asyncio.run(reconnect())
    assert sorted(final) == sorted(set(final)) and len(final) == original + len(written)
    piece = httpx.get(f"{restarted.base}/api/pieces/{piece_id}").json()
    ids = [n["id"] for p in piece["parts"] for n in p["notes"]]
    assert sorted(ids) == sorted(final)


def test_two_server_processes_on_one_database_converge(served):
    one, two = served(), served()
    piece_id = upload(one.base)

    async def main():
        async with CollabClient(ws_url(one.base, piece_id)) as a, CollabClient(ws_url(two.base, piece_id)) as b:
            add_note(a.doc, "viaOne")
            await until(lambda: "viaOne" in ids_in(b.doc))
            for i in range(20):  # at the same time, on both
                add_note(a.doc, f"a{i}", onset=i)
                add_note(b.doc, f"b{i}", onset=i)
                await asyncio.sleep(0.01)
            await until(lambda: a.doc.get_state() == b.doc.get_state() and len(ids_in(a.doc)) == len(ids_in(b.doc)),
                        timeout=30)
            assert {f"a{i}" for i in range(20)} | {f"b{i}" for i in range(20)} <= set(ids_in(a.doc))
            assert document.read(a.doc).score.parts == document.read(b.doc).score.parts
    asyncio.run(main())
    pieces = [httpx.get(f"{s.base}/api/pieces/{piece_id}").json() for s in (one, two)]
    assert pieces[0]["parts"] == pieces[1]["parts"]


def test_presence_reaches_the_clients_of_the_other_process(served):
    one, two = served(), served()
    piece_id = upload(one.base)

    async def main():
        async with CollabClient(ws_url(one.base, piece_id)) as ana:
            async with CollabClient(ws_url(two.base, piece_id)) as ben:
                await ana.set_presence({"user": {"name": "Ana"}, "cursor": {"bar": 3}})
                await until(lambda: ben.presence.states.get(ana.presence.client_id, {}).get("user") == {"name": "Ana"})
                await ben.set_presence({"user": {"name": "Ben"}, "cursor": {"bar": 5}})
                await until(lambda: ana.presence.states.get(ben.presence.client_id, {}).get("cursor") == {"bar": 5})
                await ana.set_presence({"user": {"name": "Ana"}, "cursor": {"bar": 4}})  # a move
                await until(lambda: ben.presence.states[ana.presence.client_id]["cursor"] == {"bar": 4})
            # ben gone: the room on two is closed; a newcomer there opens it and learns who is on one
            async with CollabClient(ws_url(two.base, piece_id)) as cleo:
                await until(lambda: cleo.presence.states.get(ana.presence.client_id, {}).get("cursor") == {"bar": 4})
                assert ben.presence.client_id not in cleo.presence.states  # ben left
                await until(lambda: ben.presence.client_id not in ana.presence.states)
                await ana.close()  # ana's socket closes: cleo sees her go
                await until(lambda: ana.presence.client_id not in cleo.presence.states)
    asyncio.run(main())


def test_rate_limits_hold_across_two_server_processes(served):
    """Failed sign-ins and generations count in the database: two processes give one limit."""
    env = {"SYMPHONY_SERVER_SIGN_IN_FAILURES": "3", "SYMPHONY_SERVER_GENERATIONS_PER_MINUTE": "2"}
    one, two = served("--accounts", **env), served("--accounts", **env)
    r = httpx.post(f"{one.base}/api/auth/signup", json={"email": "ana@example.org", "password": "a long password",
                                                         "name": "Ana"})
    assert r.status_code == 201, r.text
    ana = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def sign_in(server, password):
        return httpx.post(f"{server.base}/api/auth/login", data={"username": "ana@example.org", "password": password})
    assert [sign_in(s, "guess").status_code for s in (one, two, one)] == [401, 401, 401]  # three in all
    for s in (two, one):  # either process: even the right password waits now
        r = sign_in(s, "a long password")
        assert r.status_code == 429 and "too many failed sign-ins" in r.json()["detail"], r.text

    piece_id = httpx.post(f"{two.base}/api/pieces/upload", files={"file": (TUNE.name, TUNE.read_bytes())},
                          headers=ana, timeout=30).json()["id"]
    edit = {"op": "transform", "transpose": 1}
    for s in (one, two):  # one generation a process, two in all
        assert httpx.post(f"{s.base}/api/pieces/{piece_id}/edits", json=edit, headers=ana, timeout=60).status_code == 200
    r = httpx.post(f"{one.base}/api/pieces/{piece_id}/edits", json=edit, headers=ana, timeout=60)
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 60, r.text


def test_compaction_folds_the_log_into_the_snapshot_and_keeps_every_version(tmp_path):
    from symphony.formats.files import read_score
    from symphony.server.store import Store, UpdateRow
    store = Store(f"sqlite:///{tmp_path / 'studio.db'}")
    piece = store.create(document.content_of(read_score(TUNE)), "tune", "upload")
    def drop_first_note(doc):
        del notes_of(doc)[0]
    store.change(piece.id, drop_first_note, "notes", note="edited notes")
    doc = store.get(piece.id).doc
    for i in range(50):  # as fifty socket updates
        before = doc.get_state()
        add_note(doc, f"n{i}", onset=i)
        store.append(piece.id, doc.get_update(before), "ana")
    with store.sessions() as s:
        rows = s.query(UpdateRow).filter(UpdateRow.piece_id == piece.id).count()
    revision, versions, content = store.revision(piece.id), store.versions(piece.id), ids_in(store.get(piece.id).doc)
    assert rows == 51 and store.compact(piece.id) == 0  # younger than the grace period: not every process read them
    assert store.compact(piece.id, grace_s=0) == 50  # the newest row stays
    with store.sessions() as s:
        assert s.query(UpdateRow).filter(UpdateRow.piece_id == piece.id).count() == 1
    assert ids_in(store.get(piece.id).doc) == content and len(content) == len(set(content))
    assert store.revision(piece.id)[:2] == revision[:2] and store.versions(piece.id) == versions  # the last id stays
    assert ids_in(store.snapshot(piece.id, 2)) == ids_in(store.snapshot(piece.id, 1))[1:]  # versions as they were


def test_an_edit_to_a_deleted_piece_closes_with_4404(live):
    piece_id = upload(live)

    async def main():
        async with CollabClient(ws_url(live, piece_id)) as a:
            assert (await asyncio.to_thread(httpx.delete, f"{live}/api/pieces/{piece_id}")).status_code == 204
            add_note(a.doc, "late")
            assert (await a.wait_closed()) == (4404, "the piece was deleted")
    asyncio.run(main())


def test_a_change_through_the_api_is_announced_with_its_authors_name(tmp_path):
    settings = ServerSettings(database_url=f"sqlite:///{tmp_path / 'studio.db'}", static_dir=tmp_path / "no-studio",
                              accounts=True)
    for base in serve_live(create_app(settings, preload=False)):
        r = httpx.post(base + "/api/auth/signup", json={"email": "ana@example.org", "password": "a long enough secret",
                                                        "name": "Ana"}, timeout=30)
        assert r.status_code == 201, r.text
        ana = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = httpx.post(base + "/api/pieces/upload", files={"file": (TUNE.name, TUNE.read_bytes())}, headers=ana,
                       timeout=30)
        piece = r.json()

        async def main():
            async with CollabClient(ws_url(base, piece["id"]), headers=ana) as c:
                piece["parts"][0]["notes"].pop()
                r = await asyncio.to_thread(httpx.put, f"{base}/api/pieces/{piece['id']}/notes",
                                            json={"parts": piece["parts"]}, headers=ana, timeout=30)
                assert r.status_code == 200, r.text
                await until(lambda: (server_change(c) or "").startswith("Ana removed a note in bar "))
        asyncio.run(main())
