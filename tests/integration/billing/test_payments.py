"""S7 on every backend: one payment per idempotency key and per provider event, whatever the
replays and races; refunds restore to the cent and are audited."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.api.routers.payments import deliver, once
from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.domain.billing.ledger import Channel
from hub.domain.errors import Conflict, Invalid, NotFound, PermissionDenied
from hub.handlers.billing_runs import CommitRun
from hub.handlers.payments import ApplyCallback, RecordPayment, RefundPayment, StartOnlinePayment
from hub.payments.sandbox import SandboxProvider, sandbox_secret
from hub.store.billing_tables import (
    allocations,
    balance_entries,
    bills,
    idempotency_keys,
    payments,
    provider_events,
)
from hub.store.tables import audit_log
from tests.integration.billing import community
from tests.integration.billing.community import Maple

D = Decimal
FINANCE = Actor(account_id=7, role=Role.FINANCE, all_sites=True)
MANAGER = Actor(account_id=8, role=Role.MANAGER, all_sites=True)


async def _count(hub: Hub, table: Any, *where: Any) -> int:
    async with hub.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where))
                   or 0)


async def _bill(hub: Hub, m: Maple, number: str = "1-101") -> dict[str, Any]:
    async with hub.engine.connect() as conn:
        row = (await conn.execute(select(bills).where(
            bills.c.unit_id == m.units[number], bills.c.period == "2026-06"))).one()
    return dict(row._mapping)


async def _june(hub: Hub) -> Maple:
    m = await community.build(hub)
    await hub.bus.handle(CommitRun(SYSTEM, site_id=m.site, period="2026-06",
                                   fee_item_ids=(m.property_fee,)))
    return m


def _cash(m: Maple, amount: str = "100.00") -> Any:
    return lambda key: RecordPayment(SYSTEM, key, m.units["1-101"], D(amount), Channel.CASH)


async def test_twenty_concurrent_payments_with_one_key_make_one_payment(hub: Hub) -> None:
    m = await _june(hub)
    params = {"unit_id": m.units["1-101"], "amount": "100.00"}

    async def attempt() -> tuple[int, Any]:
        try:
            response = await once(hub.bus, SYSTEM, "pay-20", "POST /payments", params, _cash(m))
        except Conflict:
            return 409, None
        return response.status_code, response.body

    answers = await asyncio.gather(*(attempt() for _ in range(20)))

    statuses = sorted(status for status, _ in answers)
    print(f"S7 concurrent: {statuses.count(201)} × 201, {statuses.count(409)} × 409, "
          f"payments created 1 expected, {await _count(hub, payments)} found")
    assert await _count(hub, payments) == 1
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert len({body for status, body in answers if status == 201}) == 1  # one answer
    assert (await _bill(hub, m))["paid"] == D("100.00")
    replay = await once(hub.bus, SYSTEM, "pay-20", "POST /payments", params, _cash(m))
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (201, "true")
    assert await _count(hub, payments) == 1


async def test_the_same_key_with_another_amount_is_refused(hub: Hub) -> None:
    m = await _june(hub)
    await once(hub.bus, SYSTEM, "k1", "POST /payments", {"amount": "100.00"}, _cash(m))
    with pytest.raises(Invalid, match="other parameters"):
        await once(hub.bus, SYSTEM, "k1", "POST /payments", {"amount": "90.00"},
                   _cash(m, "90.00"))
    assert await _count(hub, payments) == 1


async def test_a_failed_request_keeps_its_answer_for_its_key(hub: Hub) -> None:
    m = await _june(hub)
    bad = lambda key: RecordPayment(SYSTEM, key, 2_000_000, D("1.00"), Channel.CASH)  # noqa: E731
    with pytest.raises(NotFound, match="unit 2000000 not found"):
        await once(hub.bus, SYSTEM, "k-bad", "POST /payments", {"unit": 2_000_000}, bad)
    replay = await once(hub.bus, SYSTEM, "k-bad", "POST /payments", {"unit": 2_000_000}, bad)
    assert replay.status_code == 404
    assert b"unit 2000000 not found" in replay.body
    assert await _count(hub, payments) == 0
    assert await _count(hub, idempotency_keys, idempotency_keys.c.key == "k-bad") == 1
    del m


async def test_a_callback_replayed_five_times_makes_one_payment(hub: Hub) -> None:
    m = await _june(hub)
    bill = await _bill(hub, m)
    with pytest.raises(Conflict, match="not claimed"):  # no work without a claimed key
        await hub.bus.handle(StartOnlinePayment(SYSTEM, "online-1", bill["id"]))
    await once(hub.bus, SYSTEM, "online-2", "POST /me/bills/pay", {"bill": bill["id"]},
               lambda key: StartOnlinePayment(SYSTEM, key, bill["id"]))
    async with hub.engine.connect() as conn:
        payment = (await conn.execute(select(payments).where(
            payments.c.status == "pending"))).first()
    assert payment is not None
    provider = SandboxProvider(sandbox_secret(
        hub.settings.security.jwt_secret.get_secret_value().encode()))
    body, signature = provider.callback(payment.provider_ref, payment.amount, event_id="e-1")

    racing = await asyncio.gather(*(deliver(hub.bus, "sandbox", body, signature)
                                    for _ in range(3)))
    later = [await deliver(hub.bus, "sandbox", body, signature) for _ in range(2)]

    results = sorted(r["result"] for r in (*racing, *later))
    print(f"S7 callback: 5 deliveries (3 at once, 2 later): {results}; payments applied "
          f"{await _count(hub, provider_events)}, allocations {await _count(hub, allocations)}")
    assert results == ["already_applied"] * 4 + ["applied"]
    assert await _count(hub, provider_events) == 1
    assert await _count(hub, allocations, allocations.c.payment_id == payment.id) == 1
    assert (await _bill(hub, m))["paid"] == D("235.00")


async def test_a_callback_with_a_bad_signature_changes_nothing(hub: Hub) -> None:
    m = await _june(hub)
    bill = await _bill(hub, m)
    await once(hub.bus, SYSTEM, "online-1", "x", {}, lambda key: StartOnlinePayment(
        SYSTEM, key, bill["id"]))
    async with hub.engine.connect() as conn:
        payment = (await conn.execute(select(payments))).one()
    forged = SandboxProvider(b"not the hub's secret, at all").callback(
        payment.provider_ref, payment.amount)
    with pytest.raises(Invalid, match="signature"):
        await hub.bus.handle(ApplyCallback("sandbox", *forged))
    assert await _count(hub, provider_events) == 0
    assert (await _bill(hub, m))["paid"] == D("0.00")


async def test_a_refund_restores_bill_and_balance_exactly_and_is_audited(hub: Hub) -> None:
    m = await _june(hub)
    before = await _bill(hub, m)
    paid = await once(hub.bus, SYSTEM, "p1", "POST /payments", {}, _cash(m, "300.00"))
    assert paid.status_code == 201
    payment_id = (await _first_payment(hub))
    with pytest.raises(PermissionDenied):
        await hub.bus.handle(RefundPayment(MANAGER, "r0", payment_id, D("300.00"), "x" * 5))
    assert await _count(hub, balance_entries) == 1  # 65.00 over the 235.00 bill

    refund = await once(hub.bus, FINANCE, "r1", "POST /refund", {}, lambda key: RefundPayment(
        FINANCE, key, payment_id, D("300.00"), "charged twice at the desk"))

    assert refund.status_code == 201
    after = await _bill(hub, m)
    assert (after["paid"], after["total"]) == (before["paid"], before["total"])
    async with hub.engine.connect() as conn:
        balance = await conn.scalar(select(func.sum(balance_entries.c.amount)))
        audits = (await conn.execute(select(audit_log).where(
            audit_log.c.action == "refund"))).all()
    assert D(balance) == D("0.00")
    assert len(audits) == 1
    assert audits[0].detail == {"refund": "1", "amount": "300.00"}
    with pytest.raises(Invalid, match=r"at most 0\.00"):
        await hub.bus.handle(RefundPayment(FINANCE, "r2", payment_id, D("0.01"), "again?"))


async def _first_payment(hub: Hub) -> int:
    async with hub.engine.connect() as conn:
        return int(await conn.scalar(select(func.min(payments.c.id))) or 0)
