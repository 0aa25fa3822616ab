"""Arrears reminders on Maple Court at controlled times: only the owing household's accounts
are told (never its neighbours, nor a resident who moved out), each reminder is recorded with
its bills, and it is not repeated within the repeat window; paying stops them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hub.billing_reminders import RULE_ID, run_arrears_reminders
from hub.bootstrap import Hub
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.audit import AuditAction, AuditEntry
from hub.domain.billing.arrears import ArrearsPolicy
from hub.domain.notifications import Notification
from hub.domain.outcomes import Cause, Notify
from hub.domain.residents import Relation, Residency, Resident
from tests.integration.billing import community
from tests.integration.billing.community import Maple

D = Decimal
DEC_1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _accounts(hub: Hub, m: Maple) -> dict[str, int]:
    """Accounts of 陈静 (1-101), 刘洋 (1-102, moved out on 20 November) and 王芳 (1-102 from
    25 November)."""
    await hub.bus.handle(c.RegisterResident(
        SYSTEM, site_id=m.site, name="王芳",
        residencies=(c.ResidencyIn(m.units["1-102"], Relation.TENANT, date(2026, 11, 25)),)))
    async with hub.uow() as uow:
        people = {r.name: r.id for r in await uow.find(Resident, site_id=m.site)}
    found = {}
    for name in ("陈静", "刘洋", "王芳"):
        found[name] = await hub.bus.handle(c.CreateAccount(
            SYSTEM, username=f"user-{people[name]}", password="a-long-password-1",
            role=Role.RESIDENT, resident_id=people[name]))
    return found


async def _feed(hub: Hub, account_id: int) -> list[Notification]:
    async with hub.uow() as uow:
        return list(await uow.find(Notification, account_id=account_id))


async def _records(hub: Hub) -> list[AuditEntry]:
    async with hub.uow() as uow:
        return sorted(await uow.find(AuditEntry, action=AuditAction.ARREARS_REMINDED),
                      key=lambda e: (e.at, e.target))


async def test_reminders_reach_only_the_owing_household_and_are_not_repeated(
        hub: Hub) -> None:
    m = await community.build(hub)
    await community.history(hub, m)  # 1-101 owes June (due 15 Jul), 1-102 October (15 Nov)
    who = await _accounts(hub, m)
    june_101 = await community._bill(hub, m, "1-101", "2026-06")
    october_102 = await community._bill(hub, m, "1-102", "2026-10")

    sent = await run_arrears_reminders(hub.bus, hub.uow, DEC_1)

    assert [(r.unit_id, r.bill_ids, r.amount) for r in sent] == [
        (m.units["1-101"], (june_101,), D("235.00"))]  # 1-102's bill is 16 days overdue
    [told] = await _feed(hub, who["陈静"])
    assert "1-101" in told.title and "235.00" in told.body and told.rule_id == RULE_ID
    assert await _feed(hub, who["刘洋"]) == [] and await _feed(hub, who["王芳"]) == []
    [record] = await _records(hub)
    assert (record.target, record.detail, record.at) == (
        f"unit:{m.units['1-101']}", {"bill_ids": str(june_101), "amount": "235.00",
                                     "told": "1"}, DEC_1)

    assert await run_arrears_reminders(hub.bus, hub.uow, DEC_1 + timedelta(days=1)) == []
    assert await run_arrears_reminders(hub.bus, hub.uow, DEC_1 + timedelta(days=13)) == []
    assert len(await _feed(hub, who["陈静"])) == 1

    later = DEC_1 + timedelta(days=16)  # 16 ≥ 14 days since; 1-102's bill 32 days overdue
    sent = await run_arrears_reminders(hub.bus, hub.uow, later)

    assert {r.unit_id: r.bill_ids for r in sent} == {m.units["1-101"]: (june_101,),
                                                      m.units["1-102"]: (october_102,)}
    assert len(await _feed(hub, who["陈静"])) == 2
    [to_new_tenant] = await _feed(hub, who["王芳"])
    assert "1-102" in to_new_tenant.title and "208.87" in to_new_tenant.body
    assert await _feed(hub, who["刘洋"]) == []  # moved out: no longer the household
    assert not any("1-101" in n.title for n in await _feed(hub, who["王芳"]))
    assert len(await _records(hub)) == 3

    await community.pay(hub, m.units["1-101"], "235.00", "june-101-late", bill_id=june_101)
    sent = await run_arrears_reminders(hub.bus, hub.uow, later + timedelta(days=20))
    assert [r.unit_id for r in sent] == [m.units["1-102"]]  # paid: no more reminders


async def test_the_threshold_and_overdue_days_are_configurable(hub: Hub) -> None:
    m = await community.build(hub)
    await community.history(hub, m)
    await _accounts(hub, m)
    high = ArrearsPolicy(min_amount=D("235.00"))
    assert await run_arrears_reminders(hub.bus, hub.uow, DEC_1, high) == []
    soon = ArrearsPolicy(overdue_days=10)
    assert {r.unit_number for r in await run_arrears_reminders(hub.bus, hub.uow, DEC_1, soon)} \
        == {"1-101", "1-102"}
    assert await _records(hub) != []


async def test_notify_to_a_unit_tells_its_residents_only(hub: Hub) -> None:
    m = await community.build(hub)
    await community.history(hub, m)
    who = await _accounts(hub, m)
    told = await hub.bus.handle(Notify(site_id=m.site, unit_id=m.units["1-102"], title="t",
                                       body="b", at=DEC_1, cause=Cause(rule_id="test")))
    assert told == 1
    assert [len(await _feed(hub, who[n])) for n in ("陈静", "刘洋", "王芳")] == [0, 0, 1]
    async with hub.uow() as uow:  # 刘洋's residency of 1-102 ended; 王芳's is live
        assert len(await uow.find(Residency, unit_id=m.units["1-102"])) == 2
