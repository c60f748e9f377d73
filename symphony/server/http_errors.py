"""Domain errors -> HTTP answers, in one place: every error is JSON {"detail": "one sentence"}.

| error | status |
|---|---|
| malformed JSON, a field of the wrong type or out of range, an unknown field | 400 / 422 |
| an impossible request (unknown style or key, bars over the limit), a corrupt file | 400 |
| no such piece or version | 404 |
| the job was cancelled | 409 |
| an upload over the size limit | 413 |
| an upload that is not MIDI, MusicXML or ABC | 415 |
| this client already has its share of jobs | 429 (Retry-After) |
| every worker busy and the queue full | 503 (Retry-After) |
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from symphony.errors import Cancelled, CheckpointError, SymphonyError
from symphony.server.jobs import Busy, TooManyJobs
from symphony.server.service import UnsupportedFile
from symphony.server.store import NotFound


class TooLarge(Exception):
    """An upload over the size limit."""


class BodyLimit:
    """Refuse a request whose declared body is over ``limit`` bytes (413) before any of it is
    read, so an oversized upload is never spooled to disk."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.limit:
                response = JSONResponse({"detail": f"the request body is larger than this server's limit of "
                                                   f"{self.limit / 2**20:.1f} MB"}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def answer(exc: BaseException, retry_after: int = 5) -> tuple[int, str, dict]:
    """(status, detail, headers) for an error raised by the studio."""
    if isinstance(exc, NotFound):
        return 404, str(exc).strip("'\""), {}
    if isinstance(exc, Busy):
        return 503, "the server is busy composing; try again shortly", {"Retry-After": str(retry_after)}
    if isinstance(exc, TooManyJobs):
        return 429, "you already have as many jobs running as this server allows; wait for one to finish", \
            {"Retry-After": str(retry_after)}
    if isinstance(exc, TooLarge):
        return 413, str(exc), {}
    if isinstance(exc, UnsupportedFile):
        return 415, str(exc), {}
    if isinstance(exc, Cancelled):
        return 409, "the job was cancelled", {}
    if isinstance(exc, CheckpointError):
        return 500, str(exc), {}
    if isinstance(exc, SymphonyError):
        return (500 if type(exc).__name__ == "RenderError" else 400), " ".join(str(exc).split()), {}
    return 500, f"internal error ({type(exc).__name__}); the server log has the details", {}


def validation_detail(exc: RequestValidationError) -> tuple[int, str]:
    """FastAPI's list of validation errors as one sentence (the first error; malformed JSON: 400)."""
    errors = exc.errors()
    if not errors:
        return 422, "invalid request"
    e = errors[0]
    if e.get("type") == "json_invalid":
        return 400, "the request body is not valid JSON"
    loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path")]
    where = ".".join(loc)
    msg = e.get("msg", "invalid value")
    if e.get("type") == "extra_forbidden":
        return 422, f"unknown field {where!r}"
    if e.get("type") == "missing":
        return 422, f"{where or 'the request body'} is required"
    if e.get("type") == "model_attributes_type" or (not where and e.get("type", "").endswith("_type")):
        return 400, "the request body must be a JSON object"
    return 422, f"{where}: {msg[:1].lower() + msg[1:]}" if where else msg


def install(app: FastAPI, retry_after: int) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        status, detail = validation_detail(exc)
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such page or API route"
        if exc.status_code == 405:
            detail = "this route does not take that method"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    for kind in (SymphonyError, NotFound, Busy, TooManyJobs, TooLarge):
        @app.exception_handler(kind)
        async def _domain(_request: Request, exc: Exception):
            status, detail, headers = answer(exc, retry_after)
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
