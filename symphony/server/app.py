"""The studio's web application: ``create_app(settings)`` builds it (the API under /api, the
OpenAPI document at /openapi.json, interactive docs at /docs, the built studio at /)."""
from __future__ import annotations

import dataclasses
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from symphony.server import access, accounts, http_errors
from symphony.server.config import ServerSettings
from symphony.server.collab import Collab
from symphony.server.ratelimit import StoredRateLimit
from symphony.server.routes import auth, collab, meta, pieces, shares, versions
from symphony.server.service import Studio

BODY_MARGIN = 2**20  # room for the multipart envelope and large JSON note lists
NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Symphony</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Symphony</h1>
<p>The server is running, but the studio (the browser app) has not been built.</p>
<p>Build it once with <code>cd studio && npm ci && npm run build</code> (it writes
<code>symphony/server/static/</code>), then reload this page.</p>
<p>The HTTP API works without it: see <a href="/docs">/docs</a>.</p>
</body></html>"""


def create_app(settings: ServerSettings | None = None, *, preload: bool = True) -> FastAPI:
    """The application. ``preload`` loads the model when the server starts, so that the first
    request does not wait for it."""
    settings = settings or ServerSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        studio = Studio(settings)
        app.state.studio = studio
        # in the database: every server process on it counts the same hits
        app.state.generations = StoredRateLimit(studio.store, "generate", settings.generations_per_minute, 60)
        app.state.sign_in_failures = (
            StoredRateLimit(studio.store, "sign-in", settings.sign_in_failures, settings.sign_in_window_s),  # per email
            StoredRateLimit(studio.store, "sign-in-from", 4 * settings.sign_in_failures, settings.sign_in_window_s))
        if preload:
            import anyio
            await anyio.to_thread.run_sync(lambda: studio.engine)
        try:
            async with Collab(studio.store) as app.state.collab:
                yield
        finally:
            studio.close()

    app = FastAPI(title="Symphony", version="1", lifespan=lifespan,
                  description="Compose and edit music: the HTTP API of the Symphony studio. Attribute names are "
                              "the `symphony` CLI's; every error is JSON {\"detail\": \"one clear sentence\"}.")
    http_errors.install(app, settings.retry_after_s)
    app.add_middleware(http_errors.BodyLimit, limit=settings.max_upload_bytes + BODY_MARGIN)
    for r in (meta.router, auth.router, collab.router):  # the socket checks its own access (socket_access)
        app.include_router(r)
    for r in (pieces.router, versions.router, shares.router):  # every piece route checks the asker's role
        app.include_router(r, dependencies=[Depends(access.check)])
    _studio_files(app, Path(settings.static_dir))
    return app


def _studio_files(app: FastAPI, static: Path) -> None:
    """The built studio: index.html at / and its assets under /assets; a note on how to build
    it when it is not there (checked on every request, so a build appears without a restart)."""
    index = static / "index.html"
    assets = static / "assets"
    if assets.is_dir():
        app.mount("/assets", StaticFiles(directory=assets), name="assets")

    @app.get("/", include_in_schema=False)
    def studio_page():
        if index.is_file():
            return FileResponse(index, media_type="text/html")
        return HTMLResponse(NOT_BUILT)


def serve(settings: ServerSettings, host: str, port: int, announce=print) -> None:
    """Run the app with uvicorn (``symphony serve``); a port in use is one clear error."""
    import socket

    import uvicorn

    from symphony.errors import RequestError
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as e:
            raise RequestError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port") from None
    if not is_loopback(host):
        settings = dataclasses.replace(settings, accounts=True)  # others can reach it: accounts required
    store = open_store(settings.database_url)
    unclaimed = accounts.ownerless(store) if settings.accounts else 0
    store.close()
    from symphony.tasks.engine import Engine
    Engine.load(settings.checkpoint)  # a bad checkpoint is one clear error now, not a traceback later
    announce(f"http://{host}:{port}/", "accounts required" if settings.accounts else "single-user: no accounts")
    if unclaimed:
        pieces = "1 piece made without accounts belongs" if unclaimed == 1 else \
            f"{unclaimed} pieces made without accounts belong"
        print(f"{pieces} to no one yet: sign up, then run `symphony accounts claim EMAIL` to make them yours",
              file=sys.stderr)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` (127.0.0.1, ::1, localhost)."""
    import ipaddress
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: others may reach it
        return False


def open_store(url: str):
    """The Store on ``url``, or one clear error (RequestError) when it cannot be opened."""
    from symphony.errors import RequestError
    from symphony.server.store import Store
    try:
        return Store(url)
    except Exception as e:  # SQLAlchemy raises many kinds: a bad URL, a missing driver, no server
        reason = " ".join(str(e).split())[:200]
        raise RequestError(f"cannot open the database {url!r}: {reason}") from None
