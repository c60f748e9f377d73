"""Shares of a piece (its owner only): with another user by email, or by a link whose token
opens the piece for whoever has it; each with a role, editor or viewer; revocable at once. And
what you may do with a piece (GET .../access), for the studio to show or hide its tools."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import Field, model_validator

from symphony.server import accounts
from symphony.server.access import AccessDep, SHARE_QUERY, accounts_required
from symphony.server.deps import StudioDep
from symphony.server.schemas import ErrorOut, Strict

router = APIRouter(prefix="/api/pieces/{piece_id}", tags=["shares"])
ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut},
          422: {"model": ErrorOut}}


class ShareBody(Strict):
    """Share with a user (``email``) or by a link (``link: true``), as an editor or a viewer."""
    email: str | None = Field(None, max_length=accounts.MAX_EMAIL, examples=["ben@example.org"])
    link: bool = False
    role: Literal["editor", "viewer"] = "viewer"

    @model_validator(mode="after")
    def one_way(self):
        if (self.email is None) == (not self.link):
            raise ValueError("give either an email or link: true")
        return self


def _need_accounts(request: Request) -> None:
    if not accounts_required(request):
        raise HTTPException(400, "sharing needs accounts; start the server with `symphony serve --accounts`")


def _with_url(share: dict, piece_id: str) -> dict:
    if share.get("link"):
        share["url"] = f"/?{SHARE_QUERY}={share['link']}#/piece/{piece_id}"  # the studio opens it
    return share


@router.get("/access", responses=ERRORS)
def my_access(piece_id: str, access: AccessDep):
    """Your role on the piece {role: owner | editor | viewer, user_id, name} (in single-user mode: owner)."""
    return {"role": access.role, "user_id": access.user_id, "name": access.name}


@router.get("/shares", responses=ERRORS)
def list_shares(piece_id: str, request: Request, studio: StudioDep, access: AccessDep):
    """Who the piece is shared with: [{id, role, created, email and name | link and url}]."""
    _need_accounts(request)
    return [_with_url(s, piece_id) for s in accounts.shares(studio.store, piece_id)]


@router.post("/shares", status_code=201, responses=ERRORS)
def add_share(piece_id: str, body: ShareBody, request: Request, studio: StudioDep, access: AccessDep):
    """Share the piece. With an email already shared with, the role changes."""
    _need_accounts(request)
    try:
        return _with_url(accounts.share(studio.store, piece_id, body.role, body.email), piece_id)
    except (accounts.ShareError, accounts.AccountError) as e:
        raise HTTPException(422, str(e)) from None


@router.delete("/shares/{share_id}", status_code=204, responses=ERRORS)
def revoke_share(piece_id: str, share_id: str, request: Request, studio: StudioDep, access: AccessDep):
    """Revoke a share: its user or link loses access at once."""
    _need_accounts(request)
    if not accounts.unshare(studio.store, piece_id, share_id):
        raise HTTPException(404, f"this piece has no share {share_id!r}")
    return Response(status_code=204)
