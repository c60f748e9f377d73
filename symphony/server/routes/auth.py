"""Accounts: sign up, sign in (the OAuth2 password form, as the FastAPI template), sign out,
and who am I. A browser gets its session as an HttpOnly cookie; an API client uses the
``access_token`` it is handed as a bearer token. Failed sign-ins are rate limited per email
and per address (429 with Retry-After)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import Field

from symphony.server import accounts
from symphony.server.access import COOKIE, accounts_required, session_token, user_dep
from symphony.server.deps import StudioDep
from symphony.server.schemas import ErrorOut, Strict

router = APIRouter(prefix="/api", tags=["accounts"])
ERRORS = {401: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}, 429: {"model": ErrorOut}}


class SignUpBody(Strict):
    email: str = Field(..., max_length=accounts.MAX_EMAIL, examples=["ana@example.org"])
    password: str = Field(..., max_length=accounts.MAX_PASSWORD,
                          description=f"at least {accounts.MIN_PASSWORD} characters")
    name: str | None = Field(None, max_length=accounts.MAX_NAME, description="shown to the people you work with")


def _need_accounts(request: Request) -> None:
    if not accounts_required(request):
        raise HTTPException(400, "this server runs in single-user mode (no accounts); start it with "
                                 "`symphony serve --accounts` to use accounts")


def _signed_in(request: Request, response: Response, studio, user: accounts.User) -> dict:
    token = accounts.open_session(studio.store, user)
    response.set_cookie(COOKIE, token, max_age=accounts.SESSION_DAYS * 86400, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")
    return {"access_token": token, "token_type": "bearer", "user": user.json()}


@router.post("/auth/signup", status_code=201, responses=ERRORS)
def sign_up(body: SignUpBody, request: Request, response: Response, studio: StudioDep):
    """Make an account and sign in with it: {access_token, token_type, user} and the session cookie."""
    _need_accounts(request)
    try:
        user = accounts.sign_up(studio.store, body.email, body.password, body.name)
    except accounts.EmailTaken as e:
        raise HTTPException(409, str(e)) from None
    except accounts.AccountError as e:
        raise HTTPException(422, str(e)) from None
    return _signed_in(request, response, studio, user)


@router.post("/auth/login", responses=ERRORS)
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, response: Response,
            studio: StudioDep):
    """Sign in with the OAuth2 password form (``username`` is the email): {access_token,
    token_type: "bearer", user} and the session cookie."""
    _need_accounts(request)
    email = form.username.strip().lower()
    address = request.client.host if request.client else "unknown"
    by_email, by_address = request.app.state.sign_in_failures
    wait = max(by_email.retry_after(email), by_address.retry_after(address))
    if wait:
        raise HTTPException(429, f"too many failed sign-ins; try again in {wait} s", headers={"Retry-After": str(wait)})
    try:
        user = accounts.authenticate(studio.store, email, form.password)
    except accounts.BadCredentials:
        by_email.hit(email)
        by_address.hit(address)
        raise HTTPException(401, "wrong email or password", headers={"WWW-Authenticate": "Bearer"}) from None
    by_email.clear(email)
    return _signed_in(request, response, studio, user)


@router.post("/auth/logout", status_code=204)
def sign_out(request: Request, studio: StudioDep):
    """End this session: its token and cookie stop working at once."""
    token = session_token(request)
    if token:
        accounts.close_session(studio.store, token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", responses=ERRORS)
def me(request: Request, studio: StudioDep):
    """The signed-in user {id, email, name, accounts: true}; in single-user mode {accounts: false}."""
    if not accounts_required(request):
        return {"id": None, "email": None, "name": "you", "accounts": False}
    user_dep(request)  # 401 unless signed in
    return {**request.state.user.json(), "accounts": True}
