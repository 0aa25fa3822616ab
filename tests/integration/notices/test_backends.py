"""The notice modules' SQL on each backend (SQLite, PostgreSQL, MariaDB): keyed
announcements, Notify's recipients, the resident's list with its read flag, complaints in
scope and the escalation job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from hub.bootstrap import bootstrap
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.domain.complaints import ComplaintCategory, SubmitComplaint
from hub.domain.notices import ReadAnnouncement
from hub.domain.outcomes import Cause, Notify, PostAnnouncement, WithdrawAnnouncement
from hub.domain.residents import Relation
from hub.handlers.complaints import run_complaint_escalation
from hub.settings import load_settings
from hub.store.notice_tables import announcements, notifications
from hub.views import complaints as complaint_views
from hub.views import notices as notice_views
from hub.views.property import household_params

T = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


async def test_notices_on_each_backend(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(None, mode="demo", data_dir=tmp_path,
                             database={"url": database_url})
    hub = bootstrap(settings)
    try:
        bus = hub.bus
        site = await bus.handle(c.CreateSite(SYSTEM, code="lakeside", name="Lakeside"))
        b1 = await bus.handle(c.CreateBuilding(SYSTEM, site_id=site, code="b1", name="B1",
                                               floors=6))
        b2 = await bus.handle(c.CreateBuilding(SYSTEM, site_id=site, code="b2", name="B2",
                                               floors=6))
        unit = await bus.handle(c.CreateUnit(SYSTEM, building_id=b1, number="1-0301",
                                             floor=3, gross_area=Decimal("89.75"),
                                             inner_area=Decimal("72.10")))
        resident = await bus.handle(c.RegisterResident(
            SYSTEM, site_id=site, name="张伟", residencies=(
                c.ResidencyIn(unit, Relation.OWNER, date(2020, 5, 1)),)))
        alice = await bus.handle(c.CreateAccount(SYSTEM, username="alice", password=PASSWORD,
                                                 role=Role.RESIDENT, resident_id=resident))
        manager = await bus.handle(c.CreateAccount(SYSTEM, username="manager",
                                                   password=PASSWORD, role=Role.MANAGER,
                                                   grants=(c.GrantIn(site),)))
        cause = Cause(rule_id="elevator.offline")

        post = PostAnnouncement(key="downtime:lift-b1", site_id=site, building_id=b1,
                                title="B1 lift out of service", body="", at=T, cause=cause)
        first = await bus.handle(post)
        assert await bus.handle(post) == first
        b2_only = await bus.handle(PostAnnouncement(
            key="downtime:lift-b2", site_id=site, building_id=b2, title="B2 lift", body="",
            at=T, cause=cause))
        told = await bus.handle(Notify(site_id=site, building_id=b1, title="Water off",
                                       body="", at=T, cause=cause))
        staff = await bus.handle(Notify(site_id=site, role=Role.MANAGER, title="Trapped",
                                        body="", at=T, cause=cause))
        assert (told, staff) == (1, 1)

        me = Actor(alice, Role.RESIDENT, partial_sites=frozenset({site}),
                   unit_ids=frozenset({unit}), resident_id=resident)
        await bus.handle(ReadAnnouncement(actor=me, announcement_id=first, at=T))
        async with hub.sessions() as session:
            mine = (await session.execute(notice_views.my_notices(None).query,
                                          household_params(me, now=T))).all()
            keyed = await session.scalar(select(func.count()).select_from(announcements)
                                         .where(announcements.c.key == "downtime:lift-b1"))
            feed: dict[int, int] = {int(a): int(n) for a, n in await session.execute(
                select(notifications.c.account_id, func.count())
                .group_by(notifications.c.account_id))}
        assert [(r.id, bool(r.read)) for r in mine] == [(first, True)]
        assert b2_only not in [r.id for r in mine]
        assert keyed == 1
        # alice: the B1 announcement and the water notice; the manager: the trapped alert
        assert feed == {alice: 2, manager: 1}
        await bus.handle(WithdrawAnnouncement(key="downtime:lift-b1", at=T + timedelta(hours=1),
                                              cause=cause))
        async with hub.sessions() as session:
            assert (await session.execute(notice_views.my_notices(None).query, household_params(
                me, now=T + timedelta(hours=1)))).all() == []

        complaint = await bus.handle(SubmitComplaint(
            actor=me, unit_id=unit, category=ComplaintCategory.NOISE, title="Drilling",
            content="At night", at=T))
        desk = Actor(manager, Role.MANAGER, whole_sites=frozenset({site}))
        async with hub.sessions() as session:
            listed = (await session.execute(complaint_views.complaint_query(
                desk, overdue_at=T + timedelta(hours=25)))).all()
        assert [r.id for r in listed] == [complaint]
        runs = [await run_complaint_escalation(bus, hub.uow, T + timedelta(hours=h))
                for h in (23, 24, 25)]
        assert runs == [[], [complaint], []]
        print(f"{hub.engine.dialect.name}: keyed 1, notified {feed}, escalation runs {runs}")
    finally:
        await hub.close()
