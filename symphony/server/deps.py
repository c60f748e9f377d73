"""Dependencies of the routes, as ``Annotated`` aliases."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from symphony.server.access import accounts_required, client_key
from symphony.server.service import Studio


def get_studio(request: Request) -> Studio:
    return request.app.state.studio


def get_client(request: Request) -> str:
    """Who starts a job, for the per-client job limit: the signed-in user (or share link; without
    accounts, the address). With accounts, one user's generations per minute are limited too (429)."""
    key = client_key(request, request.app.state.studio.store)
    if accounts_required(request):
        wait = request.app.state.generations.take(key)
        if wait:
            raise HTTPException(429, f"you have started {request.app.state.generations.limit} jobs in the last "
                                     f"minute; try again in {wait} s", headers={"Retry-After": str(wait)})
    return key


StudioDep = Annotated[Studio, Depends(get_studio)]
ClientDep = Annotated[str, Depends(get_client)]
