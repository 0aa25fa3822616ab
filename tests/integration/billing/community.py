"""Maple Court (枫丹苑): three units, a property fee, tiered water, late fees, one discount.

    1-101  100.00 m²  occupied, lived in since 2020
    1-102   88.88 m²  occupied, its tenant moves out on 20 November 2026
    1-103  120.50 m²  vacant (空置), 30 % off the property fee
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from hub.bootstrap import Hub
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Actor
from hub.domain.billing.discounts import DiscountKind
from hub.domain.billing.fees import FeeKind
from hub.domain.billing.idempotency import request_hash
from hub.domain.billing.ledger import Channel
from hub.domain.residents import Relation
from hub.handlers.billing import CreateDiscount, CreateFeeItem, RecordReading
from hub.handlers.billing_runs import CommitRun
from hub.handlers.payment_keys import ClaimKey
from hub.handlers.payments import RecordPayment

D = Decimal


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Maple:
    site: int = 0
    building: int = 0
    units: dict[str, int] = field(default_factory=dict)
    property_fee: int = 0
    water: int = 0
    late: int = 0
    residency_102: int = 0


async def build(hub: Hub) -> Maple:
    m = Maple()
    bus = hub.bus
    m.site = await bus.handle(c.CreateSite(SYSTEM, code="maple", name="Maple Court 枫丹苑"))
    m.building = await bus.handle(c.CreateBuilding(SYSTEM, site_id=m.site, code="m1",
                                                   name="1号楼", floors=6))
    for number, gross, status in (("1-101", "100.00", "occupied"),
                                  ("1-102", "88.88", "occupied"),
                                  ("1-103", "120.50", "vacant")):
        m.units[number] = await bus.handle(c.CreateUnit(
            SYSTEM, building_id=m.building, number=number, floor=1, gross_area=D(gross),
            inner_area=D(gross) - D(20), status=status))
    for number, name in (("1-101", "陈静"), ("1-102", "刘洋")):
        await bus.handle(c.RegisterResident(
            SYSTEM, site_id=m.site, name=name,
            residencies=(c.ResidencyIn(m.units[number], Relation.TENANT, date(2020, 5, 1)),)))
    m.property_fee = await bus.handle(CreateFeeItem(
        SYSTEM, site_id=m.site, code="property", name="物业费", kind=FeeKind.AREA,
        unit_price=D("2.35"), effective_from=date(2026, 1, 1)))
    m.water = await bus.handle(CreateFeeItem(
        SYSTEM, site_id=m.site, code="water", name="水费", kind=FeeKind.METERED, meter="water",
        unit_price=D(0), effective_from=date(2026, 1, 1),
        tiers=((D(10), D("3.00")), (D(20), D("4.50")), (None, D("6.00")))))
    m.late = await bus.handle(CreateFeeItem(
        SYSTEM, site_id=m.site, code="late", name="滞纳金", kind=FeeKind.LATE_FEE,
        unit_price=D("0.0005"), effective_from=date(2026, 1, 1), grace_days=10,
        cap_rate=D("0.05")))
    await bus.handle(CreateDiscount(SYSTEM, site_id=m.site, name="空置房七折",
                                    kind=DiscountKind.VACANT_UNIT, percent=D(30),
                                    fee_item_id=m.property_fee))
    return m


async def pay(hub: Hub, unit_id: int, amount: str, key: str, bill_id: int | None = None,
              actor: Actor = SYSTEM) -> dict[str, object]:
    """A cash payment the way the API makes one: claim the key, then pay."""
    await hub.bus.handle(ClaimKey(actor, key, request_hash("test", {"key": key})))
    result: dict[str, object] = await hub.bus.handle(RecordPayment(
        actor, key=key, unit_id=unit_id, amount=D(amount), channel=Channel.CASH,
        bill_id=bill_id))
    return result


async def history(hub: Hub, m: Maple) -> None:
    """June and October billed; June paid but by 1-101, October unpaid by 1-102. Water read
    for October, and on 3 December for November."""
    for period in ("2026-06", "2026-10"):
        await hub.bus.handle(CommitRun(SYSTEM, site_id=m.site, period=period,
                                       fee_item_ids=(m.property_fee,)))
    await pay(hub, m.units["1-102"], "208.87", "june-102")  # oldest bill first: June
    await pay(hub, m.units["1-103"], "396.46", "both-103")  # 198.23 × 2
    await pay(hub, m.units["1-101"], "235.00", "oct-101", bill_id=await _bill(hub, m, "1-101",
                                                                                "2026-10"))
    await hub.bus.handle(c.EndResidency(SYSTEM, residency_id=await _residency(hub, m),
                                        moved_out=date(2026, 11, 20)))
    for number, value in (("1-101", "1000.0"), ("1-102", "500.0")):
        await hub.bus.handle(RecordReading(SYSTEM, unit_id=m.units[number], meter="water",
                                           value=D(value), read_on=date(2026, 10, 31),
                                           period="2026-10"))
    for number, value in (("1-101", "1025.5"), ("1-102", "507.3")):
        await hub.bus.handle(RecordReading(SYSTEM, unit_id=m.units[number], meter="water",
                                           value=D(value), read_on=date(2026, 12, 3)))


async def _bill(hub: Hub, m: Maple, number: str, period: str) -> int:
    from hub.domain.billing.ledger import Bill

    async with hub.uow() as uow:
        bill = await uow.find_one(Bill, unit_id=m.units[number], period=period)
        assert bill is not None and bill.id is not None
        return bill.id


async def _residency(hub: Hub, m: Maple) -> int:
    from hub.domain.residents import Residency

    async with hub.uow() as uow:
        found = await uow.find_one(Residency, unit_id=m.units["1-102"])
        assert found is not None and found.id is not None
        return found.id
