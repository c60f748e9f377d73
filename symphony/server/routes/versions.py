"""Changes to a saved piece, each saved as its next version: edits by the engine (infill,
continue, harmonize, vary, restyle, transform), the studio's manual note changes, restoring an
earlier version. And the history: the version list in words, named versions, the diff between
any two versions."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from symphony.server import history
from symphony.server.access import AccessDep
from symphony.server.deps import ClientDep, StudioDep
from symphony.server.routes.pieces import ERRORS, JOB_ERRORS
from symphony.server.schemas import DiffOut, EditBody, NameBody, NotesBody, Piece, VersionOut
from symphony.server.store import VERSION_PAGE
from symphony.server.streaming import stream, wait, wants_stream

router = APIRouter(prefix="/api/pieces/{piece_id}", tags=["versions"])
MAX_PAGE = 500


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
def list_versions(piece_id: str, studio: StudioDep, response: Response,
                  limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = VERSION_PAGE,
                  before: Annotated[int | None, Query(ge=1, description="only versions older than this one")] = None):
    """The latest `limit` versions (older than `before`), the oldest first, each with who, when
    and what in words: {version, author, op, created, name, what, text: "Ana regenerated bars
    5-8 (infill)"}. When older versions exist, the `Link` header's rel="next" fetches them."""
    rows, more = history.page(studio.store, piece_id, limit, before)
    if more:
        response.headers["Link"] = f'</api/pieces/{piece_id}/versions?before={rows[0]["version"]}&limit={limit}>; rel="next"'
    return rows


@router.post("/versions", response_model=VersionOut, responses=ERRORS)
def name_version(piece_id: str, body: NameBody, studio: StudioDep, access: AccessDep):
    """Name the piece's current state: its latest version (naming it again renames it), or, when
    live edits changed the piece since, a new version of it."""
    return history.name_current(studio.store, piece_id, " ".join(body.name.split()), access.user_id)


@router.get("/versions/{version}", response_model=Piece, responses=ERRORS)
def get_version(piece_id: str, version: int, studio: StudioDep):
    """The piece as it was at that version (to compare or preview before restoring)."""
    return studio.at_version(piece_id, version)


@router.post("/versions/{version}/restore", response_model=Piece, responses=ERRORS)
def restore_version(piece_id: str, version: int, studio: StudioDep, access: AccessDep):
    """Make an earlier version the current one, saved as a new version: the later versions stay,
    and the notes come back with their ids."""
    return studio.restore(piece_id, version, access.user_id)


@router.get("/diff", response_model=DiffOut, responses=ERRORS)
def diff_versions(piece_id: str, studio: StudioDep,
                  from_: Annotated[int | None, Query(alias="from", ge=1, description="default: the version before `to`")] = None,
                  to: Annotated[int | None, Query(ge=1, description="default: the current version")] = None):
    """What changed from version `from` to version `to` (by default: what the latest change did):
    attributes (title, key, meter, tempo, bars, style), parts, and bar by bar the notes added,
    removed and changed, in words ("bar 5: F#5 quarter -> G5 eighth; added E5 eighth") and as data."""
    to = to or studio.store.version_of(piece_id)
    return history.between(studio.store, piece_id, from_ or max(1, to - 1), to)
