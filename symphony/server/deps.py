"""Dependencies of the routes, as ``Annotated`` aliases."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from symphony.server.service import Studio


def get_studio(request: Request) -> Studio:
    return request.app.state.studio


def get_client(request: Request) -> str:
    """Who asks, for the per-client job limit (accounts, next, will name users instead)."""
    return request.client.host if request.client else "unknown"


def get_author(request: Request) -> str | None:
    """Who makes a change, by name, as the version history shows it (None in single-user mode;
    accounts name the signed-in user)."""
    return None


StudioDep = Annotated[Studio, Depends(get_studio)]
ClientDep = Annotated[str, Depends(get_client)]
AuthorDep = Annotated[str | None, Depends(get_author)]
