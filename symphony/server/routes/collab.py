"""The co-editing socket: the y-websocket protocol for one piece (``symphony.server.collab``)."""
from __future__ import annotations

from fastapi import APIRouter, WebSocket

router = APIRouter(prefix="/api/pieces/{piece_id}", tags=["collab"])


@router.websocket("/collab")
async def collab_socket(websocket: WebSocket, piece_id: str):
    """Yjs sync and awareness for everyone editing the piece; see docs/server.md, "Editing together"."""
    await websocket.app.state.collab.serve(websocket, piece_id)
