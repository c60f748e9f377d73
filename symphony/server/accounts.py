"""Accounts, sign-in sessions and shares, without HTTP (the routes in ``routes/auth.py`` and
``routes/shares.py`` and the checks in ``access.py`` call these).

- A user signs up with an email, a display name and a password; the password is kept only as an
  argon2 hash (pwdlib).
- Signing in makes a session: a random token handed to the client (an HttpOnly cookie for the
  browser, a bearer token for API clients); the database keeps only its SHA-256, so a stolen
  database holds no usable token. Signing out deletes the session: the token stops working at once.
- A piece has one owner (``pieces.owner``, a user id). The owner shares it with another user by
  email, or by a link (a random token in the URL), as an editor or a viewer. Deleting a share
  revokes it at once."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from symphony.server.store import Base, PieceRow, Store, iso, now

Role = Literal["owner", "editor", "viewer"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "owner")  # each may do what the ones before it may
SHARE_ROLES = ("editor", "viewer")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_NAME = 80
MAX_EMAIL = 254
SESSION_DAYS = 30
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL), unique=True)  # lower case
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    password_hash: Mapped[str] = mapped_column(String(200))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token, hex
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ShareRow(Base):
    __tablename__ = "shares"
    __table_args__ = (UniqueConstraint("piece_id", "user_id"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    piece_id: Mapped[str] = mapped_column(String(32), ForeignKey("pieces.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"),
                                                nullable=True, index=True)  # a share with a user ...
    link: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)  # ... or by a link token
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AccountError(ValueError):
    """Bad sign-up input: a malformed email, a short password (the routes answer 422)."""


class EmailTaken(AccountError):
    """An account already uses this email (409)."""


class BadCredentials(Exception):
    """No account with this email and password (401)."""


class ShareError(ValueError):
    """A share that cannot be made: no such user, sharing with the owner (422)."""


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str

    def json(self) -> dict:
        return {"id": self.id, "email": self.email, "name": self.name}


def _user(row: UserRow) -> User:
    return User(row.id, row.email, row.name)


@lru_cache(maxsize=1)
def hasher():
    from pwdlib import PasswordHash
    return PasswordHash.recommended()  # argon2id with the library's current parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.timezone.utc)  # SQLite gives naive datetimes


# ---------------------------------------------------------------------- users and sessions
def normal_email(email: str) -> str:
    e = (email or "").strip().lower()
    if len(e) > MAX_EMAIL or not EMAIL.match(e):
        raise AccountError(f"{email!r} is not an email address (like ana@example.org)")
    return e


def sign_up(store: Store, email: str, password: str, name: str | None = None) -> User:
    email = normal_email(email)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")
    name = " ".join((name or email.split("@")[0]).split())
    if not name or len(name) > MAX_NAME:
        raise AccountError(f"the name must have 1 to {MAX_NAME} characters")
    row = UserRow(id=uuid.uuid4().hex, email=email, name=name, password_hash=hasher().hash(password), created=now())
    try:
        with store.sessions.begin() as s:
            s.add(row)
    except IntegrityError:
        raise EmailTaken(f"an account with {email} already exists; sign in instead") from None
    return _user(row)


def authenticate(store: Store, email: str, password: str) -> User:
    """The user with this email and password, or BadCredentials (the same time either way)."""
    with store.sessions() as s:
        row = s.scalar(select(UserRow).where(UserRow.email == (email or "").strip().lower()))
    if row is None:
        hasher().verify(password, _dummy_hash())  # as slow as a wrong password: no account probing by timing
        raise BadCredentials
    if not hasher().verify(password, row.password_hash):
        raise BadCredentials
    return _user(row)


def open_session(store: Store, user: User) -> str:
    """A new sign-in session for ``user``: its token (shown to the client once)."""
    token, t = secrets.token_urlsafe(32), now()
    with store.sessions.begin() as s:
        s.execute(delete(SessionRow).where(SessionRow.user_id == user.id, SessionRow.expires < t))  # the user's old ones
        s.add(SessionRow(token_hash=_digest(token), user_id=user.id, created=t,
                         expires=t + dt.timedelta(days=SESSION_DAYS)))
    return token


def session_user(store: Store, token: str | None) -> User | None:
    """The user signed in with ``token`` (None: no token, an unknown, revoked or expired one)."""
    if not token:
        return None
    with store.sessions() as s:
        found = s.execute(select(UserRow, SessionRow.expires).join(SessionRow, SessionRow.user_id == UserRow.id)
                          .where(SessionRow.token_hash == _digest(token))).first()
    if found is None or _utc(found.expires) < now():
        return None
    return _user(found[0])


def close_session(store: Store, token: str) -> None:
    with store.sessions.begin() as s:
        s.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))


def user_by_email(store: Store, email: str) -> User | None:
    with store.sessions() as s:
        row = s.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
    return None if row is None else _user(row)


def names(store: Store, user_ids: list[str]) -> dict[str, str]:
    """Display names of users by id (for version lists and presence)."""
    with store.sessions() as s:
        return dict(s.execute(select(UserRow.id, UserRow.name).where(UserRow.id.in_(set(user_ids)))).all())


# ---------------------------------------------------------------------- pieces, roles, shares
def set_owner(store: Store, piece_id: str, user_id: str) -> None:
    with store.sessions.begin() as s:
        s.get(PieceRow, piece_id).owner = user_id


def ownerless(store: Store) -> int:
    """How many pieces have no owner: made in single-user mode, before accounts were turned on.
    With accounts they are no one's (404 for everyone) until an account claims them."""
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(PieceRow).where(PieceRow.owner.is_(None)))


