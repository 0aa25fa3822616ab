"""Leases, move-in and move-out on each backend: the unit's status follows them, from their
dates, and billing's vacancy sees it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select

from hub.bootstrap import Hub
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.domain.billing.discounts import DiscountKind
from hub.domain.billing.fees import FeeKind
from hub.domain.errors import Conflict, Invalid
from hub.domain.property import Unit, UnitStatus
from hub.domain.residents import Relation, Residency
from hub.handlers.billing import CreateDiscount, CreateFeeItem
from hub.handlers.billing_runs import PreviewRun
from hub.handlers.ownership import (
    MoveIn,
    MoveOut,
    RegisterLease,
    UnitStatusStep,
    refresh_unit_statuses,
)
from hub.store.tables import audit_log
from hub.views.household import leases_of, ownership_history
from tests.integration.ownership.conftest import Clock, Elm


async def status(hub: Hub, unit_id: int) -> UnitStatus:
    async with hub.uow() as uow:
        unit = await uow.get(Unit, unit_id)
        assert unit is not None
        return unit.status


async def occupancy(hub: Hub, unit_id: int, today: date) -> tuple[str, bool, date | None]:
    async with hub.sessions() as session:
        found = await ownership_history(session, SYSTEM, unit_id, today)
    return found["status"], found["vacant"], found["vacant_since"]


async def audited(hub: Hub, action: str) -> list[dict[str, Any]]:
    async with hub.engine.connect() as connection:
        return [dict(r.detail) for r in await connection.execute(
            select(audit_log.c.detail).where(audit_log.c.action == action)
            .order_by(audit_log.c.id))]


def lease(e: Elm, start: date, end: date, *names: str) -> RegisterLease:
    return RegisterLease(SYSTEM, unit_id=e.flat, tenant_ids=tuple(e.people[n] for n in names),
                         starts_on=start, ends_on=end, document_ref="ZL-2026-0301",
                         monthly_rent=D("6500.00"))


async def test_moving_in_makes_a_unit_occupied(hub: Hub, elm: Elm) -> None:
    assert await status(hub, elm.home) == UnitStatus.OCCUPIED
    assert await occupancy(hub, elm.home, date(2026, 6, 1)) == ("occupied", False, None)
    assert [d["relation"] for d in await audited(hub, "moved_in")] == ["owner", "family"]


async def test_a_lease_makes_the_unit_rented_for_its_dates(hub: Hub, elm: Elm,
                                                           clock: Clock) -> None:
    lease_id = await hub.bus.handle(lease(elm, date(2026, 3, 1), date(2027, 3, 1), "刘洋",
                                          "赵敏"))
    assert await status(hub, elm.flat) == UnitStatus.RENTED
    async with hub.sessions() as session:
        found = await leases_of(session, SYSTEM, elm.flat, date(2026, 6, 1))
    assert [(f["id"], f["current"], f["monthly_rent"], [t["name"] for t in f["tenants"]])
            for f in found] == [(lease_id, True, D("6500.00"), ["刘洋", "赵敏"])]
    async with hub.uow() as uow:
        stays = await uow.find(Residency, unit_id=elm.flat)
    assert {(s.resident_id, s.relation, s.moved_in, s.moved_out) for s in stays} == {
        (elm.people[n], Relation.TENANT, date(2026, 3, 1), date(2027, 3, 1))
        for n in ("刘洋", "赵敏")}
    assert (await audited(hub, "lease_registered"))[0]["to"] == "2027-03-01"
    # When the lease has run out, the daily refresh leaves the flat vacant from its end.
    clock.set_day(date(2027, 3, 2))
    assert await refresh_unit_statuses(hub.uow, date(2026, 6, 1), date(2027, 3, 2)) == 1
    assert await status(hub, elm.flat) == UnitStatus.VACANT
    assert await occupancy(hub, elm.flat, date(2027, 3, 2)) == ("vacant", True,
                                                               date(2027, 3, 1))
    assert await refresh_unit_statuses(hub.uow, date(2027, 3, 2), date(2027, 3, 2)) == 0


async def test_a_lease_that_starts_later_leaves_the_unit_vacant_until_then(
        hub: Hub, elm: Elm) -> None:
    await hub.bus.handle(lease(elm, date(2026, 7, 1), date(2027, 7, 1), "刘洋"))
    assert await status(hub, elm.flat) == UnitStatus.VACANT
    assert await refresh_unit_statuses(hub.uow, date(2026, 6, 1), date(2026, 7, 1)) == 1
    assert await status(hub, elm.flat) == UnitStatus.RENTED


async def test_an_overlapping_lease_is_refused_naming_both(hub: Hub, elm: Elm) -> None:
    await hub.bus.handle(lease(elm, date(2026, 3, 1), date(2027, 3, 1), "刘洋"))
    with pytest.raises(Conflict) as caught:
        await hub.bus.handle(lease(elm, date(2027, 2, 1), date(2028, 2, 1), "孙丽"))
    assert "2027-02-01" in caught.value.message and "2026-03-01" in caught.value.message
    async with hub.uow() as uow:
        assert {s.resident_id for s in await uow.find(Residency, unit_id=elm.flat)} == {
            elm.people["刘洋"]}


async def test_a_tenant_who_already_lives_there_is_refused(hub: Hub, elm: Elm) -> None:
    with pytest.raises(Conflict) as caught:
        await hub.bus.handle(RegisterLease(
            SYSTEM, unit_id=elm.home, tenant_ids=(elm.people["陈小雨"],),
            starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), document_ref="ZL-1"))
    assert caught.value.field == "tenant_ids.0"


async def test_move_out_of_the_last_resident_makes_the_unit_vacant_from_that_date(
        hub: Hub, elm: Elm) -> None:
    home, people = elm.home, elm.people
    await hub.bus.handle(MoveOut(SYSTEM, unit_id=home, resident_ids=(people["陈小雨"],),
                                 moved_out=date(2026, 4, 30)))
    assert await status(hub, home) == UnitStatus.OCCUPIED  # the owner still lives there
    await hub.bus.handle(MoveOut(SYSTEM, unit_id=home, resident_ids=(people["陈静"],),
                                 moved_out=date(2026, 5, 20)))
    assert await status(hub, home) == UnitStatus.VACANT
    assert await occupancy(hub, home, date(2026, 6, 1)) == ("vacant", True, date(2026, 5, 20))
    assert await occupancy(hub, home, date(2026, 5, 19)) == ("vacant", False, None)
    assert [(d["on"], d["status"]) for d in await audited(hub, "moved_out")] == [
        ("2026-04-30", "occupied"), ("2026-05-20", "vacant")]


async def test_billing_sees_the_vacancy_a_move_out_leaves(hub: Hub, elm: Elm) -> None:
    """Billing reads unit.status == vacant for its vacant-unit rule and discount."""
    fee = await hub.bus.handle(CreateFeeItem(
        SYSTEM, site_id=elm.site, code="property", name="物业费", kind=FeeKind.AREA,
        unit_price=D("2.35"), effective_from=date(2026, 1, 1)))
    await hub.bus.handle(CreateDiscount(SYSTEM, site_id=elm.site, name="空置房七折",
                                        kind=DiscountKind.VACANT_UNIT, percent=D(30),
                                        fee_item_id=fee))

    async def june_line() -> dict[str, Any]:
        preview = await hub.bus.handle(PreviewRun(SYSTEM, site_id=elm.site, period="2026-06",
                                                  fee_item_ids=(fee,)))
        home = next(u for u in preview["units"] if u["unit_id"] == elm.home)
        line: dict[str, Any] = home["lines"][0]
        return line

    before = await june_line()
    assert (before["gross"], before["discount"]) == (D("235.00"), D("0.00"))
    await hub.bus.handle(MoveOut(SYSTEM, unit_id=elm.home,
                                 resident_ids=(elm.people["陈静"], elm.people["陈小雨"]),
                                 moved_out=date(2026, 5, 20)))
    after = await june_line()
    assert (after["gross"], after["discount"], after["amount"]) == (
        D("235.00"), D("70.50"), D("164.50"))
    assert any("空置" in step or "vacant" in step.lower() for step in after["detail"]), after


async def test_a_move_out_dated_ahead_takes_effect_on_its_day(hub: Hub, elm: Elm) -> None:
    await hub.bus.handle(MoveOut(SYSTEM, unit_id=elm.home,
                                 resident_ids=(elm.people["陈静"], elm.people["陈小雨"]),
                                 moved_out=date(2026, 7, 1)))
    assert await status(hub, elm.home) == UnitStatus.OCCUPIED
    assert await refresh_unit_statuses(hub.uow, date(2026, 6, 1), date(2026, 6, 30)) == 0
    assert await refresh_unit_statuses(hub.uow, date(2026, 6, 30), date(2026, 7, 1)) == 1
    assert await status(hub, elm.home) == UnitStatus.VACANT


async def test_the_periodic_step_catches_up_from_its_last_pass(hub: Hub, elm: Elm) -> None:
    await hub.bus.handle(MoveOut(SYSTEM, unit_id=elm.home,
                                 resident_ids=(elm.people["陈静"], elm.people["陈小雨"]),
                                 moved_out=date(2026, 7, 1)))
    step = UnitStatusStep(hub.uow)
    assert await step(datetime(2026, 6, 30, 23, 0, tzinfo=UTC)) == 0
    assert await status(hub, elm.home) == UnitStatus.OCCUPIED
    assert await step(datetime(2026, 7, 3, 1, 0, tzinfo=UTC)) == 1  # a missed day caught up
    assert await status(hub, elm.home) == UnitStatus.VACANT
    assert await step(datetime(2026, 7, 4, 1, 0, tzinfo=UTC)) == 0


async def test_moving_all_tenants_out_early_ends_their_lease_then(hub: Hub, elm: Elm) -> None:
    await hub.bus.handle(lease(elm, date(2026, 3, 1), date(2027, 3, 1), "刘洋"))
    await hub.bus.handle(MoveOut(SYSTEM, unit_id=elm.flat, resident_ids=(elm.people["刘洋"],),
                                 moved_out=date(2026, 5, 31)))
    assert await status(hub, elm.flat) == UnitStatus.VACANT
    async with hub.sessions() as session:
        found = await leases_of(session, SYSTEM, elm.flat, date(2026, 6, 1))
    assert (found[0]["ends_on"], found[0]["current"]) == (date(2026, 5, 31), False)


async def test_decorating_stays_as_staff_set_it(hub: Hub, elm: Elm) -> None:
    await hub.bus.handle(c.Change(SYSTEM, "unit", elm.flat, {"status": "decorating"}))
    await hub.bus.handle(MoveIn(SYSTEM, unit_id=elm.flat, resident_id=elm.people["孙丽"],
                                relation=Relation.OWNER, moved_in=date(2026, 5, 1)))
    assert await status(hub, elm.flat) == UnitStatus.DECORATING


@pytest.mark.parametrize(("name", "day", "error", "field"), [
    ("孙丽", date(2026, 5, 1), Invalid, "resident_ids.0"),  # never lived there
    ("陈静", date(2014, 1, 1), Invalid, "resident_ids.0"),  # before she moved in
    ("陈静", date(2015, 3, 1), Invalid, "moved_out"),  # the day she moved in
])
async def test_a_move_out_that_cannot_be_is_refused(hub: Hub, elm: Elm, name: str, day: date,
                                                    error: type[Exception], field: str) -> None:
    with pytest.raises(error) as caught:
        await hub.bus.handle(MoveOut(SYSTEM, unit_id=elm.home, resident_ids=(elm.people[name],),
                                     moved_out=day))
    assert getattr(caught.value, "field", None) == field
    assert await status(hub, elm.home) == UnitStatus.OCCUPIED


async def test_moving_in_twice_is_refused(hub: Hub, elm: Elm) -> None:
    with pytest.raises(Conflict) as caught:
        await hub.bus.handle(MoveIn(SYSTEM, unit_id=elm.home, resident_id=elm.people["陈静"],
                                    relation=Relation.OWNER, moved_in=date(2026, 1, 1)))
    assert "2015-03-01" in caught.value.message
