"""What rules and jobs send to the notice modules: keyed announcements (one per key while
live), Notify to a role or to a building's residents (exactly the right accounts), and the
complaint escalation job (once, at the controlled time)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.domain.complaints import ComplaintCategory, ReplyToComplaint, SubmitComplaint
from hub.domain.notices import Audience, CreateAnnouncement, NoticeStatus
from hub.domain.outcomes import Cause, Evidence, Notify, PostAnnouncement, WithdrawAnnouncement
from hub.handlers.complaints import run_complaint_escalation
from hub.handlers.notices import run_scheduled_announcements
from hub.store.notice_tables import announcements, notifications
from tests.integration.api.conftest import Api

T = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
CAUSE = Cause(rule_id="elevator.offline", rule_version="3",
              evidence=(Evidence(kind="offline", at=T, device_id=1),))


async def _notified(api: Api, since_id: int = 0) -> dict[int, int]:
    """Account id -> notifications received after `since_id`."""
    async with api.hub.engine.connect() as conn:
        rows = await conn.execute(select(notifications.c.account_id, func.count()).where(
            notifications.c.id > since_id).group_by(notifications.c.account_id))
        return {int(a): int(n) for a, n in rows}


async def _last_notification(api: Api) -> int:
    async with api.hub.engine.connect() as conn:
        return int(await conn.scalar(select(func.max(notifications.c.id))) or 0)


async def _keyed(api: Api, key: str) -> list[tuple[int, str]]:
    async with api.hub.engine.connect() as conn:
        rows = await conn.execute(select(announcements.c.id, announcements.c.status).where(
            announcements.c.key == key).order_by(announcements.c.id))
        return [(int(i), str(s)) for i, s in rows]


async def test_a_key_posted_twice_while_live_is_one_announcement_until_withdrawn(
        api: Api) -> None:
    w, bus = api.world, api.hub.bus
    key = f"downtime:device:{w.lift_b1}"
    before = await _last_notification(api)
    post = PostAnnouncement(key=key, site_id=w.lakeside, building_id=w.b1,
                            title="Building 1 lift out of service",
                            body="Engineers are on their way.", at=T, cause=CAUSE)
    first = await bus.handle(post)
    second = await bus.handle(replace(post, at=T + timedelta(minutes=5), title="again"))
    stored = await _keyed(api, key)
    told = await _notified(api, before)
    print(f"posted twice: {len(stored)} announcement(s), residents told {told}")
    assert first == second
    assert stored == [(first, NoticeStatus.PUBLISHED)]
    assert told == {w.accounts["alice"]: 1, w.accounts["bob"]: 1}  # b1's residents, once

    withdrawn = await bus.handle(WithdrawAnnouncement(key=key, at=T + timedelta(hours=1),
                                                      cause=CAUSE))
    again = await bus.handle(WithdrawAnnouncement(key=key, at=T + timedelta(hours=2),
                                                  cause=CAUSE))
    assert (withdrawn, again) == (first, None)
    assert await _keyed(api, key) == [(first, NoticeStatus.WITHDRAWN)]

    relapse = await bus.handle(replace(post, at=T + timedelta(hours=3)))
    assert relapse != first
    assert await _keyed(api, key) == [(first, NoticeStatus.WITHDRAWN),
                                      (relapse, NoticeStatus.PUBLISHED)]


async def test_a_keyed_announcement_shows_to_the_buildings_residents_only(api: Api) -> None:
    w = api.world
    now = api.hub.clock()  # signed-in sessions are checked against the hub's clock too
    await api.hub.bus.handle(PostAnnouncement(
        key="downtime:device:b2", site_id=w.lakeside, building_id=w.b2,
        title="Building 2 lift out of service", body="", at=now, cause=CAUSE,
        notify_residents=False))
    await api.hub.bus.handle(PostAnnouncement(
        key="downtime:site", site_id=w.lakeside, title="Lakeside water off", body="",
        at=now, cause=CAUSE, notify_residents=False))
    titles = {u: [a["title"] for a in (await api.client.get(
        "/api/v1/me/announcements", headers=w.auth(u))).json()["items"]]
        for u in ("alice", "bob")}
    for seen in titles.values():
        assert "Lakeside water off" in seen
        assert "Building 2 lift out of service" not in seen


async def test_notify_reaches_exactly_the_role_in_the_site_or_the_buildings_residents(
        api: Api) -> None:
    w, bus = api.world, api.hub.bus
    a = w.accounts

    async def notify(**kw: object) -> dict[int, int]:
        since = await _last_notification(api)
        count = await bus.handle(Notify(title="Lift B1 trapped passenger", body="car 1",
                                        at=T, cause=CAUSE, **kw))  # type: ignore[arg-type]
        told = await _notified(api, since)
        assert count == sum(told.values())
        return told

    cases: dict[str, tuple[dict[str, Any], set[int]]] = {
        "managers of lakeside": (dict(site_id=w.lakeside, role=Role.MANAGER),
                                 {a["manager"]}),
        "maintenance of lakeside (site and b2 grants)": (
            dict(site_id=w.lakeside, role=Role.MAINTENANCE), {a["tech"], a["b2-tech"]}),
        "managers of riverside": (dict(site_id=w.riverside, role=Role.MANAGER),
                                  {a["river-manager"]}),
        "administrators": (dict(site_id=w.riverside, role=Role.ADMIN), {a["admin"]}),
        "service desk of riverside": (dict(site_id=w.riverside, role=Role.SERVICE_DESK),
                                      set()),
        "residents of b1": (dict(site_id=w.lakeside, building_id=w.b1),
                            {a["alice"], a["bob"]}),
        "residents of b2": (dict(site_id=w.lakeside, building_id=w.b2), set()),
        "the resident role: every resident of lakeside": (
            dict(site_id=w.lakeside, role=Role.RESIDENT), {a["alice"], a["bob"]}),
        "security and b1's residents": (
            dict(site_id=w.lakeside, role=Role.SECURITY, building_id=w.b1),
            {a["guard"], a["alice"], a["bob"]}),
    }
    for name, (kw, expected) in cases.items():
        told = await notify(**kw)
        print(f"{name}: {len(told)} account(s) notified")
        assert told == dict.fromkeys(expected, 1), name

    await bus.handle(c.UpdateAccount(SYSTEM, account_id=a["tech"], active=False))
    await bus.handle(c.EndResidency(SYSTEM, residency_id=w.residency_bob,
                                    moved_out=date(2030, 3, 1)))
    assert await notify(site_id=w.lakeside, role=Role.MAINTENANCE) == {a["b2-tech"]: 1}
    assert await notify(site_id=w.lakeside, building_id=w.b1) == {a["alice"]: 1}


def _alice(api: Api) -> Actor:
    w = api.world
    return Actor(w.accounts["alice"], Role.RESIDENT, partial_sites=frozenset({w.lakeside}),
                 unit_ids=frozenset({w.unit_a}), resident_id=w.alice)


async def test_the_escalation_job_escalates_an_unanswered_complaint_once(api: Api) -> None:
    w, hub = api.world, api.hub
    # The world's own complaints were filed when it was built: escalated out of the way.
    seeded = await run_complaint_escalation(hub.bus, hub.uow, T - timedelta(days=1))
    assert sorted(seeded) == sorted([w.complaint_a, w.complaint_b, w.complaint_river])
    complaint = await hub.bus.handle(SubmitComplaint(
        actor=_alice(api), unit_id=w.unit_a, category=ComplaintCategory.SANITATION,
        title="Bins not emptied", content="Since Monday", at=T))
    answered = await hub.bus.handle(SubmitComplaint(
        actor=_alice(api), unit_id=w.unit_a, category=ComplaintCategory.NOISE,
        title="Dog barking", content="At night", at=T))
    await hub.bus.handle(ReplyToComplaint(actor=SYSTEM, complaint_id=answered, body="Done.",
                                          at=T + timedelta(hours=1)))
    since = await _last_notification(api)
    runs = {hours: await run_complaint_escalation(hub.bus, hub.uow, T + timedelta(hours=hours))
            for hours in (23, 24, 25, 48)}
    told = await _notified(api, since)
    print(f"escalation runs {runs}; managers told {told}")
    assert runs == {23: [], 24: [complaint], 25: [], 48: []}
    assert told == {w.accounts["manager"]: 1}


async def test_residents_are_told_of_a_scheduled_announcement_once_when_it_shows(
        api: Api) -> None:
    w, hub = api.world, api.hub
    desk = Actor(w.accounts["desk"], Role.SERVICE_DESK, whole_sites=frozenset({w.lakeside}))
    ident = await hub.bus.handle(CreateAnnouncement(
        actor=desk, site_id=w.lakeside, title="Fire drill at 10:00", body="Stairs A and B",
        audience=Audience.BUILDINGS, building_ids=(w.b1,), publish_at=T + timedelta(hours=2),
        publish=True, notify_residents=True, at=T))
    since = await _last_notification(api)
    runs = {hours: await run_scheduled_announcements(hub.bus, hub.uow,
                                                     T + timedelta(hours=hours))
            for hours in (1, 2, 3)}
    told = await _notified(api, since)
    print(f"scheduled-announcement runs {runs}; residents told {told}")
    assert runs == {1: [], 2: [ident], 3: []}
    assert told == {w.accounts["alice"]: 1, w.accounts["bob"]: 1}


async def test_one_key_posted_by_five_at_once_is_one_announcement(api: Api) -> None:
    w = api.world
    post = PostAnnouncement(key="downtime:gate-north", site_id=w.lakeside,
                            title="North gate out of service", body="", at=T, cause=CAUSE,
                            notify_residents=False)
    ids = await asyncio.gather(*(api.hub.bus.handle(post) for _ in range(5)))
    stored = await _keyed(api, "downtime:gate-north")
    print(f"5 concurrent posts of one key: ids {ids}, stored {len(stored)}")
    assert len(set(ids)) == 1
    assert stored == [(ids[0], NoticeStatus.PUBLISHED)]


async def test_two_runs_at_once_escalate_a_complaint_once(api: Api) -> None:
    w, hub = api.world, api.hub
    await run_complaint_escalation(hub.bus, hub.uow, T - timedelta(days=1))  # the seeded ones
    complaint = await hub.bus.handle(SubmitComplaint(
        actor=_alice(api), unit_id=w.unit_a, category=ComplaintCategory.PARKING,
        title="Car on my space", content="Every evening", at=T))
    since = await _last_notification(api)
    later = T + timedelta(days=2)
    runs = await asyncio.gather(*(run_complaint_escalation(hub.bus, hub.uow, later)
                                  for _ in range(3)))
    told = await _notified(api, since)
    print(f"3 runs at once: {runs}; managers told {told}")
    assert sorted(runs) == [[], [], [complaint]]
    assert told == {w.accounts["manager"]: 1}
