"""Ownership history (产权变更) on each backend: a dated chain, never rewritten, audited."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM
from hub.domain.errors import Conflict, DomainError, Invalid, NotFound
from hub.domain.ownership import TransferReason
from hub.handlers.ownership import RecordOwnershipChange
from hub.store.ownership_tables import ownership_owners, ownerships
from hub.store.tables import audit_log
from hub.views.household import ownership_history
from tests.integration.ownership.conftest import Elm

TODAY = date(2026, 6, 1)


def change(e: Elm, on: date, reason: TransferReason, *owners: tuple[str, str],
           ref: str = "沪房-001") -> RecordOwnershipChange:
    return RecordOwnershipChange(SYSTEM, unit_id=e.home, on=on, reason=reason,
                                 owners=tuple((e.people[n], D(s)) for n, s in owners),
                                 document_ref=ref)


async def three_owners(hub: Hub, e: Elm) -> list[int]:
    return [await hub.bus.handle(cmd) for cmd in (
        change(e, date(2015, 3, 1), TransferReason.FIRST_REGISTRATION, ("陈静", "100"),
               ref="沪(2015)浦字不动产权第000123号"),
        change(e, date(2019, 6, 15), TransferReason.SALE, ("刘洋", "50"), ("赵敏", "50"),
               ref="HT-2019-0615"),
        change(e, date(2024, 2, 1), TransferReason.INHERITANCE, ("孙丽", "100"),
               ref="(2024)沪01民终123号"))]


async def history(hub: Hub, e: Elm) -> dict[str, Any]:
    async with hub.sessions() as session:
        return await ownership_history(session, SYSTEM, e.home, TODAY)


async def rows(hub: Hub) -> tuple[list[Any], list[Any], int]:
    async with hub.engine.connect() as connection:
        return ([tuple(r) for r in await connection.execute(
                    select(ownerships).order_by(ownerships.c.id))],
                [tuple(r) for r in await connection.execute(
                    select(ownership_owners).order_by(ownership_owners.c.id))],
                int(await connection.scalar(select(func.count()).select_from(audit_log)) or 0))


async def test_a_chain_of_three_owners_over_dates(hub: Hub, elm: Elm) -> None:
    ids = await three_owners(hub, elm)
    found = await history(hub, elm)
    assert [(h["id"], h["started_on"], h["ended_on"], h["reason"]) for h in found["history"]] \
        == [(ids[2], date(2024, 2, 1), None, "inheritance"),
            (ids[1], date(2019, 6, 15), date(2024, 2, 1), "sale"),
            (ids[0], date(2015, 3, 1), date(2019, 6, 15), "first_registration")]
    assert [(o["name"], o["share"]) for o in found["history"][1]["owners"]] == [
        ("刘洋", D("50.00")), ("赵敏", D("50.00"))]
    assert found["current"]["id"] == ids[2]
    assert found["current"]["owners"] == [{"resident_id": elm.people["孙丽"], "name": "孙丽",
                                           "share": D("100.00")}]
    assert found["history"][0]["document_ref"] == "(2024)沪01民终123号"
    async with hub.engine.connect() as connection:
        audited = (await connection.execute(
            select(audit_log.c.target, audit_log.c.detail).where(
                audit_log.c.action == "ownership_changed").order_by(audit_log.c.id))).all()
    assert [(t, d["on"], d["reason"], d["closed"]) for t, d in audited] == [
        (f"unit:{elm.home}", "2015-03-01", "first_registration", ""),
        (f"unit:{elm.home}", "2019-06-15", "sale", str(ids[0])),
        (f"unit:{elm.home}", "2024-02-01", "inheritance", str(ids[1]))]
    assert all("陈" not in str(d) and "孙" not in str(d) for _, d in audited)  # ids, no names


@pytest.mark.parametrize("on", [date(2022, 8, 1), date(2024, 2, 1), date(2014, 1, 1)])
async def test_an_overlapping_back_dated_change_is_refused_and_changes_nothing(
        hub: Hub, elm: Elm, on: date) -> None:
    await three_owners(hub, elm)
    before = await rows(hub)
    with pytest.raises(Conflict) as caught:
        await hub.bus.handle(change(elm, on, TransferReason.SALE, ("陈静", "100")))
    assert str(on) in caught.value.message and "2024-02-01" in caught.value.message
    assert await rows(hub) == before


async def test_a_change_after_the_current_start_but_in_the_past_closes_it_then(
        hub: Hub, elm: Elm) -> None:
    await three_owners(hub, elm)
    await hub.bus.handle(change(elm, date(2025, 12, 31), TransferReason.GIFT,
                                ("陈静", "60"), ("陈小雨", "40")))
    found = await history(hub, elm)
    assert [(h["started_on"], h["ended_on"]) for h in found["history"][:2]] == [
        (date(2025, 12, 31), None), (date(2024, 2, 1), date(2025, 12, 31))]


@pytest.mark.parametrize(("owners", "error", "field"), [
    ((("陈静", "60"), ("刘洋", "30")), Invalid, "owners"),
    ((("陈静", "100.001"),), Invalid, "owners.0.share"),
])
async def test_bad_owners_are_refused_by_field(hub: Hub, elm: Elm,
                                               owners: tuple[tuple[str, str], ...],
                                               error: type[DomainError], field: str) -> None:
    with pytest.raises(error) as caught:
        await hub.bus.handle(change(elm, date(2020, 1, 1), TransferReason.SALE, *owners))
    assert caught.value.field == field
    assert (await rows(hub))[0] == []


async def test_an_owner_of_another_site_is_refused(hub: Hub, elm: Elm) -> None:
    from hub.domain import commands as c

    other = await hub.bus.handle(c.CreateSite(SYSTEM, code="oak", name="Oak"))
    stranger = await hub.bus.handle(c.RegisterResident(SYSTEM, site_id=other, name="周杰"))
    with pytest.raises(Invalid) as caught:
        await hub.bus.handle(RecordOwnershipChange(
            SYSTEM, unit_id=elm.home, on=date(2020, 1, 1), reason=TransferReason.SALE,
            owners=((stranger, D(100)),), document_ref="HT-1"))
    assert caught.value.field == "owners.0"


async def test_an_unknown_unit_is_not_found(hub: Hub, elm: Elm) -> None:
    with pytest.raises(NotFound):
        await hub.bus.handle(RecordOwnershipChange(
            SYSTEM, unit_id=999_999, on=date(2020, 1, 1), reason=TransferReason.SALE,
            owners=((elm.people["陈静"], D(100)),), document_ref="HT-1"))


async def test_two_changes_at_once_leave_one_current_ownership(hub: Hub, elm: Elm) -> None:
    await hub.bus.handle(change(elm, date(2015, 3, 1), TransferReason.FIRST_REGISTRATION,
                                ("陈静", "100")))
    results = await asyncio.gather(
        hub.bus.handle(change(elm, date(2020, 1, 1), TransferReason.SALE, ("刘洋", "100"))),
        hub.bus.handle(change(elm, date(2021, 1, 1), TransferReason.SALE, ("赵敏", "100"))),
        return_exceptions=True)
    assert any(isinstance(r, int) for r in results), results
    assert all(isinstance(r, int | Conflict) for r in results), results
    found = await history(hub, elm)
    current = [h for h in found["history"] if h["ended_on"] is None]
    assert len(current) == 1
    starts = sorted(h["started_on"] for h in found["history"])
    ends = sorted(h["ended_on"] for h in found["history"] if h["ended_on"] is not None)
    assert ends == starts[1:]  # a chain with no gaps and no overlaps
