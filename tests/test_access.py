"""Accounts, roles and shares through a real HTTP client, on SQLite and on a real PostgreSQL
server: the authorization matrix (every HTTP route of the app x owner, editor, viewer, another
user, anonymous, a revoked link, a live link), signing up / in / out, sharing and revoking,
the sign-in and generation rate limits, the socket's access check, single-user mode."""
from __future__ import annotations

import json

import pytest
from fastapi import WebSocket
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from symphony.formats.files import read_score
from symphony.server import accounts, document
from symphony.server.access import AccessDenied, socket_access
from symphony.server.app import create_app, is_loopback
from symphony.server.config import ServerSettings

from .conftest import DATA
from .postgres import create_database, postgres_server  # noqa: F401  (fixtures)

PASSWORD = "a long enough secret"
PEOPLE = ("owner", "editor", "viewer", "other", "extra")  # extra: a share that the owner revokes in the matrix
ANYONE = ("anonymous", "revoked link", "live link", "other", "viewer", "editor", "owner")  # owner last: it deletes
SCORE = read_score(DATA / "AcaciaReel.abc")

# the role each piece route needs; a new route must be added here (the test fails until it is)
ROUTES = {
    ("GET", "/api/pieces/{piece_id}"): "viewer",
    ("DELETE", "/api/pieces/{piece_id}"): "owner",
    ("GET", "/api/pieces/{piece_id}/export/{fmt}"): "viewer",
    ("POST", "/api/pieces/{piece_id}/edits"): "editor",
    ("PUT", "/api/pieces/{piece_id}/notes"): "editor",
    ("GET", "/api/pieces/{piece_id}/versions"): "viewer",
    ("GET", "/api/pieces/{piece_id}/versions/{version}"): "viewer",
    ("POST", "/api/pieces/{piece_id}/versions/{version}/restore"): "editor",
    ("POST", "/api/pieces/{piece_id}/versions"): "editor",
    ("GET", "/api/pieces/{piece_id}/diff"): "viewer",
    ("GET", "/api/pieces/{piece_id}/access"): "viewer",
    ("GET", "/api/pieces/{piece_id}/shares"): "owner",
    ("POST", "/api/pieces/{piece_id}/shares"): "owner",
    ("DELETE", "/api/pieces/{piece_id}/shares/{share_id}"): "owner",
}
# routes without a piece: who gets what
SIGNED_IN = {"owner", "editor", "viewer", "other"}
OTHER_ROUTES = {
    ("GET", "/api/health"): lambda who: 200,
    ("GET", "/api/styles"): lambda who: 200,
    ("GET", "/api/pieces"): lambda who: 200 if who in SIGNED_IN else 401,
    ("POST", "/api/pieces"): lambda who: 201 if who in SIGNED_IN else 401,
    ("POST", "/api/pieces/upload"): lambda who: 201 if who in SIGNED_IN else 401,
    ("GET", "/api/me"): lambda who: 200 if who in SIGNED_IN else 401,
    ("POST", "/api/auth/logout"): lambda who: 204,
    ("POST", "/api/auth/signup"): None,  # tested below, not per person
    ("POST", "/api/auth/login"): None,
}
OK = {"GET": 200, "PUT": 200, "DELETE": 204}
BODIES = {
    "/api/pieces/{piece_id}/edits": {"json": {"op": "transform", "transpose": 2}},
    "/api/pieces/{piece_id}/notes": {"json": {"parts": [{"notes": [{"pitch": 62, "onset": 0, "duration": 1}]}]}},
    "/api/pieces/{piece_id}/shares": {"json": {"link": True, "role": "viewer"}},
    "/api/pieces/{piece_id}/versions": {"json": {"name": "First draft"}},
    "/api/pieces": {"json": {"style": "celtic", "bars": 2, "seed": 1}},
    "/api/pieces/upload": {"files": {"file": ("tune.abc", (DATA / "AcaciaReel.abc").read_bytes())}},
}


def expected(need: str, who: str, ok: int) -> int:
    """The matrix's rule: no role -> 404 (anonymous: 401), a role too low -> 403."""
    role = {"owner": "owner", "editor": "editor", "viewer": "viewer", "live link": "viewer"}.get(who)
    if role is None:
        return 401 if who == "anonymous" else 404
    return ok if accounts.ROLES.index(role) >= accounts.ROLES.index(need) else 403


