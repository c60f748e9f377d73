"""The HTTP API through a real HTTP client (FastAPI's TestClient, and httpx against uvicorn on
127.0.0.1): every route and its error paths, streaming, cancelling, a full queue, persistence;
the routes' tests and the store's run on SQLite and on a real PostgreSQL server."""
from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from symphony.formats.files import read_score
from symphony.server.app import create_app
from symphony.server.config import ServerSettings

from .conftest import DATA, serve_live
from .postgres import create_database, database_url, postgres_server, postgres_url  # noqa: F401  (fixtures)

REQUEST = {"style": "celtic", "key": "D major", "bars": 6, "seed": 3}
UPLOAD_LIMIT = 64 * 1024


def settings_for(tmp_path, tiny_checkpoint, **kw) -> ServerSettings:
    base = dict(database_url=f"sqlite:///{tmp_path / 'studio.db'}", checkpoint=str(tiny_checkpoint[0]), workers=2,
                queue_size=4, jobs_per_client=4, max_upload_bytes=UPLOAD_LIMIT, max_bars=64,
                static_dir=tmp_path / "no-studio")
    base.update({k: v for k, v in kw.items() if v is not None})
    return ServerSettings(**base)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request, tmp_path_factory, tiny_checkpoint):
    """A studio on a new database: SQLite, then PostgreSQL (every test that takes it runs on both)."""
    folder = tmp_path_factory.mktemp("server")
    url = None if request.param == "sqlite" else create_database(request.getfixturevalue("postgres_server"))
    with TestClient(create_app(settings_for(folder, tiny_checkpoint, database_url=url))) as c:
        yield c


@pytest.fixture(scope="module")
def sqlite_client(tmp_path_factory, tiny_checkpoint):
    """For the slow tests where the database plays no part (understanding pictures and audio)."""
    with TestClient(create_app(settings_for(tmp_path_factory.mktemp("server"), tiny_checkpoint))) as c:
        yield c


@pytest.fixture(scope="module")
def piece(client):
    r = client.post("/api/pieces", json=REQUEST)
    assert r.status_code == 201, r.text
    return r.json()


def events_of(text: str) -> list[tuple[str, dict]]:
    """Server-Sent Events as (event, data) pairs (comments skipped)."""
    out = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln and not ln.startswith(":")]
        if not lines:
            continue
        fields = dict(ln.split(": ", 1) for ln in lines)
        out.append((fields["event"], json.loads(fields["data"])))
    return out


def music(piece: dict) -> list:
    """A piece's notes without their ids (ids are new on every piece)."""
    return [[(n["pitch"], n["spelling"], n["onset"], n["duration"], n["velocity"]) for n in p["notes"]]
            for p in piece["parts"]]


def by_id(piece: dict) -> dict:
    return {n["id"]: (i, n["pitch"], n["onset"], n["duration"]) for i, p in enumerate(piece["parts"])
            for n in p["notes"]}


def assert_error(r, status: int, *words: str):
    assert r.status_code == status, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail, r.text
    for w in words:
        assert w.lower() in detail.lower(), detail


# ----------------------------------------------------------------------------- meta

def test_health_and_styles(client):
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["limits"]["max_upload_bytes"] == UPLOAD_LIMIT
    styles = client.get("/api/styles").json()
    assert {s["name"] for s in styles} == {"celtic", "chinese", "chorale", "german"}
    assert all(s["meter"] and s["tempo"] > 0 for s in styles)


def test_openapi_docs_and_the_studio_page(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/health", "/api/styles", "/api/pieces", "/api/pieces/upload", "/api/pieces/{piece_id}",
                 "/api/pieces/{piece_id}/export/{fmt}", "/api/pieces/{piece_id}/edits", "/api/pieces/{piece_id}/notes",
                 "/api/pieces/{piece_id}/versions", "/api/pieces/{piece_id}/versions/{version}/restore"):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "npm run build" in page.text  # no studio built in this test


