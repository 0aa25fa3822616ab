"""Billing in the API tests' world: a property fee per site, October 2026 billed for every
unit, a part payment on households A's and B's bills and on riverside's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM
from hub.domain.billing.fees import FeeKind
from hub.domain.billing.idempotency import request_hash
from hub.domain.billing.ledger import Bill, Channel
from hub.handlers.billing import CreateFeeItem
from hub.handlers.billing_runs import CommitRun
from hub.handlers.payment_keys import ClaimKey
from hub.handlers.payments import RecordPayment

if TYPE_CHECKING:
    from tests.integration.api.world import World


async def seed_billing(hub: Hub, w: World) -> None:
    bus = hub.bus
    for site, attribute in ((w.lakeside, "fee_lakeside"), (w.riverside, "fee_river")):
        setattr(w, attribute, await bus.handle(CreateFeeItem(
            SYSTEM, site_id=site, code="property", name="物业费", kind=FeeKind.AREA,
            unit_price=Decimal("2.35"), effective_from=date(2026, 1, 1))))
        await bus.handle(CommitRun(SYSTEM, site_id=site, period="2026-10",
                                   fee_item_ids=(getattr(w, attribute),)))
    async with hub.uow() as uow:
        for unit, attribute in ((w.unit_a, "bill_a"), (w.unit_b, "bill_b"),
                                (w.unit_c, "bill_c"), (w.unit_river, "bill_river")):
            bill = await uow.find_one(Bill, unit_id=unit, period="2026-10")
            assert bill is not None
            setattr(w, attribute, bill.id)
    for unit, bill, attribute in ((w.unit_a, w.bill_a, "payment_a"),
                                  (w.unit_b, w.bill_b, "payment_b"),
                                  (w.unit_river, w.bill_river, "payment_river")):
        key = f"seed-{attribute}"
        await bus.handle(ClaimKey(SYSTEM, key, request_hash("seed", {"key": key})))
        paid = await bus.handle(RecordPayment(SYSTEM, key, unit, Decimal("50.00"),
                                              Channel.CASH, bill))
        setattr(w, attribute, paid["id"])