def settings_for(folder, tiny_checkpoint, url=None, **kw) -> ServerSettings:
    return ServerSettings(database_url=url or f"sqlite:///{folder / 'studio.db'}", checkpoint=str(tiny_checkpoint[0]),
                          workers=2, queue_size=8, max_bars=32, static_dir=folder / "no-studio", **{"accounts": True, **kw})


def sign_up(client: TestClient, name: str) -> str:
    r = client.post("/api/auth/signup", json={"email": f"{name}@example.org", "password": PASSWORD, "name": name.title()})
    assert r.status_code == 201, r.text
    client.cookies.clear()  # each request below says who it is by its bearer token
    return r.json()["access_token"]


def sign_in(client: TestClient, name: str) -> str:
    r = client.post("/api/auth/login", data={"username": f"{name}@example.org", "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return r.json()["access_token"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def studio(request, tmp_path_factory, tiny_checkpoint):
    """(client, tokens by person) on a server with accounts, on each database."""
    folder = tmp_path_factory.mktemp("access")
    url = None if request.param == "sqlite" else create_database(request.getfixturevalue("postgres_server"))
    with TestClient(create_app(settings_for(folder, tiny_checkpoint, url))) as client:
        yield client, {name: sign_up(client, name) for name in PEOPLE}


def as_(tokens: dict, who: str, links: dict) -> dict:
    """The request arguments that make a request come from ``who``."""
    if who in tokens:
        return {"headers": {"Authorization": f"Bearer {tokens[who]}"}}
    if who in ("revoked link", "live link"):
        return {"params": {"share": links[who]}}
    return {}


def shared_piece(client, tokens) -> tuple[str, dict, str]:
    """A piece of the owner's, shared with the editor and the viewer by email, by a live and a
    revoked viewer link, and with `extra` (the share the matrix's DELETE revokes)."""
    owner = {"Authorization": f"Bearer {tokens['owner']}"}
    studio = client.app.state.studio
    piece = studio.store.create(document.content_of(SCORE), "shared tune", "upload")
    accounts.set_owner(studio.store, piece.id, accounts.session_user(studio.store, tokens["owner"]).id)
    for who in ("editor", "viewer"):
        assert client.post(f"/api/pieces/{piece.id}/shares", headers=owner,
                           json={"email": f"{who}@example.org", "role": who}).status_code == 201
    live = client.post(f"/api/pieces/{piece.id}/shares", headers=owner, json={"link": True, "role": "viewer"}).json()
    revoked = client.post(f"/api/pieces/{piece.id}/shares", headers=owner, json={"link": True, "role": "editor"}).json()
    assert client.delete(f"/api/pieces/{piece.id}/shares/{revoked['id']}", headers=owner).status_code == 204
    extra = client.post(f"/api/pieces/{piece.id}/shares", headers=owner,
                        json={"email": "extra@example.org", "role": "viewer"}).json()
    return piece.id, {"live link": live["link"], "revoked link": revoked["link"]}, extra["id"]


def test_every_route_is_in_the_matrix(studio):
    client, _ = studio
    routes = {(m, r.path) for r in client.app.routes if isinstance(r, APIRoute) and r.path.startswith("/api")
              for m in r.methods}
    missing = routes - set(ROUTES) - set(OTHER_ROUTES)
    assert not missing, f"routes with no row in the authorization matrix: {sorted(missing)}"


@pytest.mark.parametrize("method, path", sorted(ROUTES))
def test_piece_route_matrix(studio, method, path):
    client, tokens = studio
    piece_id, links, extra_share = shared_piece(client, tokens)
    url = path.format(piece_id=piece_id, fmt="mid", version=1, share_id=extra_share)
    ok = 201 if method == "POST" and path.endswith("/shares") else OK.get(method, 200)
    got, want = {}, {}
    for who in ANYONE:
        r = client.request(method, url, **BODIES.get(path, {}), **as_(tokens, who, links))
        got[who], want[who] = r.status_code, expected(ROUTES[method, path], who, ok)
        if r.status_code >= 400:
            assert isinstance(r.json()["detail"], str), r.text
    assert got == want


@pytest.mark.parametrize("method, path", sorted(k for k, v in OTHER_ROUTES.items() if v))
def test_other_route_matrix(studio, method, path):
    client, tokens = studio
    _, links, _ = shared_piece(client, tokens)
    if path == "/api/auth/logout":  # sign out of new sessions: the fixture's stay open
        tokens = {who: sign_in(client, who) for who in tokens}
    got = {who: client.request(method, path, **BODIES.get(path, {}), **as_(tokens, who, links)).status_code
           for who in ANYONE}
    assert got == {who: OTHER_ROUTES[method, path](who) for who in got}


def test_the_piece_list_holds_yours_and_those_shared_with_you(studio):
    client, tokens = studio
    piece_id, _, _ = shared_piece(client, tokens)
    lists = {who: {p["id"]: p["role"] for p in client.get("/api/pieces", headers={
        "Authorization": f"Bearer {tokens[who]}"}).json()} for who in ("owner", "editor", "viewer", "other")}
    assert lists["owner"][piece_id] == "owner"
    assert lists["editor"][piece_id] == "editor" and lists["viewer"][piece_id] == "viewer"
    assert piece_id not in lists["other"]
    assert all(role == "owner" for role in lists["other"].values())  # only the pieces `other` made


def test_sign_out_ends_the_session_at_once(studio):
    client, _ = studio
    token = sign_up(client, "leaving")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == "leaving@example.org" and me.json()["name"] == "Leaving"
    assert client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    r = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    signed = client.post("/api/auth/login", data={"username": "LEAVING@example.org", "password": PASSWORD})
    assert signed.status_code == 200 and signed.json()["token_type"] == "bearer"
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert client.get("/api/me").json()["name"] == "Leaving"  # the browser's way: the cookie
    client.post("/api/auth/logout")
    assert client.get("/api/me").status_code == 401
    client.cookies.clear()


@pytest.mark.parametrize("body, status, words", [
    ({"email": "not-an-email", "password": PASSWORD}, 422, ["not an email address"]),
    ({"email": "a@b", "password": PASSWORD}, 422, ["not an email address"]),
    ({"email": "short@example.org", "password": "1234567"}, 422, ["at least 8 characters"]),
    ({"email": "owner@example.org", "password": PASSWORD}, 409, ["already exists"]),
    ({"email": "x@example.org"}, 422, ["password", "required"]),
    ({"email": "y@example.org", "password": PASSWORD, "name": "   "}, 422, ["name"]),
    ({"email": "z@example.org", "password": PASSWORD, "role": "admin"}, 422, ["unknown field"]),
])
def test_bad_sign_ups_get_one_clear_sentence(studio, body, status, words):
    client, _ = studio
    r = client.post("/api/auth/signup", json=body)
    assert r.status_code == status, r.text
    assert all(w in r.json()["detail"] for w in words), r.json()
    assert "set-cookie" not in r.headers


@pytest.mark.parametrize("body, words", [
    ({"email": "nobody@example.org", "role": "viewer"}, ["no Symphony account"]),
    ({"email": "owner@example.org", "role": "editor"}, ["owns this piece"]),
    ({"email": "bad email", "role": "viewer"}, ["not an email address"]),
    ({"link": True, "email": "viewer@example.org"}, ["either an email or link"]),
    ({"role": "viewer"}, ["either an email or link"]),
    ({"link": True, "role": "owner"}, ["role"]),
])
def test_bad_shares(studio, body, words):
    client, tokens = studio
    piece_id, _, _ = shared_piece(client, tokens)
    r = client.post(f"/api/pieces/{piece_id}/shares", json=body, headers={"Authorization": f"Bearer {tokens['owner']}"})
    assert r.status_code == 422, r.text
    assert all(w in r.json()["detail"] for w in words), r.json()


def test_sharing_again_changes_the_role_and_revoking_closes_the_piece(studio):
    client, tokens = studio
    piece_id, links, _ = shared_piece(client, tokens)
    owner = {"Authorization": f"Bearer {tokens['owner']}"}
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    notes = BODIES["/api/pieces/{piece_id}/notes"]["json"]
    assert client.put(f"/api/pieces/{piece_id}/notes", json=notes, headers=viewer).status_code == 403
    promoted = client.post(f"/api/pieces/{piece_id}/shares", headers=owner,
                           json={"email": "viewer@example.org", "role": "editor"}).json()
    assert client.put(f"/api/pieces/{piece_id}/notes", json=notes, headers=viewer).status_code == 200
    listed = client.get(f"/api/pieces/{piece_id}/shares", headers=owner).json()
    assert [s["role"] for s in listed if s.get("email") == "viewer@example.org"] == ["editor"]  # one share, changed
    link = next(s for s in listed if s.get("link") == links["live link"])
    assert link["url"] == f"/?share={links['live link']}#/piece/{piece_id}"
    mine = client.get(f"/api/pieces/{piece_id}/access", params={"share": links["live link"]}).json()
    assert mine == {"role": "viewer", "user_id": None, "name": "guest"}
    assert client.get(f"/api/pieces/{piece_id}", headers={"X-Symphony-Share": links["live link"]}).status_code == 200
    for share in (promoted, link):
        assert client.delete(f"/api/pieces/{piece_id}/shares/{share['id']}", headers=owner).status_code == 204
    assert client.get(f"/api/pieces/{piece_id}", headers=viewer).status_code == 404
    assert client.get(f"/api/pieces/{piece_id}", params={"share": links["live link"]}).status_code == 404
    again = client.delete(f"/api/pieces/{piece_id}/shares/{link['id']}", headers=owner)
    assert again.status_code == 404 and "no share" in again.json()["detail"]


def test_a_signed_in_user_with_a_link_gets_the_higher_role(studio):
    client, tokens = studio
    piece_id, _, _ = shared_piece(client, tokens)
    owner = {"Authorization": f"Bearer {tokens['owner']}"}
    editor_link = client.post(f"/api/pieces/{piece_id}/shares", headers=owner,
                              json={"link": True, "role": "editor"}).json()["link"]
    notes = BODIES["/api/pieces/{piece_id}/notes"]["json"]
    r = client.put(f"/api/pieces/{piece_id}/notes", json=notes, params={"share": editor_link},
                   headers={"Authorization": f"Bearer {tokens['viewer']}"})
    assert r.status_code == 200, r.text
    versions = client.get(f"/api/pieces/{piece_id}/versions", headers=owner).json()
    viewer_id = accounts.session_user(client.app.state.studio.store, tokens["viewer"]).id
    assert versions[-1]["author"] == viewer_id  # who changed it is kept with the version


def test_new_pieces_belong_to_who_made_them(studio):
    client, tokens = studio
    r = client.post("/api/pieces/upload", files=BODIES["/api/pieces/upload"]["files"],
                    headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert r.status_code == 201
    piece_id = r.json()["id"]
    assert client.get(f"/api/pieces/{piece_id}", headers={"Authorization": f"Bearer {tokens['editor']}"}).status_code == 200
    assert client.get(f"/api/pieces/{piece_id}", headers={"Authorization": f"Bearer {tokens['owner']}"}).status_code == 404


def test_failed_sign_ins_are_rate_limited(tmp_path, tiny_checkpoint):
    with TestClient(create_app(settings_for(tmp_path, tiny_checkpoint, sign_in_failures=3), preload=False)) as client:
        sign_up(client, "ana")
        sign_up(client, "ben")
        for _ in range(3):
            r = client.post("/api/auth/login", data={"username": "ana@example.org", "password": "guess"})
            assert r.status_code == 401 and r.json()["detail"] == "wrong email or password"
        r = client.post("/api/auth/login", data={"username": "ana@example.org", "password": PASSWORD})
        assert r.status_code == 429, r.text  # even the right password waits: guessing stops here
        assert 0 < int(r.headers["Retry-After"]) <= 900 and "too many failed sign-ins" in r.json()["detail"]
        assert client.post("/api/auth/login", data={"username": "ben@example.org", "password": PASSWORD}).status_code == 200
        unknown = client.post("/api/auth/login", data={"username": "nobody@example.org", "password": "guess"})
        assert unknown.status_code == 401 and unknown.json()["detail"] == "wrong email or password"


def test_generation_is_rate_limited_per_user(tmp_path, tiny_checkpoint):
    with TestClient(create_app(settings_for(tmp_path, tiny_checkpoint, generations_per_minute=2))) as client:
        ana, ben = ({"Authorization": f"Bearer {sign_up(client, n)}"} for n in ("ana", "ben"))
        made = client.post("/api/pieces/upload", files=BODIES["/api/pieces/upload"]["files"], headers=ana).json()
        edit = {"op": "transform", "transpose": 1}
        for _ in range(2):
            assert client.post(f"/api/pieces/{made['id']}/edits", json=edit, headers=ana).status_code == 200
        r = client.post("/api/pieces", json=BODIES["/api/pieces"]["json"], headers=ana)
        assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 60, r.text
        assert client.post("/api/pieces", json=BODIES["/api/pieces"]["json"], headers=ben).status_code == 201


def test_the_job_limit_counts_per_user(tmp_path, tiny_checkpoint):
    import threading
    with TestClient(create_app(settings_for(tmp_path, tiny_checkpoint, jobs_per_client=1))) as client:
        ana, ben = ({"Authorization": f"Bearer {sign_up(client, n)}"} for n in ("ana", "ben"))
        ana_id = client.get("/api/me", headers=ana).json()["id"]
        release = threading.Event()
        client.app.state.studio.jobs.submit(f"user:{ana_id}", lambda job: release.wait(30))  # ana's one job
        try:
            assert client.post("/api/pieces", json=BODIES["/api/pieces"]["json"], headers=ana).status_code == 429
            assert client.post("/api/pieces", json=BODIES["/api/pieces"]["json"], headers=ben).status_code == 201
        finally:
            release.set()


def test_single_user_mode_is_the_default_on_loopback(tmp_path, tiny_checkpoint):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20") and not is_loopback("studio.example.org")
    settings = settings_for(tmp_path, tiny_checkpoint)
    settings.accounts = False
    with TestClient(create_app(settings, preload=False)) as client:
        assert client.get("/api/health").json()["accounts"] is False
        assert client.get("/api/me").json() == {"id": None, "email": None, "name": "you", "accounts": False}
        made = client.post("/api/pieces/upload", files=BODIES["/api/pieces/upload"]["files"])
        assert made.status_code == 201
        assert client.get(f"/api/pieces/{made.json()['id']}").status_code == 200
        r = client.post(f"/api/pieces/{made.json()['id']}/shares", json={"link": True})
        assert r.status_code == 400 and "--accounts" in r.json()["detail"]
        r = client.post("/api/auth/signup", json={"email": "a@example.org", "password": PASSWORD})
        assert r.status_code == 400 and "single-user" in r.json()["detail"]


# ----------------------------------------------------------------------------- the socket
def socket_app(app):
    """The app with a stand-in room route that runs the socket's access check, as the
    collaboration socket does when a client connects."""

    @app.websocket("/test-socket/{piece_id}")
    async def room(websocket: WebSocket, piece_id: str):
        await websocket.accept()  # then close with the code: a browser sees close codes, not a refused handshake
        try:
            access = socket_access(websocket, piece_id, app.state.studio.store)
        except AccessDenied as e:
            await websocket.close(code=e.close_code, reason=e.detail)
            return
        await websocket.send_json({"user_id": access.user_id, "name": access.name, "role": access.role})
        await websocket.close()
    return app


def test_socket_access(studio):
    from starlette.websockets import WebSocketDisconnect
    client, tokens = studio
    if not any(getattr(r, "path", "") == "/test-socket/{piece_id}" for r in client.app.routes):
        socket_app(client.app)
    piece_id, links, _ = shared_piece(client, tokens)
    roles = {}
    for who in ANYONE:
        kw = as_(tokens, who, links)
        url = f"/test-socket/{piece_id}" + (f"?share={kw['params']['share']}" if "params" in kw else "")
        try:
            with client.websocket_connect(url, headers=dict(kw.get("headers") or {})) as ws:
                roles[who] = ws.receive_json()["role"]
        except WebSocketDisconnect as e:
            roles[who] = e.code
    assert roles == {"anonymous": 4401, "revoked link": 4404, "live link": "viewer", "other": 4404,
                     "viewer": "viewer", "editor": "editor", "owner": "owner"}
    client.cookies.set("symphony_session", tokens["editor"])  # a browser's handshake carries the cookie
    try:
        with client.websocket_connect(f"/test-socket/{piece_id}") as ws:
            assert ws.receive_json()["name"] == "Editor"
    finally:
        client.cookies.clear()
    with client.websocket_connect("/test-socket/nosuchpiece", headers=dict(as_(tokens, "owner", links)["headers"])) as ws:
        with pytest.raises(WebSocketDisconnect) as gone:
            ws.receive_json()
    assert gone.value.code == 4404


def collab_socket_allows(client, url: str, headers: dict) -> str | int:
    """What the real collaboration socket lets a connection do: "edit" (its update is relayed
    back), "view" (its update is refused with 4403) or the close code it is turned away with."""
    from pycrdt import Doc, Map, create_update_message
    from starlette.websockets import WebSocketDisconnect
    doc = Doc()
    doc.get("matrix", type=Map)["probe"] = 1.0
    try:
        with client.websocket_connect(url, headers=headers) as ws:
            ws.receive_bytes()  # in: awareness or sync step 1
            ws.send_bytes(create_update_message(doc.get_update()))
            while ws.receive_bytes()[:2] != b"\x00\x02":  # until the update comes back
                pass
            return "edit"
    except WebSocketDisconnect as e:
        return "view" if e.code == 4403 else e.code


def test_the_collab_socket_matrix(studio):
    client, tokens = studio
    piece_id, links, _ = shared_piece(client, tokens)
    got = {}
    for who in ANYONE:
        kw = as_(tokens, who, links)
        url = f"/api/pieces/{piece_id}/collab" + (f"?share={kw['params']['share']}" if "params" in kw else "")
        got[who] = collab_socket_allows(client, url, dict(kw.get("headers") or {}))
    assert got == {"anonymous": 4401, "revoked link": 4404, "live link": "view", "other": 4404,
                   "viewer": "view", "editor": "edit", "owner": "edit"}


def test_serve_beyond_loopback_requires_accounts(tmp_path, tiny_checkpoint):
    """`symphony serve --host 0.0.0.0` (reachable by others) turns accounts on by itself."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SYMPHONY_ACCOUNTS": ""}
    server = subprocess.Popen([sys.executable, "-m", "symphony.cli", "serve", "--host", "0.0.0.0", "--port", str(port),
                               "--db", f"sqlite:///{tmp_path / 'studio.db'}", "--checkpoint", str(tiny_checkpoint[0])],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        health = None
        for _ in range(600):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health").json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None, server.stderr.read() if server.poll() is not None else "no answer"
        assert health["accounts"] is True
        assert httpx.get(f"http://127.0.0.1:{port}/api/pieces").status_code == 401
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("kept", ["in the process", "in the database"])
def test_a_rate_limit_frees_a_slot_when_the_oldest_hit_leaves_its_window(kept, tmp_path):
    from symphony.server.ratelimit import RateLimit, StoredRateLimit
    from symphony.server.store import Store
    now = [100.0]
    if kept == "in the process":
        limit = RateLimit(2, 60, clock=lambda: now[0])
    else:
        limit = StoredRateLimit(Store(f"sqlite:///{tmp_path / 'studio.db'}"), "test", 2, 60, clock=lambda: now[0])
    assert limit.take("ana") == 0
    now[0] += 10
    assert limit.take("ana") == 0
    assert limit.take("ana") == 50 and limit.retry_after("ana") == 50  # the first hit leaves at 160
    assert limit.take("ben") == 0  # each key has its own window
    now[0] = 160.5
    assert limit.take("ana") == 0
    limit.clear("ana")
    assert limit.retry_after("ana") == 0


def test_socket_access_over_a_real_websocket(tmp_path, tiny_checkpoint):
    """The same check on a real handshake: uvicorn on 127.0.0.1, the browser's session cookie or
    a share link, and the `websockets` client."""
    import httpx
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from .conftest import serve_live
    app = socket_app(create_app(settings_for(tmp_path, tiny_checkpoint), preload=False))
    for base in serve_live(app):
        with httpx.Client(base_url=base) as http:
            tokens = {}
            for name in ("owner", "editor", "other"):
                http.cookies.clear()
                tokens[name] = http.post("/api/auth/signup", json={"email": f"{name}@example.org", "password": PASSWORD,
                                                                   "name": name.title()}).json()["access_token"]
            http.cookies.clear()
            owner = {"Authorization": f"Bearer {tokens['owner']}"}
            piece_id = http.post("/api/pieces/upload", files=BODIES["/api/pieces/upload"]["files"], headers=owner).json()["id"]
            http.post(f"/api/pieces/{piece_id}/shares", json={"email": "editor@example.org", "role": "editor"}, headers=owner)
            link = http.post(f"/api/pieces/{piece_id}/shares", json={"link": True}, headers=owner).json()["link"]
            editor_id = http.get("/api/me", headers={"Authorization": f"Bearer {tokens['editor']}"}).json()["id"]
        ws = base.replace("http://", "ws://") + f"/test-socket/{piece_id}"
        with connect(ws, additional_headers={"Cookie": f"symphony_session={tokens['editor']}"}) as conn:
            assert json.loads(conn.recv(timeout=10)) == {"user_id": editor_id, "name": "Editor", "role": "editor"}
        with connect(f"{ws}?share={link}") as conn:
            assert json.loads(conn.recv(timeout=10)) == {"user_id": None, "name": "guest", "role": "viewer"}
        for headers, code in (({}, 4401), ({"Cookie": f"symphony_session={tokens['other']}"}, 4404)):
            with connect(ws, additional_headers=headers) as conn:
                with pytest.raises(ConnectionClosed) as closed:
                    conn.recv(timeout=10)
            assert closed.value.rcvd.code == code


def test_pieces_made_without_accounts_are_claimed_by_one_account(tmp_path, tiny_checkpoint, capsys):
    from symphony.cli import main
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    upload = BODIES["/api/pieces/upload"]

    def claim(email: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as e:
            main(["accounts", "claim", email, "--db", url])
        out = capsys.readouterr()
        return e.value.code, out.out.strip(), out.err.strip()
    with TestClient(create_app(settings_for(tmp_path, tiny_checkpoint, url, accounts=False), preload=False)) as alone:
        made = [alone.post("/api/pieces/upload", files=upload["files"]).json()["id"] for _ in range(2)]
    with TestClient(create_app(settings_for(tmp_path, tiny_checkpoint, url), preload=False)) as client:
        ana, ben = ({"Authorization": f"Bearer {sign_up(client, n)}"} for n in ("ana", "ben"))
        bens = client.post("/api/pieces/upload", files=upload["files"], headers=ben).json()["id"]
        assert client.get(f"/api/pieces/{made[0]}", headers=ana).status_code == 404  # no one's yet
        code, _, err = claim("nobody@example.org")
        assert code == 2 and len(err.splitlines()) == 1 and "no account with nobody@example.org" in err, err

        assert claim("Ana@Example.org") == (0, "2 pieces without an owner now belong to ana@example.org", "")
        assert all(client.get(f"/api/pieces/{p}", headers=ana).status_code == 200 for p in made)
        assert {p["id"]: p["role"] for p in client.get("/api/pieces", headers=ana).json()} == dict.fromkeys(made, "owner")
        assert client.get(f"/api/pieces/{bens}", headers=ana).status_code == 404  # ben's stays ben's
        assert claim("ben@example.org")[:2] == (0, "0 pieces without an owner now belong to ben@example.org")
        assert client.get(f"/api/pieces/{made[0]}", headers=ben).status_code == 404


def test_a_stored_rate_limit_forgets_expired_hits_of_every_key(tmp_path):
    from symphony.server.ratelimit import RateHitRow, StoredRateLimit
    from symphony.server.store import Store
    store, now = Store(f"sqlite:///{tmp_path / 'studio.db'}"), [100.0]
    limit, other = (StoredRateLimit(store, scope, 2, 60, clock=lambda: now[0]) for scope in ("test", "other"))
    for key in ("ana", "ben", "cleo"):
        limit.hit(key)
    other.hit("ana")
    now[0] += 61
    assert limit.take("dan") == 0  # ana, ben and cleo's hits left the window: they go, the other limit's stay
    with store.sessions() as s:
        assert sorted(s.query(RateHitRow.key).all()) == [("other:ana",), ("test:dan",)]
    store.close()