def claim(store: Store, email: str) -> int:
    """Give every piece without an owner to the account with this email (``symphony accounts
    claim EMAIL``); returns how many. Pieces that have an owner keep theirs."""
    user = user_by_email(store, normal_email(email))
    if user is None:
        raise AccountError(f"there is no account with {email.strip().lower()}; sign up in the studio first")
    with store.sessions.begin() as s:
        return s.execute(update(PieceRow).where(PieceRow.owner.is_(None)).values(owner=user.id)).rowcount


def role_of(store: Store, piece_id: str, user_id: str | None, link: str | None) -> Role | None:
    """The highest role that the user (signed in or not) and the share link give on the piece;
    None when neither gives one, or when there is no such piece."""
    with store.sessions() as s:
        owner = s.scalar(select(PieceRow.owner).where(PieceRow.id == piece_id))
        if owner is None and s.get(PieceRow, piece_id) is None:
            return None
        if user_id is not None and owner == user_id:
            return "owner"
        who = []
        if user_id is not None:
            who.append(ShareRow.user_id == user_id)
        if link:
            who.append(ShareRow.link == link)
        if not who:
            return None
        roles = s.scalars(select(ShareRow.role).where(ShareRow.piece_id == piece_id, or_(*who))).all()
    return max(roles, key=ROLES.index, default=None)


def visible_pieces(store: Store, user_id: str) -> list[dict]:
    """The pieces the user owns or that are shared with them (as ``Store.list``, with the role),
    the last changed first."""
    with store.sessions() as s:
        shared = dict(s.execute(select(ShareRow.piece_id, ShareRow.role).where(ShareRow.user_id == user_id)).all())
        rows = s.execute(select(PieceRow.id, PieceRow.title, PieceRow.version, PieceRow.created, PieceRow.updated,
                                PieceRow.owner)
                         .where(or_(PieceRow.owner == user_id, PieceRow.id.in_(list(shared))))
                         .order_by(PieceRow.updated.desc())).all()
    return [{"id": r.id, "title": r.title, "version": r.version, "created": iso(r.created), "updated": iso(r.updated),
             "role": "owner" if r.owner == user_id else shared[r.id]} for r in rows]


def _share_json(row: ShareRow, user: UserRow | None) -> dict:
    out = {"id": row.id, "role": row.role, "created": iso(row.created)}
    if user is not None:
        out.update(email=user.email, name=user.name)
    else:
        out["link"] = row.link
    return out


def shares(store: Store, piece_id: str) -> list[dict]:
    with store.sessions() as s:
        rows = s.execute(select(ShareRow, UserRow).outerjoin(UserRow, UserRow.id == ShareRow.user_id)
                         .where(ShareRow.piece_id == piece_id).order_by(ShareRow.created)).all()
    return [_share_json(share, user) for share, user in rows]


def share(store: Store, piece_id: str, role: str, email: str | None = None) -> dict:
    """Share the piece with the user who has ``email`` (their role changes if it was shared
    already), or, without an email, by a new link."""
    if role not in SHARE_ROLES:
        raise ShareError(f"a share's role is editor or viewer, not {role!r}")
    with store.sessions.begin() as s:
        if email is None:
            row = ShareRow(id=uuid.uuid4().hex, piece_id=piece_id, role=role, link=secrets.token_urlsafe(24),
                           created=now())
            s.add(row)
            return _share_json(row, None)
        user = s.scalar(select(UserRow).where(UserRow.email == normal_email(email)))
        if user is None:
            raise ShareError(f"no Symphony account uses {email}; ask them to sign up first, or share a link")
        if user.id == s.scalar(select(PieceRow.owner).where(PieceRow.id == piece_id)):
            raise ShareError(f"{email} owns this piece already")
        row = s.scalar(select(ShareRow).where(ShareRow.piece_id == piece_id, ShareRow.user_id == user.id))
        if row is None:
            row = ShareRow(id=uuid.uuid4().hex, piece_id=piece_id, user_id=user.id, created=now())
            s.add(row)
        row.role = role
        s.flush()
        return _share_json(row, user)


def unshare(store: Store, piece_id: str, share_id: str) -> bool:
    """Revoke a share (False: the piece has no such share)."""
    with store.sessions.begin() as s:
        gone = s.execute(delete(ShareRow).where(ShareRow.piece_id == piece_id, ShareRow.id == share_id))
    return gone.rowcount == 1