def test_the_built_studio_is_served(tmp_path, tiny_checkpoint):
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>studio</title><script src='/assets/app.js'></script>")
    (static / "assets" / "app.js").write_text("console.log('hi')")
    with TestClient(create_app(settings_for(tmp_path, tiny_checkpoint, static_dir=static), preload=False)) as c:
        assert "<title>studio</title>" in c.get("/").text
        js = c.get("/assets/app.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert_error(c.get("/assets/missing.js"), 404)


# ----------------------------------------------------------------------------- pieces

def test_a_new_piece_has_the_documented_shape(client, piece):
    assert set(piece) >= {"id", "title", "attributes", "explanation", "bars", "version", "parts"}
    assert piece["version"] == 1 and piece["bars"] == 6 + (piece["pickup"] > 0)  # (and a pickup bar 0)
    a = piece["attributes"]
    # attributes.bars counts from bar 1 as the request and music.json do; the grid adds the pickup bar 0
    assert (a["style"], a["key"], a["bars"], a["seed"]) == ("celtic", "D major", 6, 3)
    assert piece["explanation"] and piece["title"]
    notes = piece["parts"][0]["notes"]
    assert notes and set(notes[0]) == {"id", "pitch", "spelling", "onset", "duration", "velocity"}
    assert len({n["id"] for n in notes}) == len(notes)
    assert client.get(f"/api/pieces/{piece['id']}").json() == piece
    assert piece["id"] in [p["id"] for p in client.get("/api/pieces").json()]


def test_the_streamed_piece_is_the_piece_without_streaming(client):
    plain = client.post("/api/pieces", json=REQUEST).json()
    r = client.post("/api/pieces", json=REQUEST, headers={"Accept": "text/event-stream"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = events_of(r.text)
    kinds = [k for k, _ in events]
    assert kinds[-1] == "done" and "note" in kinds
    streamed = events[-1][1]["piece"]
    assert streamed["id"] != plain["id"]
    assert music(streamed) == music(plain)
    assert streamed["attributes"] == plain["attributes"] and streamed["bars"] == plain["bars"]
    last = max((i for i, (k, _) in enumerate(events) if k == "restart"), default=-1)
    notes = [(d["part"], d["pitch"], d["onset"], d["duration"]) for k, d in events[last + 1:] if k == "note"]
    assert [(n[0], n[1], n[2]) for n in notes] == [(0, n["pitch"], n["onset"]) for n in plain["parts"][0]["notes"]]
    assert [n[2] for n in notes] == sorted(n[2] for n in notes)  # bar by bar, in time order
    grid = events[last + 1]
    assert grid[0] == "attributes", kinds  # before the notes of each attempt: the studio draws the bars
    assert {k: grid[1][k] for k in ("key", "meter", "bars")} == \
        {k: plain["attributes"][k] for k in ("key", "meter", "bars")}
    assert grid[1]["bars"] + grid[1]["pickup_bar"] == plain["bars"]  # the stored grid: bars 1.. and a pickup bar 0
    assert grid[1]["pickup_bar"] == (plain["pickup"] > 0)
    assert client.get(f"/api/pieces/{streamed['id']}").json() == streamed  # saved


def test_a_failed_streamed_request_ends_with_an_error_event(client):
    r = client.post("/api/pieces", json={"style": "polka-rock", "bars": 4}, headers={"Accept": "text/event-stream"})
    events = events_of(r.text)
    assert events[-1][0] == "error" and events[-1][1]["status"] == 400
    assert "polka-rock" in events[-1][1]["detail"]


@pytest.mark.parametrize("body, status, words", [
    ('{"style": "celtic", ', 400, ["not valid JSON"]),
    ('[1, 2]', 400, ["JSON object"]),
    ('{"bars": "ten"}', 422, ["bars", "integer"]),
    ('{"bars": 0}', 422, ["bars"]),
    ('{"colour": "blue"}', 422, ["unknown field", "colour"]),
    ('{"valence": 3}', 422, ["valence"]),
    ('{"style": "polka-rock"}', 400, ["polka-rock"]),
    ('{"key": "H major", "style": "celtic"}', 400, ["H major"]),
    ('{"style": "celtic", "bars": 65}', 400, ["64"]),
])
def test_bad_requests_get_one_clear_sentence(client, body, status, words):
    before = client.get("/api/pieces").json()
    r = client.post("/api/pieces", content=body, headers={"Content-Type": "application/json"})
    assert_error(r, status, *words)
    assert client.get("/api/pieces").json() == before  # nothing saved


def test_unknown_piece_route_and_method(client):
    assert_error(client.get("/api/pieces/nope"), 404, "nope")
    assert_error(client.delete("/api/pieces/nope"), 404)
    assert_error(client.get("/api/pieces/nope/versions"), 404)
    assert_error(client.get("/api/nothing-here"), 404)
    assert_error(client.patch("/api/pieces"), 405)


# ----------------------------------------------------------------------------- uploads

@pytest.mark.parametrize("name", ["oneills_sample.abc", "bwv66.6.mxl"])
def test_upload_a_score_file(client, name):
    data = (DATA / name).read_bytes()
    r = client.post("/api/pieces/upload", files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == 201, r.text
    p = r.json()
    want = read_score(DATA / name)
    assert p["bars"] == want.bars and len(p["parts"]) == len(want.parts)
    assert [n["pitch"] for n in p["parts"][0]["notes"]] == [n.pitch for n in want.parts[0].notes]
    assert [v["op"] for v in client.get(f"/api/pieces/{p['id']}/versions").json()] == ["upload"]


def test_upload_midi_and_musicxml_exported_by_the_server(client, piece):
    for fmt, name in (("mid", "tune.mid"), ("musicxml", "tune.musicxml")):
        data = client.get(f"/api/pieces/{piece['id']}/export/{fmt}").content
        r = client.post("/api/pieces/upload", files={"file": (name, data)})
        assert r.status_code == 201, r.text
        assert [(n["pitch"], n["onset"]) for n in r.json()["parts"][0]["notes"]] == \
            [(n["pitch"], n["onset"]) for n in piece["parts"][0]["notes"]]


@pytest.mark.parametrize("name, data, status, words", [
    ("notes.txt", b"hello", 415, ["notes.txt", "MIDI"]),
    ("picture.png", b"\x89PNG\r\n", 415, ["picture.png"]),
    ("corrupt.mid", (DATA / "corrupt.mid").read_bytes(), 400, ["corrupt.mid"]),
    ("corrupt.musicxml", (DATA / "corrupt.musicxml").read_bytes(), 400, ["corrupt.musicxml"]),
    ("not_music.abc", (DATA / "not_music.abc").read_bytes(), 400, ["not_music.abc"]),
    ("huge.mid", b"MThd" + b"\0" * UPLOAD_LIMIT, 413, ["limit"]),
])
def test_bad_uploads(client, name, data, status, words):
    before = client.get("/api/pieces").json()
    assert_error(client.post("/api/pieces/upload", files={"file": (name, data)}), status, *words)
    assert client.get("/api/pieces").json() == before


def test_upload_without_a_file(client):
    assert_error(client.post("/api/pieces/upload", data={"other": "x"}), 422, "file")


# ----------------------------------------------------------------------------- exports

@pytest.mark.parametrize("fmt, magic", [("mid", b"MThd"), ("musicxml", b"<?xml"), ("wav", b"RIFF"),
                                        ("svg", b"<svg"), ("pdf", b"%PDF")])
def test_exports(client, piece, fmt, magic):
    r = client.get(f"/api/pieces/{piece['id']}/export/{fmt}")
    assert r.status_code == 200, r.text
    assert magic in r.content[:400]
    assert f".{fmt}" in r.headers["content-disposition"]
    if fmt == "mid":
        back = read_score(r.content, filename="x.mid")
        assert [(n.pitch, n.onset, n.duration) for n in back.parts[0].notes] == \
            [(n["pitch"], n["onset"], n["duration"]) for n in piece["parts"][0]["notes"]]


def test_export_errors(client, piece):
    assert_error(client.get(f"/api/pieces/{piece['id']}/export/mp3"), 422, "fmt")
    assert_error(client.get("/api/pieces/nope/export/mid"), 404)


# ----------------------------------------------------------------------------- edits and versions

def new_piece(client, **kw) -> dict:
    r = client.post("/api/pieces", json={**REQUEST, **kw})
    assert r.status_code == 201, r.text
    return r.json()


def test_infill_keeps_the_other_bars_and_their_ids(client):
    p = new_piece(client, bars=8, seed=5)
    r = client.post(f"/api/pieces/{p['id']}/edits", json={"op": "infill", "bars": "3-4", "seed": 2, "candidates": 2})
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["version"] == 2 and q["bars"] == 8 + (q["pickup"] > 0)
    bq = 3.0  # 6/8
    assert q["pickup"] == p["pickup"] and q["bar_numbers"] == p["bar_numbers"]
    # the bars the piece prints as 3 and 4 (after a pickup bar 0, the 4th and 5th stored bars)
    a, z = p["bar_numbers"].index("3") * bq, (p["bar_numbers"].index("4") + 1) * bq
    outside = lambda piece: {i: v for i, v in by_id(piece).items() if not a <= v[2] < z}  # noqa: E731
    assert outside(q) == outside(p)  # same notes, same ids
    versions = client.get(f"/api/pieces/{p['id']}/versions").json()
    assert [(v["version"], v["op"]) for v in versions] == [(1, "generate"), (2, "infill")]
    assert all(v["author"] is None and v["created"] for v in versions)


@pytest.mark.parametrize("body", [
    {"op": "continue", "bars": 2, "seed": 1},
    {"op": "harmonize", "as": "chords", "style": "celtic"},
    {"op": "harmonize", "as": "chords", "numerals": True},
    {"op": "vary", "amount": 0.5, "seed": 1},
    {"op": "restyle", "style": "chinese", "seed": 1},
    {"op": "transform", "transpose": 2},
])
def test_every_edit_op_makes_a_new_version(client, piece, body):
    before = client.get(f"/api/pieces/{piece['id']}").json()
    r = client.post(f"/api/pieces/{piece['id']}/edits", json=body)
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["version"] == before["version"] + 1
    assert client.get(f"/api/pieces/{piece['id']}/versions").json()[-1]["op"] == body["op"]
    if body["op"] == "continue":
        assert after["bars"] == before["bars"] + 2
    if body["op"] == "transform":
        assert [n["pitch"] for n in after["parts"][0]["notes"]] == [n["pitch"] + 2 for n in before["parts"][0]["notes"]]
        assert after["attributes"]["key"] != before["attributes"]["key"]  # moved up a tone


@pytest.mark.parametrize("body, status, words", [
    ({"op": "remix"}, 422, ["op"]),
    ({"op": "infill"}, 400, ["infill needs bars"]),
    ({"op": "infill", "bars": "9-12"}, 400, ["9"]),
    ({"op": "infill", "bars": "1-2", "part": 5}, 400, ["part"]),
    ({"op": "vary", "bars": "1-2"}, 400, ["bars"]),
    ({"op": "continue", "bars": "many"}, 400, ["many"]),
    ({"op": "continue", "bars": 100}, 400, ["64"]),
    ({"op": "restyle"}, 400, ["style"]),
    ({"op": "restyle", "style": "polka-rock"}, 400, ["polka-rock"]),
    ({"op": "transform", "key": "H major"}, 400, ["H major"]),
    ({"op": "vary", "amount": 2}, 422, ["amount"]),
    ({"op": "vary", "speed": 2}, 422, ["speed"]),
])
def test_bad_edits_leave_the_piece_as_it_was(client, body, status, words):
    p = new_piece(client, bars=6, seed=8)
    assert_error(client.post(f"/api/pieces/{p['id']}/edits", json=body), status, *words)
    assert client.get(f"/api/pieces/{p['id']}").json() == p
    assert len(client.get(f"/api/pieces/{p['id']}/versions").json()) == 1


def test_edit_of_a_missing_piece(client):
    assert_error(client.post("/api/pieces/nope/edits", json={"op": "transform", "transpose": 1}), 404)


def test_streamed_edit_reports_progress(client):
    p = new_piece(client, bars=6, seed=9)
    r = client.post(f"/api/pieces/{p['id']}/edits", json={"op": "continue", "bars": 2},
                    headers={"Accept": "text/event-stream"})
    events = events_of(r.text)
    assert "progress" in [k for k, _ in events] and events[-1][0] == "done"
    assert events[-1][1]["piece"]["version"] == 2


def test_manual_note_edits_and_restore(client):
    p = new_piece(client, bars=6, seed=10, meter="6/8")  # bars of 3 quarters (below)
    notes = p["parts"][0]["notes"]
    moved = {**notes[0], "pitch": notes[0]["pitch"] + 1}
    kept = notes[2:]
    added = {"pitch": 60, "onset": 0.0, "duration": 0.5, "velocity": 90}
    body = {"parts": [{"name": "Melody", "notes": [moved, *kept, added]}], "title": "My tune"}
    for n in body["parts"][0]["notes"]:
        n.pop("spelling", None)
    r = client.put(f"/api/pieces/{p['id']}/notes", json=body)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["version"] == 2 and q["title"] == "My tune" and q["parts"][0]["name"] == "Melody"
    ids = by_id(q)
    assert ids[notes[0]["id"]][1] == notes[0]["pitch"] + 1  # the same note, moved
    assert notes[1]["id"] not in ids  # deleted
    assert all(n["id"] in ids for n in kept)
    assert len(ids) == len(notes)  # one deleted, one added
    # a note past the end makes the piece longer
    late = {"pitch": 62, "onset": 6 * 3.0 + 1.0, "duration": 1.0}
    r = client.put(f"/api/pieces/{p['id']}/notes", json={"parts": [{"notes": [*q["parts"][0]["notes"], late]}]})
    assert r.json()["bars"] == 7 and r.json()["attributes"]["bars"] == 7 - (r.json()["pickup"] > 0)
    # restore version 1: its notes and their ids
    r = client.post(f"/api/pieces/{p['id']}/versions/1/restore")
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["version"] == 4 and by_id(back) == by_id(p) and back["bars"] == 6 + (back["pickup"] > 0)
    assert [v["op"] for v in client.get(f"/api/pieces/{p['id']}/versions").json()] == \
        ["generate", "notes", "notes", "restore"]
    assert_error(client.post(f"/api/pieces/{p['id']}/versions/99/restore"), 404, "99")


@pytest.mark.parametrize("body, status", [
    ({"parts": []}, 422),
    ({"parts": [{"notes": [{"pitch": 200, "onset": 0, "duration": 1}]}]}, 422),
    ({"parts": [{"notes": [{"pitch": 60, "onset": -1, "duration": 1}]}]}, 422),
    ({"parts": [{"notes": [{"pitch": 60, "onset": 0, "duration": 0}]}]}, 422),
    ({"parts": [{"notes": [{"pitch": 60, "onset": 1000, "duration": 1}]}]}, 400),
])
def test_bad_note_edits(client, piece, body, status):
    before = client.get(f"/api/pieces/{piece['id']}").json()
    assert_error(client.put(f"/api/pieces/{piece['id']}/notes", json=body), status)
    assert client.get(f"/api/pieces/{piece['id']}").json() == before


def test_delete(client):
    p = new_piece(client, seed=11)
    assert client.delete(f"/api/pieces/{p['id']}").status_code == 204
    assert_error(client.get(f"/api/pieces/{p['id']}"), 404)
    assert p["id"] not in [q["id"] for q in client.get("/api/pieces").json()]


# ----------------------------------------------------------------------------- jobs and limits

def block_workers(studio, n: int) -> threading.Event:
    """Fill n worker slots with jobs that wait for the returned event."""
    release = threading.Event()
    for i in range(n):
        studio.jobs.submit(f"blocker-{i}", lambda job: release.wait(30))
    return release


def test_a_full_queue_answers_503_and_other_calls_keep_answering(tmp_path, tiny_checkpoint):
    s = settings_for(tmp_path, tiny_checkpoint, workers=1, queue_size=1)
    with TestClient(create_app(s)) as c:
        p = c.post("/api/pieces", json=REQUEST).json()
        release = block_workers(c.app.state.studio, 2)  # one running, one waiting: full
        try:
            r = c.post("/api/pieces", json=REQUEST)
            assert_error(r, 503, "busy")
            assert int(r.headers["Retry-After"]) > 0
            assert_error(c.post(f"/api/pieces/{p['id']}/edits", json={"op": "transform", "transpose": 1}), 503)
            t = time.perf_counter()
            assert c.get(f"/api/pieces/{p['id']}").status_code == 200
            assert c.get("/api/health").json()["jobs"]["running"] == 1
            assert time.perf_counter() - t < 1.0
        finally:
            release.set()
        for _ in range(100):
            if c.get("/api/health").json()["jobs"]["running"] == 0:
                break
            time.sleep(0.05)
        assert c.post("/api/pieces", json=REQUEST).status_code == 201


def test_jobs_per_client(tmp_path, tiny_checkpoint):
    s = settings_for(tmp_path, tiny_checkpoint, workers=1, queue_size=8, jobs_per_client=2)
    with TestClient(create_app(s)) as c:
        studio = c.app.state.studio
        release = threading.Event()
        for _ in range(2):
            studio.jobs.submit("testclient", lambda job: release.wait(30))  # TestClient's client host
        try:
            r = c.post("/api/pieces", json=REQUEST)
            assert_error(r, 429, "jobs")
            assert "Retry-After" in r.headers
        finally:
            release.set()


def test_pieces_survive_a_restart(tmp_path, tiny_checkpoint, database_url):
    s = settings_for(tmp_path, tiny_checkpoint, database_url=database_url)
    with TestClient(create_app(s)) as c:
        p = c.post("/api/pieces", json=REQUEST).json()
        q = c.post(f"/api/pieces/{p['id']}/edits", json={"op": "transform", "transpose": -1}).json()
        versions = c.get(f"/api/pieces/{p['id']}/versions").json()
    with TestClient(create_app(s)) as c:
        assert c.get(f"/api/pieces/{p['id']}").json() == q
        assert c.get(f"/api/pieces/{p['id']}/versions").json() == versions
        back = c.post(f"/api/pieces/{p['id']}/versions/1/restore").json()
        assert by_id(back) == by_id(p)


# ----------------------------------------------------------------------------- a real server

@pytest.fixture(scope="module")
def live(tmp_path_factory, tiny_checkpoint):
    """uvicorn on 127.0.0.1 with a free port, in a thread of this process."""
    app = create_app(settings_for(tmp_path_factory.mktemp("live"), tiny_checkpoint, workers=1))
    for base in serve_live(app, tries=200):
        yield base, app


def test_live_server_streams_notes_before_the_piece_is_done(live):
    base, _app = live
    seen = []
    with httpx.stream("POST", base + "/api/pieces", json={**REQUEST, "bars": 16},
                      headers={"Accept": "text/event-stream"}, timeout=60) as r:
        assert r.status_code == 200
        buf = ""
        for chunk in r.iter_text():
            buf += chunk
            while "\n\n" in buf:
                block, buf = buf.split("\n\n", 1)
                seen += events_of(block + "\n\n")
    kinds = [k for k, _ in seen]
    assert kinds.index("note") < kinds.index("done") == len(kinds) - 1
    piece = seen[-1][1]["piece"]
    assert httpx.get(f"{base}/api/pieces/{piece['id']}").json() == piece


def test_live_server_cancels_the_job_of_a_client_that_disconnects(live):
    base, app = live
    studio = app.state.studio
    compose = studio.compose

    def slow_compose(options, job, author=None):  # a slow model: every bar takes a while
        emit = job.on_event
        job.on_event = lambda e: (time.sleep(0.05), emit(e))
        return compose(options, job, author)
    studio.compose = slow_compose
    try:
        before = httpx.get(base + "/api/pieces").json()
        cancelled = httpx.get(base + "/api/health").json()["jobs"].get("cancelled", 0)
        with httpx.stream("POST", base + "/api/pieces", json={**REQUEST, "bars": 64},
                          headers={"Accept": "text/event-stream"}, timeout=60) as r:
            for line in r.iter_lines():
                if line.startswith("event: note"):
                    break  # the first note: hang up
        for _ in range(200):
            jobs = httpx.get(base + "/api/health").json()["jobs"]
            if jobs.get("cancelled", 0) > cancelled:
                break
            time.sleep(0.05)
        assert jobs.get("cancelled", 0) == cancelled + 1 and jobs["running"] == 0
        assert httpx.get(base + "/api/pieces").json() == before  # nothing saved
    finally:
        studio.compose = compose


def test_live_server_answers_while_composing(live):
    base, _app = live
    p = httpx.post(base + "/api/pieces", json=REQUEST, timeout=60).json()
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(
        r=httpx.post(base + "/api/pieces", json={**REQUEST, "bars": 64, "seed": 4}, timeout=120)))
    t.start()
    times = []
    while t.is_alive() and len(times) < 50:
        t0 = time.perf_counter()
        assert httpx.get(f"{base}/api/pieces/{p['id']}").status_code == 200
        times.append(time.perf_counter() - t0)
    t.join()
    assert result["r"].status_code == 201
    assert times and max(times) < 1.0


def test_live_server_cancels_a_plain_request_whose_client_gives_up(live):
    base, app = live
    studio = app.state.studio
    compose = studio.compose

    def slow_compose(options, job, author=None):
        emit = job.on_event
        job.on_event = lambda e: (time.sleep(0.05), emit and emit(e))
        return compose(options, job, author)
    studio.compose = slow_compose
    try:
        before = httpx.get(base + "/api/pieces").json()
        cancelled = httpx.get(base + "/api/health").json()["jobs"].get("cancelled", 0)
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(base + "/api/pieces", json={**REQUEST, "bars": 64}, timeout=httpx.Timeout(5, read=0.5))
        for _ in range(200):
            jobs = httpx.get(base + "/api/health").json()["jobs"]
            if jobs.get("cancelled", 0) > cancelled:
                break
            time.sleep(0.05)
        assert jobs.get("cancelled", 0) == cancelled + 1
        assert httpx.get(base + "/api/pieces").json() == before
    finally:
        studio.compose = compose


def test_live_server_refuses_an_oversized_body_before_reading_it(live):
    base, _app = live
    r = httpx.post(base + "/api/pieces/upload", files={"file": ("big.mid", b"\0" * (UPLOAD_LIMIT + 2**20 + 10))})
    assert_error(r, 413, "limit")


def test_a_version_can_be_read(client):
    p = new_piece(client, seed=12)
    client.post(f"/api/pieces/{p['id']}/edits", json={"op": "transform", "transpose": 1})
    v1 = client.get(f"/api/pieces/{p['id']}/versions/1").json()
    assert v1["version"] == 1 and by_id(v1) == by_id(p)
    assert client.get(f"/api/pieces/{p['id']}").json()["version"] == 2
    assert_error(client.get(f"/api/pieces/{p['id']}/versions/7"), 404)


def test_serve_on_a_port_in_use_is_one_clear_error(capsys):
    from symphony.cli import main
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(SystemExit) as e:
            main(["serve", "--port", str(sock.getsockname()[1])])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "choose another --port" in err[0]


def test_export_an_earlier_version(client):
    p = new_piece(client, seed=13)
    client.post(f"/api/pieces/{p['id']}/edits", json={"op": "transform", "transpose": 3})
    old = read_score(client.get(f"/api/pieces/{p['id']}/export/mid?v=1").content, filename="x.mid")
    new = read_score(client.get(f"/api/pieces/{p['id']}/export/mid").content, filename="x.mid")
    assert [n.pitch for n in old.parts[0].notes] == [n["pitch"] for n in p["parts"][0]["notes"]]
    assert [n.pitch for n in new.parts[0].notes] == [n["pitch"] + 3 for n in p["parts"][0]["notes"]]
    assert_error(client.get(f"/api/pieces/{p['id']}/export/mid?v=9"), 404, "9")


def test_edits_at_the_same_time_are_all_saved(client):
    p = new_piece(client, bars=6, seed=14)
    from concurrent.futures import ThreadPoolExecutor
    bodies = [{"op": "infill", "bars": "2-2", "seed": 1, "candidates": 1},
              {"op": "infill", "bars": "5-5", "seed": 2, "candidates": 1}]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda b: client.post(f"/api/pieces/{p['id']}/edits", json=b), bodies))
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    assert sorted(r.json()["version"] for r in answers) == [2, 3]
    final = client.get(f"/api/pieces/{p['id']}").json()
    assert final["version"] == 3
    bq = 3.0
    # the bars the piece prints as 2 and 5 (one later in storage after a pickup bar 0)
    (a2, z2), (a5, z5) = [(p["bar_numbers"].index(b) * bq, (p["bar_numbers"].index(b) + 1) * bq) for b in ("2", "5")]
    untouched = lambda piece: {i: v for i, v in by_id(piece).items()  # noqa: E731
                               if not (a2 <= v[2] < z2 or a5 <= v[2] < z5)}
    assert untouched(final) == untouched(p)  # bars 1, 3-4 and 6 as they were; both bars were redone
    for r, (lo, hi) in zip(answers, [(a2, z2), (a5, z5)]):  # each edit's bar is in the final piece
        mine = {i for i, v in by_id(r.json()).items() if lo <= v[2] < hi}
        assert mine and mine <= set(by_id(final))


def test_a_change_waits_for_the_one_before_and_edits_its_result(database_url):
    from symphony.server import document
    from symphony.server.store import Store
    store = Store(database_url)
    piece = store.create(document.content_of(read_score(DATA / "oneills_sample.abc")), "race", "upload")
    calls = []

    def edit(tag, delay):
        def change(doc):
            calls.append(tag)
            time.sleep(delay)  # the other change is waiting meanwhile, not reading the piece
            doc.get("attributes", type=document.Map)[tag] = sorted(document.read(doc).attributes)
        return change
    first = threading.Thread(target=store.change, args=(piece.id, edit("a", 0.3), "a"))
    first.start()
    while not calls:
        time.sleep(0.01)
    store.change(piece.id, edit("b", 0), "b")
    first.join()
    attrs = document.read(store.get(piece.id).doc).attributes
    assert "a" in attrs["b"] and "b" not in attrs["a"]  # b saw a's result; neither overwrote the other
    assert calls == ["a", "b"]  # each edit ran once
    assert [v["op"] for v in store.versions(piece.id)] == ["upload", "a", "b"]
    store.close()


def test_many_changes_at_once_each_hold_every_change_before_them(database_url):
    """Every version is the piece as every change up to it left it: the answer a change returns
    (which the server caches and shows) and its version's snapshot. A change once could read the
    version of a change that committed between its reading the log and the piece's row, and so
    save and answer a Doc without that change, while the cache said it was current."""
    from concurrent.futures import ThreadPoolExecutor
    from symphony.server import document
    from symphony.server.store import Store
    store = Store(database_url)
    piece = store.create(document.content_of(read_score(DATA / "oneills_sample.abc")), "race", "upload")
    tags = [f"race{i}" for i in range(40)]

    def change(tag):
        def edit(doc):
            doc.get("attributes", type=document.Map)[tag] = True
        stored = store.change(piece.id, edit, tag)
        return stored.version, {k for k in document.read(stored.doc).attributes if k.startswith("race")}
    with ThreadPoolExecutor(len(tags)) as pool:
        answers = dict(zip(tags, pool.map(change, tags)))
    versions = store.versions(piece.id)
    assert [v["version"] for v in versions] == list(range(1, len(tags) + 2))  # none lost, none twice
    at = {v["op"]: v["version"] for v in versions[1:]}
    for tag, (version, held) in answers.items():
        assert at[tag] == version
        before = {t for t in tags if at[t] <= version}
        assert held == before, (tag, version, sorted(before - held))
        saved = {k for k in document.read(store.snapshot(piece.id, version)).attributes if k.startswith("race")}
        assert saved == before, (tag, version, sorted(before - saved))
    assert {k for k in document.read(store.get(piece.id).doc).attributes if k.startswith("race")} == set(tags)
    store.close()


def test_a_log_row_that_commits_after_a_higher_one_is_not_missed(postgres_url, tmp_path):
    """PostgreSQL hands out ids before commit: a live edit's row may commit after a higher one.
    The piece the server caches must not stay without it (its key counts the log's rows)."""
    from symphony.server import document
    from symphony.server.service import Studio
    from symphony.server.store import UpdateRow, now
    studio = Studio(ServerSettings(database_url=postgres_url, static_dir=tmp_path))
    store = studio.store
    piece = store.create(document.content_of(read_score(DATA / "oneills_sample.abc")), "race", "upload")

    def live_edit(tag):  # from a client of its own
        doc = store.get(piece.id).doc
        before = doc.get_state()
        doc.get("attributes", type=document.Map)[tag] = True
        return doc.get_update(before)
    late, early = live_edit("late"), live_edit("early")
    with store.sessions.begin() as s:  # the late row's id is handed out now, its commit comes last
        s.add(UpdateRow(piece_id=piece.id, data=late, created=now()))
        s.flush()
        store.append(piece.id, early)  # a higher id, committed first
        seen = studio.piece(piece.id)["attributes"]
        assert "early" in seen and "late" not in seen
    assert {"early", "late"} <= set(studio.piece(piece.id)["attributes"])
    assert {"early", "late"} <= set(json.loads(studio.piece_json(piece.id))["attributes"])
    studio.close()


@pytest.mark.parametrize("args, words", [
    (["--db", "nosuchdb://x"], ["cannot open the database"]),
    (["--checkpoint", "/nonexistent/model.safetensors"], ["model.safetensors"]),
    (["--workers", "0"], ["--workers"]),
])
def test_serve_with_bad_settings_is_one_clear_error(capsys, tmp_path, args, words):
    from symphony.cli import main
    with pytest.raises(SystemExit) as e:
        main(["serve", "--port", "0", *([] if "--db" in args else ["--db", f"sqlite:///{tmp_path}/x.db"]), *args])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(w in err[0] for w in words), err


def _b64(path) -> str:
    import base64
    return base64.b64encode(path.read_bytes()).decode()


def test_compose_from_a_picture_and_from_a_hummed_melody(sqlite_client, tmp_path):
    """The prompt panel's picture and melody travel as base64 / data: URLs, as --image and --melody."""
    import numpy as np
    import soundfile as sf
    from PIL import Image
    Image.new("RGB", (64, 48), (250, 200, 40)).save(tmp_path / "sun.png")
    r = sqlite_client.post("/api/pieces", json={"style": "celtic", "bars": 4, "seed": 1,
                                         "image": "data:image/png;base64," + _b64(tmp_path / "sun.png")})
    assert r.status_code == 201, r.text
    assert any(line.startswith("picture: picture.png") for line in r.json()["explanation"]), r.json()["explanation"]
    # a sung line (G A B C D, half a second each, with a little vibrato) as a WAV file
    rate, t = 8000, np.arange(4000) / 8000  # (small: this server takes 64 KB uploads)
    tones = [440 * 2 ** ((m - 69 + 0.1 * np.sin(2 * np.pi * 5 * t)) / 12) for m in (67, 69, 71, 72, 74)]
    sf.write(tmp_path / "hum.wav", np.concatenate([0.3 * np.sin(2 * np.pi * np.cumsum(f) / rate) for f in tones]), rate)
    r = sqlite_client.post("/api/pieces", json={"melody": _b64(tmp_path / "hum.wav"), "melody_use": "continue", "bars": 6,
                                         "seed": 2})
    assert r.status_code == 201, r.text
    top = [n["pitch"] for n in r.json()["parts"][0]["notes"]]
    assert top[:5] == [67, 69, 71, 72, 74], top  # the hummed notes open the piece, carried on after them
    assert len(top) > 5


@pytest.mark.parametrize("body, words", [
    ({"image": "not base64!"}, ("image", "base64")),
    ({"melody": "data:audio/wav;base64,AAAA"}, ("audio",)),
    ({"image": "data:image/png;base64,AAAA"}, ("picture",)),
])
def test_bad_pictures_and_melodies(client, body, words):
    r = client.post("/api/pieces", json={"style": "celtic", "bars": 4, **body})
    assert 400 <= r.status_code < 500, r.text
    assert all(w in r.json()["detail"] for w in words), r.json()
    assert not list(__import__("pathlib").Path(__import__("tempfile").gettempdir()).glob("symphony-media-*"))
