"""What the API tests' world holds of announcements, notifications and complaints: one of each
per household, building or site, so that the S1 walks have foreign ids to probe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from hub.domain.accounts import SYSTEM, Role
from hub.domain.complaints import ComplaintCategory, SubmitComplaint
from hub.domain.notices import Audience, CreateAnnouncement
from hub.domain.outcomes import Cause, Notify
from hub.store.notice_tables import notifications

if TYPE_CHECKING:
    from hub.bootstrap import Hub
    from tests.integration.api.world import World


async def seed_notices(hub: Hub, w: World) -> None:
    bus, now = hub.bus, hub.clock()

    async def announce(site: int, title: str, buildings: tuple[int, ...] = ()) -> int:
        return int(await bus.handle(CreateAnnouncement(
            site_id=site, title=title, body=f"{title}: details at the office",
            audience=Audience.BUILDINGS if buildings else Audience.SITE,
            building_ids=buildings, publish=True, at=now)))

    w.ann_lakeside = await announce(w.lakeside, "Lakeside fire drill")
    w.ann_b1 = await announce(w.lakeside, "Building 1 water off", (w.b1,))
    w.ann_b2 = await announce(w.lakeside, "Building 2 lift service", (w.b2,))
    w.ann_river = await announce(w.riverside, "Riverside gate repaint")

    async def complain(unit: int, title: str) -> int:
        return int(await bus.handle(SubmitComplaint(
            unit_id=unit, category=ComplaintCategory.NOISE, title=title,
            content=f"{title}, every night after 23:00", at=now)))

    w.complaint_a = await complain(w.unit_a, "Drilling above 1-0301")
    w.complaint_b = await complain(w.unit_b, "Barking next to 1-0302")
    w.complaint_river = await complain(w.unit_river, "Music below r-0301")

    cause = Cause(rule_id="seed")
    await bus.handle(Notify(site_id=w.lakeside, building_id=w.b1, title="Building 1 notice",
                            body="Water off 10:00-12:00", at=now, cause=cause))
    await bus.handle(Notify(site_id=w.riverside, role=Role.MANAGER, title="Riverside alert",
                            body="Gate stuck", at=now, cause=cause, actor=SYSTEM))
    async with hub.engine.connect() as conn:
        rows = (await conn.execute(select(notifications.c.account_id, notifications.c.id)
                                   .order_by(notifications.c.id))).all()
    first: dict[int, int] = {}
    for account_id, ident in rows:
        first.setdefault(account_id, int(ident))
    w.note_alice = first[w.accounts["alice"]]
    w.note_bob = first[w.accounts["bob"]]
    w.note_river_manager = first[w.accounts["river-manager"]]
