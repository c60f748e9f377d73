"""Who may do what, checked on every request and every socket.

Who asks: the user of a sign-in session (a bearer token in ``Authorization``, or the browser's
HttpOnly cookie) and/or a share link's token (``?share=TOKEN`` or the ``X-Symphony-Share``
header). What they may do on a piece is the highest role those give them:

| role | may |
|---|---|
| viewer | read the piece, its versions and exports; open its socket read-only |
| editor | and change it: edits, note changes, restore, the socket read-write |
| owner | and delete it, and share it (list, add, revoke shares) |

A piece with no role for you does not exist for you (404); a role too low is 403; no one signed
in, where accounts are required, is 401. In single-user mode (``ServerSettings.accounts`` off, the
default on 127.0.0.1) everyone is the owner of everything.

The piece routers carry ``check`` as a dependency, so a new route under ``/api/pieces`` is
checked without asking: GET and HEAD need a viewer, any other method an editor, the shares routes
and deleting a piece the owner (``needed_role``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

from symphony.server import accounts
from symphony.server.accounts import ROLES, Role, User
from symphony.server.store import NotFound, Store

COOKIE = "symphony_session"
SHARE_HEADER = "x-symphony-share"
SHARE_QUERY = "share"
LOCAL_NAME = "you"  # the one user of single-user mode


@dataclass(frozen=True)
class Access:
    """Who is asking about a piece, and their role on it. ``user_id`` None: single-user mode,
    or a guest with a share link."""
    user_id: str | None
    name: str
    role: Role

    def may(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


class AccessDenied(Exception):
    """Not allowed: ``status`` 401 (sign in first), 403 (role too low) or 404 (not yours to see);
    ``close_code`` is the WebSocket close code for the same answer (4401, 4403, 4404)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail

    @property
    def close_code(self) -> int:
        return 4000 + self.status


# ---------------------------------------------------------------------- who asks
def session_token(conn: HTTPConnection) -> str | None:
    """The bearer token, or else the session cookie."""
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return conn.cookies.get(COOKIE)


def share_token(conn: HTTPConnection) -> str | None:
    return conn.headers.get(SHARE_HEADER) or conn.query_params.get(SHARE_QUERY) or None


def current_user(conn: HTTPConnection, store: Store) -> User | None:
    """The signed-in user of this request (looked up once per request)."""
    if not hasattr(conn.state, "user"):
        conn.state.user = accounts.session_user(store, session_token(conn))
    return conn.state.user


def accounts_required(conn: HTTPConnection) -> bool:
    return bool(conn.app.state.studio.settings.accounts)


def client_key(conn: HTTPConnection, store: Store) -> str:
    """Whose share of jobs and generations a request counts against: the user, else the share
    link, else the address it comes from."""
    user = current_user(conn, store) if accounts_required(conn) else None
    if user is not None:
        return f"user:{user.id}"
    link = share_token(conn)
    if link and accounts_required(conn):
        return f"link:{link}"
    return conn.client.host if conn.client else "unknown"


# ---------------------------------------------------------------------- what they may do
def piece_access(conn: HTTPConnection, store: Store, piece_id: str, need: Role) -> Access:
    """The asker's Access to the piece, or AccessDenied."""
    if not accounts_required(conn):
        return Access(None, LOCAL_NAME, "owner")
    user, link = current_user(conn, store), share_token(conn)
    if user is None and not link:
        raise AccessDenied(401, "sign in to open this piece")
    role = accounts.role_of(store, piece_id, user.id if user else None, link)
    if role is None:
        raise AccessDenied(404, f"no piece {piece_id!r}")  # the same answer as for a piece that does not exist
    access = Access(user.id if user else None, user.name if user else "guest", role)
    if not access.may(need):
        raise AccessDenied(403, "only the piece's owner may do that" if need == "owner" else
                           "you may only view this piece; ask its owner to make you an editor")
    return access


def needed_role(method: str, route_path: str) -> Role:
    """The role a piece route needs (see the module's table)."""
    if "/shares" in route_path or (method == "DELETE" and route_path.rstrip("/").endswith("{piece_id}")):
        return "owner"
    return "viewer" if method in ("GET", "HEAD") else "editor"


def signed_in(conn: HTTPConnection, store: Store) -> Access:
    """A request that needs an account (sign out, GET /api/me, new pieces, the piece list)."""
    if not accounts_required(conn):
        return Access(None, LOCAL_NAME, "owner")
    user = current_user(conn, store)
    if user is None:
        raise AccessDenied(401, "sign in first")
    return Access(user.id, user.name, "owner")


def _http(e: AccessDenied) -> HTTPException:
    headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
    return HTTPException(e.status, e.detail, headers=headers)


def check(request: Request) -> Access:
    """The piece routers' dependency: the asker's Access, for the route's piece (its role
    checked) or, on routes without one, as a signed-in user. Routes read it as ``AccessDep``."""
    store = request.app.state.studio.store
    route = request.scope.get("route")
    piece_id = request.path_params.get("piece_id")
    try:
        if piece_id is None:
            return signed_in(request, store)
        return piece_access(request, store, piece_id, needed_role(request.method, getattr(route, "path", "")))
    except AccessDenied as e:
        raise _http(e) from None


def user_dep(request: Request) -> Access:
    try:
        return signed_in(request, request.app.state.studio.store)
    except AccessDenied as e:
        raise _http(e) from None


AccessDep = Annotated[Access, Depends(check)]
UserDep = Annotated[Access, Depends(user_dep)]


# ---------------------------------------------------------------------- the collaboration socket
def socket_access(websocket, piece_id: str, store: Store) -> Access:
    """The Access of a WebSocket to the piece's room, checked before it is accepted: the session
    cookie (or a bearer ``Authorization`` header) and/or ``?share=TOKEN``. Raises AccessDenied:
    close the socket with ``e.close_code`` (4401 sign in, 4404 not shared or no such piece).
    A viewer may connect; the socket must then refuse its updates (``access.may("editor")``)."""
    if accounts_required(websocket):
        return piece_access(websocket, store, piece_id, "viewer")
    try:
        store.version_of(piece_id)
    except NotFound:
        raise AccessDenied(404, f"no piece {piece_id!r}") from None
    return Access(None, LOCAL_NAME, "owner")
