"""Dependencies: the hub, the bus, the caller (as an Actor), a read session and paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.api.callers import CallerCache
from hub.bootstrap import Hub
from hub.bus import MessageBus
from hub.domain.accounts import Account, Actor, AuthSession, Role, ScopeGrant, actor_for
from hub.domain.errors import Invalid, Unauthenticated
from hub.store.tables import (
    account_grants,
    accounts,
    auth_sessions,
    buildings,
    residencies,
    units,
)

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


async def read_connection(hub: HubDep) -> AsyncIterator[AsyncConnection]:
    """A connection for reads in Core, lighter than an ORM session (the resident lists)."""
    async with hub.engine.connect() as conn:
        yield conn


ReadDep = Annotated[AsyncConnection, Depends(read_connection)]


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
    async with hub.engine.connect() as conn:  # Core reads: no ORM session to set up
        login, account = await _login(conn, claims.session_id, claims.account_id)
        if not login.live_at(hub.clock()):
            raise Unauthenticated("session ended: sign in again")
        if not account.active:
            raise Unauthenticated("account disabled")
        actor = await _actor(conn, account, hub.clock().date())
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


# The caller check's statements, built once: a third of a resident read's CPU went to
# building statements and loading them through the ORM when the cache had no answer.
_LOGIN = select(auth_sessions, accounts.c.username, accounts.c.password_hash, accounts.c.role,
                accounts.c.display_name, accounts.c.active, accounts.c.resident_id).join(
    accounts, accounts.c.id == auth_sessions.c.account_id).where(
    auth_sessions.c.id == bindparam("session_id"))
_GRANTS = select(account_grants.c.id, account_grants.c.site_id,
                 account_grants.c.building_id).where(
    account_grants.c.account_id == bindparam("account_id")).order_by(account_grants.c.id)
_HOUSEHOLD = select(units.c.id, units.c.site_id).join(
    residencies, residencies.c.unit_id == units.c.id).where(
    residencies.c.resident_id == bindparam("resident_id"),
    residencies.c.moved_in <= bindparam("today"),
    or_(residencies.c.moved_out.is_(None), residencies.c.moved_out > bindparam("today")))
_BUILDING_SITES = select(buildings.c.id, buildings.c.site_id).where(
    buildings.c.id.in_(bindparam("ids", expanding=True)))


async def _login(conn: AsyncConnection, session_id: str,
                 account_id: int) -> tuple[AuthSession, Account]:
    """The login session and its account as they are stored (plain objects, in no ORM
    session)."""
    row = (await conn.execute(_LOGIN, {"session_id": session_id})).first()
    if row is None or row.account_id != account_id:
        raise Unauthenticated("session ended: sign in again")
    login = AuthSession(id=row.id, account_id=row.account_id, refresh_hash=row.refresh_hash,
                        created_at=row.created_at, expires_at=row.expires_at,
                        revoked_at=row.revoked_at)
    grants = [] if row.role == Role.RESIDENT else [
        ScopeGrant(site_id=g.site_id, building_id=g.building_id, id=g.id)
        for g in await conn.execute(_GRANTS, {"account_id": row.account_id})]
    account = Account(username=row.username, password_hash=row.password_hash, role=row.role,
                      display_name=row.display_name, active=row.active,
                      resident_id=row.resident_id, id=row.account_id, grants=grants)
    return login, account


async def _actor(conn: AsyncConnection, account: Account, today: date) -> Actor:
    if account.role == Role.RESIDENT:
        rows = (await conn.execute(_HOUSEHOLD, {"resident_id": account.resident_id,
                                                "today": today})).all()
        return actor_for(account, building_sites={},
                         household=frozenset(r.id for r in rows),
                         household_sites=frozenset(r.site_id for r in rows))
    granted = [g.building_id for g in account.grants if g.building_id is not None]
    building_sites: dict[int, int] = {}
    if granted:
        rows = (await conn.execute(_BUILDING_SITES, {"ids": granted})).all()
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
