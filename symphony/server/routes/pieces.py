"""Pieces: compose (JSON, or streamed as Server-Sent Events), upload a file, list, read, delete,
export."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response

from symphony.server import accounts
from symphony.server.access import AccessDep
from symphony.server.deps import ClientDep, StudioDep
from symphony.server.http_errors import TooLarge
from symphony.server.schemas import ComposeBody, ErrorOut, Piece, PieceSummary
from symphony.server.service import MEDIA
from symphony.server.streaming import stream, wait, wants_stream
from symphony.tasks.api import Options

router = APIRouter(prefix="/api/pieces", tags=["pieces"])
ERRORS = {400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
JOB_ERRORS = {**ERRORS, 429: {"model": ErrorOut}, 503: {"model": ErrorOut}}
SSE_DOC = {"text/event-stream": {"schema": {
    "type": "string", "description": "with `Accept: text/event-stream`: events `attributes` {key, meter, tempo, bars} "
    "first (the grid), `note` {part, pitch, onset, duration} "
    "bar by bar as they are sampled, `restart` (drop the notes so far: the piece is drawn again), then `done` "
    "{piece} or `error` {detail, status}"}}}


@router.post("", status_code=201, response_model=Piece, responses={**JOB_ERRORS, 201: {"content": SSE_DOC}})
async def create_piece(body: ComposeBody, request: Request, studio: StudioDep, client: ClientDep, access: AccessDep):
    """Compose a new piece (the same names as `symphony generate`'s flags) and save it as version 1.
    Send `Accept: text/event-stream` to watch its notes arrive bar by bar; the finished piece is
    the same as without streaming. A client that disconnects cancels the job; nothing is saved."""
    fields = body.model_dump()
    media = {name: fields.pop(name) for name in MEDIA}
    studio.check_options(Options(**fields))
    files = studio.media_files(media)  # a folder with the decoded picture and melody, removed after the job
    options = Options(**fields, **files.paths)

    def submit(on_event=None):
        try:
            return studio.jobs.submit(client, files.around(lambda job: studio.compose(options, job, access.user_id)),
                                      on_event)
        except BaseException:  # refused (a full queue): the files go now
            files.remove()
            raise
    if wants_stream(request):
        return stream(submit, studio.settings.retry_after_s)
    job = submit()
    return await wait(request, job, 201, studio.settings.retry_after_s)


@router.post("/upload", status_code=201, response_model=Piece,
             responses={**ERRORS, 413: {"model": ErrorOut}, 415: {"model": ErrorOut}})
def upload_piece(studio: StudioDep, access: AccessDep, file: UploadFile = File(..., description="MIDI, MusicXML (.musicxml, .xml, .mxl) or ABC")):
    """A new piece from a score file (the server's max_upload_bytes at most)."""
    limit = studio.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{file.filename or 'the file'} is larger than the upload limit of "
                       f"{limit / 2**20:g} MB")
    return studio.upload(data, file.filename or "upload", access.user_id)


@router.get("", response_model=list[PieceSummary])
def list_pieces(studio: StudioDep, access: AccessDep):
    """The pieces you may open (with accounts: yours and those shared with you, with your `role`),
    the last changed first."""
    if access.user_id is None:  # single-user mode: every piece is yours
        return studio.store.list()
    return accounts.visible_pieces(studio.store, access.user_id)


@router.get("/{piece_id}", response_model=Piece, responses=ERRORS)
def get_piece(piece_id: str, studio: StudioDep):
    """The piece with all its notes (encoded once per version)."""
    return Response(studio.piece_json(piece_id), media_type="application/json")


@router.delete("/{piece_id}", status_code=204, responses=ERRORS)
def delete_piece(piece_id: str, studio: StudioDep):
    studio.store.delete(piece_id)
    return Response(status_code=204)


@router.get("/{piece_id}/export/{fmt}", responses={**ERRORS, 200: {"content": {
    "audio/midi": {}, "application/vnd.recordare.musicxml+xml": {}, "audio/wav": {}, "image/svg+xml": {},
    "application/pdf": {}}}})
def export_piece(piece_id: str, fmt: Literal["mid", "musicxml", "wav", "svg", "pdf"], studio: StudioDep,
                 v: Annotated[int | None, Query(ge=1, description="a version of the piece (default: the current one)")] = None):
    """The piece as a file: MIDI, MusicXML, WAV (General MIDI SoundFont), SVG (one tall page) or PDF (A4)."""
    data, media, name = studio.export(piece_id, fmt, v)
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
