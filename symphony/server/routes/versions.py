"""Changes to a saved piece, each saved as its next version: edits by the engine (infill,
continue, harmonize, vary, restyle, transform), the studio's manual note changes, restoring an
earlier version; and the version list."""
from __future__ import annotations

from fastapi import APIRouter, Request

from symphony.server.access import AccessDep
from symphony.server.deps import ClientDep, StudioDep
from symphony.server.routes.pieces import ERRORS, JOB_ERRORS
from symphony.server.schemas import EditBody, NotesBody, Piece, VersionOut
from symphony.server.streaming import stream, wait, wants_stream

router = APIRouter(prefix="/api/pieces/{piece_id}", tags=["versions"])


@router.post("/edits", response_model=Piece, responses=JOB_ERRORS)
async def edit_piece(piece_id: str, body: EditBody, request: Request, studio: StudioDep, client: ClientDep,
                     access: AccessDep):
    """Run an edit (`symphony edit <op>`'s options; `bars` "5-8" for infill, a count for continue;
    `part` from 1) and save the result as the next version. With `Accept: text/event-stream`:
    `progress` {done, total} events, then `done` {piece} or `error` {detail, status}."""
    studio.store.version_of(piece_id)  # 404 before queueing
    values = body.model_dump(by_alias=True)

    def work(job):
        return studio.edit(piece_id, values, job, access.user_id)
    if wants_stream(request):
        return stream(lambda on_event: studio.jobs.submit(client, work, on_event), studio.settings.retry_after_s)
    return await wait(request, studio.jobs.submit(client, work), 200, studio.settings.retry_after_s)


@router.put("/notes", response_model=Piece, responses=ERRORS)
def replace_notes(piece_id: str, body: NotesBody, studio: StudioDep, access: AccessDep):
    """Save the studio's manual edits as the next version: every part with all its notes as the
    user left them. A note that keeps its `id` is the same note (moved, resized...); a note
    without one is new; a note left out is deleted. Bars grow to hold every note."""
    parts = [p.model_dump(exclude_none=True) for p in body.parts]
    return studio.replace_notes(piece_id, parts, body.title, access.user_id)


@router.get("/versions", response_model=list[VersionOut], responses=ERRORS)
def list_versions(piece_id: str, studio: StudioDep):
    """Every version of the piece, the first first: [{version, author, op, created}]."""
    return studio.store.versions(piece_id)


@router.get("/versions/{version}", response_model=Piece, responses=ERRORS)
def get_version(piece_id: str, version: int, studio: StudioDep):
    """The piece as it was at that version (to compare or preview before restoring)."""
    return studio.at_version(piece_id, version)


@router.post("/versions/{version}/restore", response_model=Piece, responses=ERRORS)
def restore_version(piece_id: str, version: int, studio: StudioDep, access: AccessDep):
    """Make an earlier version the current one (saved as a new version: nothing is lost)."""
    return studio.restore(piece_id, version, access.user_id)
