"""The brief cache of checked callers (hub.api.callers) keeps the token checks' promises: in
this process a logout, a disabled account or a move-out is seen by the very next request;
a change made by another process (here: a write the ORM does not see) within `ttl_s`."""

from __future__ import annotations

from sqlalchemy import update

from hub.api.callers import CallerCache
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.store.tables import auth_sessions
from tests.integration.api.conftest import Api


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_move_out_takes_the_households_bills_away_at_once(api: Api) -> None:
    w = api.world
    mine = f"/api/v1/me/bills/{w.bill_a}"
    assert (await api.client.get(mine, headers=w.auth("alice"))).status_code == 200
    assert (await api.client.get(mine, headers=w.auth("alice"))).status_code == 200  # cached

    await api.hub.bus.handle(c.EndResidency(SYSTEM, residency_id=w.residency_alice,
                                            moved_out=api.hub.clock().date()))

    assert (await api.client.get(mine, headers=w.auth("alice"))).status_code == 404


async def test_a_session_ended_by_another_process_is_refused_within_the_ttl(api: Api) -> None:
    w = api.world
    ticks = Ticks()
    api.app.state.callers = CallerCache(ttl_s=2.0, clock=ticks)
    me = "/api/v1/auth/me"
    assert (await api.client.get(me, headers=w.auth("bob"))).status_code == 200
    async with api.hub.engine.begin() as conn:  # as another worker would: no ORM flush here
        await conn.execute(update(auth_sessions).values(revoked_at=api.hub.clock()))

    ticks.now = 1.9  # within the bound, this process may still answer from its cache
    assert (await api.client.get(me, headers=w.auth("bob"))).status_code == 200
    ticks.now = 2.1
    assert (await api.client.get(me, headers=w.auth("bob"))).status_code == 401
    assert (await api.client.get(me, headers=w.auth("alice"))).status_code == 401


async def test_a_logout_in_this_process_is_refused_on_the_next_request(api: Api) -> None:
    w = api.world
    ticks = Ticks()  # time stands still: only the invalidation can refuse the token
    api.app.state.callers = CallerCache(ttl_s=3600.0, clock=ticks)
    me = "/api/v1/auth/me"
    assert (await api.client.get(me, headers=w.auth("alice"))).status_code == 200
    assert len(api.app.state.callers) == 1
    assert (await api.client.post("/api/v1/auth/logout", headers=w.auth("alice"))).status_code \
        == 204
    assert (await api.client.get(me, headers=w.auth("alice"))).status_code == 401
    assert (await api.client.get(me, headers=w.auth("bob"))).status_code == 200
