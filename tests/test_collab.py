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
