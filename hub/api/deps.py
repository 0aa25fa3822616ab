"""Dependencies: the hub, the bus, the caller (as an Actor), a read session and paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.callers import CallerCache
from hub.bootstrap import Hub
from hub.bus import MessageBus
from hub.domain.accounts import Account, Actor, AuthSession, Role, actor_for
from hub.domain.errors import Invalid, Unauthenticated
from hub.store.tables import buildings, residencies, units

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
# The dependencies below are `async def` although they do not wait: FastAPI runs a plain `def`
# dependency in a worker thread, a thread hop per dependency per request.


async def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


async def get_bus(hub: HubDep) -> MessageBus:
    return hub.bus


BusDep = Annotated[MessageBus, Depends(get_bus)]


async def read_session(hub: HubDep) -> AsyncIterator[AsyncSession]:
    async with hub.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(read_session)]


@dataclass(frozen=True)
class Caller:
    actor: Actor
    account: Account
    session_id: str


async def current_caller(request: Request, hub: HubDep,
                         token: Annotated[str | None, Depends(oauth2)]) -> Caller:
    """Who is calling, checked on every request: token, live session, active account. The
    guard checks first; the routes' dependency reuses its answer for the same request. The
    database check of the session is cached briefly (hub.api.callers: invalidated at once in
    this process by any change of a session, account, grant or residency; at most 2 s stale
    across worker processes); the token itself is verified every time."""
    if (known := getattr(request.state, "caller", None)) is not None:
        return known  # type: ignore[no-any-return]
    if not token:
        raise Unauthenticated("not signed in: send Authorization: Bearer <access token>")
    claims = hub.tokens.read_access_token(token)
    callers = _callers(request)
    key = (claims.session_id, claims.account_id)
    cached = callers.get(key)
    if cached is not None and cached[1].live_at(hub.clock()):
        request.state.caller = cached[0]
        return cached[0]
    generation = callers.generation
    async with hub.sessions() as session:
        login = await session.get(AuthSession, claims.session_id)
        if login is None or login.account_id != claims.account_id \
                or not login.live_at(hub.clock()):
            raise Unauthenticated("session ended: sign in again")
        account = await session.get(Account, claims.account_id)
        if account is None or not account.active:
            raise Unauthenticated("account disabled")
        actor = await _actor(session, account, hub.clock().date())
        session.expunge_all()
    caller = Caller(actor, account, login.id)
    callers.put(key, (caller, login), generation)
    request.state.caller = caller
    return caller


def _callers(request: Request) -> CallerCache[tuple[Caller, AuthSession]]:
    state = request.app.state
    if getattr(state, "callers", None) is None:
        state.callers = CallerCache()
    callers: CallerCache[tuple[Caller, AuthSession]] = state.callers
    return callers


async def _actor(session: AsyncSession, account: Account, today: date) -> Actor:
    if account.role == Role.RESIDENT:
        rows = (await session.execute(
            select(units.c.id, units.c.site_id).join(
                residencies, residencies.c.unit_id == units.c.id).where(
                residencies.c.resident_id == account.resident_id,
                residencies.c.moved_in <= today,
                or_(residencies.c.moved_out.is_(None), residencies.c.moved_out > today)))).all()
        return actor_for(account, building_sites={},
                         household=frozenset(r.id for r in rows),
                         household_sites=frozenset(r.site_id for r in rows))
    granted = [g.building_id for g in account.grants if g.building_id is not None]
    building_sites: dict[int, int] = {}
    if granted:
        rows = (await session.execute(select(buildings.c.id, buildings.c.site_id).where(
            buildings.c.id.in_(granted)))).all()
        building_sites = {r.id: r.site_id for r in rows}
    return actor_for(account, building_sites=building_sites)


CallerDep = Annotated[Caller, Depends(current_caller)]


async def current_actor(caller: CallerDep) -> Actor:
    return caller.actor


ActorDep = Annotated[Actor, Depends(current_actor)]


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


async def paging(hub: HubDep,
           limit: Annotated[int, Query(ge=1, description="page size")] = 50,
           offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Paging:
    most = hub.settings.api.max_page_size
    if limit > most:
        raise Invalid(f"limit must be at most {most}", field="query.limit")
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(paging)]


def page_of(items: list[dict[str, Any]], total: int, paging: Paging) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}
