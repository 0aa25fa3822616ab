"""Sign in (OAuth2 password flow), refresh, sign out, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from hub.api.deps import BusDep, CallerDep
from hub.api.limits import TooManyAttempts
from hub.api.schemas.people import MeOut, RefreshIn, TokenOut
from hub.domain.commands import Login, Logout, Refresh

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login")
async def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()],
                bus: BusDep) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    # Per account from one address, and per address across accounts (password spraying).
    for limiter, key in ((request.app.state.login_limiter, f"{client}|{form.username}"),
                         (request.app.state.address_limiter, client)):
        if not limiter.allow(key):
            raise TooManyAttempts("too many sign-in attempts; wait a minute",
                                  field="username", retry_after=limiter.retry_after(key))
    tokens = await bus.handle(Login(form.username, form.password))
    return TokenOut(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                    expires_in=tokens.expires_in)


@router.post("/refresh")
async def refresh(body: RefreshIn, bus: BusDep) -> TokenOut:
    tokens = await bus.handle(Refresh(body.refresh_token))
    return TokenOut(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                    expires_in=tokens.expires_in)


@router.post("/logout", status_code=204)
async def logout(caller: CallerDep, bus: BusDep) -> None:
    await bus.handle(Logout(caller.actor, caller.session_id))


@router.get("/me")
async def me(caller: CallerDep) -> MeOut:
    actor, account = caller.actor, caller.account
    sites = None if actor.all_sites else sorted(actor.whole_sites | actor.partial_sites)
    return MeOut(account_id=actor.account_id, username=account.username, role=actor.role,
                 display_name=account.display_name, resident_id=account.resident_id,
                 unit_ids=sorted(actor.unit_ids), site_ids=sites)
