"""The payment service layer as a state machine (RELIABILITY R7), on in-memory fakes: whatever
the order of payments, refunds and write-offs, no amount goes negative, bills never hold more
than their total, money is conserved, and a payment refunded in full leaves everything as it
was before it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from hub.domain.accounts import Actor, Role
from hub.domain.billing.ledger import (
    Allocation,
    AllocationKind,
    BalanceEntry,
    Bill,
    BillLine,
    Channel,
    Payment,
)
from hub.domain.billing.money import ZERO
from hub.domain.property import Unit, UnitStatus
from hub.handlers.payment_keys import ClaimKey, claim_key
from hub.handlers.payments import (
    RecordPayment,
    RefundPayment,
    WriteOffBill,
    record_payment,
    refund_payment,
    write_off_bill,
)
from tests.fakes import FakeDatabase, FakeUnitOfWork

FINANCE = Actor(account_id=3, role=Role.FINANCE, all_sites=True)
AT = datetime(2026, 12, 1, tzinfo=UTC)
CENT = Decimal("0.01")
cents = st.integers(min_value=1, max_value=60_000).map(lambda c: Decimal(c) / 100)


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


class Ledger(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.db = FakeDatabase()
        self.keys = 0

    def _uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.db)

    async def _do(self, handler: Any, command: Any) -> Any:
        async with self._uow() as uow:
            return await handler(command, uow, clock=lambda: AT)

    def _key(self) -> str:
        self.keys += 1
        key = f"k{self.keys}"
        _run(self._do(claim_key, ClaimKey(FINANCE, key, key)))
        return key

    @initialize(amounts=st.lists(st.lists(cents, min_size=1, max_size=3), min_size=2,
                                 max_size=4))
    def bills(self, amounts: list[list[Decimal]]) -> None:
        async def seed() -> None:
            async with self._uow() as uow:
                for unit_id in (1, 2):
                    uow.add(Unit(site_id=1, building_id=1, number=f"1-0{unit_id}", floor=1,
                                 gross_area=Decimal(90), inner_area=Decimal(80),
                                 status=UnitStatus.OCCUPIED, id=unit_id))
                for index, lines in enumerate(amounts):
                    bill = Bill(1, 1, 1 + index % 2, f"2026-{index + 1:02d}", date(2026, 1, 1),
                                date(2026, 2, 1), date(2026, 2, 15), AT,
                                total=sum(lines, ZERO), id=100 + index)
                    uow.add(bill)
                    for number, amount in enumerate(lines):
                        uow.add(BillLine(bill.id or 0, f"fee:{number}", number, "f",
                                         Decimal(1), amount, amount, ZERO, amount,
                                         date(2026, 2, 15), id=1000 + 10 * index + number))
                await uow.commit()
        _run(seed())

    def _state(self) -> tuple[Any, ...]:
        bills = sorted((b.id, b.paid, b.written_off) for b in self.db.stored(Bill).values())
        lines = sorted((ln.id, ln.paid) for ln in self.db.stored(BillLine).values())
        return bills, lines, self._balance(1), self._balance(2)

    def _balance(self, unit_id: int) -> Decimal:
        return sum((e.amount for e in self.db.stored(BalanceEntry).values()
                    if e.unit_id == unit_id), ZERO)

    def _pay(self, unit_id: int, amount: Decimal, bill_id: int | None) -> int:
        paid = _run(self._do(record_payment, RecordPayment(
            FINANCE, self._key(), unit_id, amount, Channel.CASH, bill_id)))
        return int(paid["id"])

    @rule(unit_id=st.sampled_from([1, 2]), amount=cents, to_bill=st.booleans())
    def pay(self, unit_id: int, amount: Decimal, to_bill: bool) -> None:
        bills = [b.id for b in self.db.stored(Bill).values() if b.unit_id == unit_id]
        self._pay(unit_id, amount, bills[0] if to_bill and bills else None)

    @rule(unit_id=st.sampled_from([1, 2]), amount=cents)
    def pay_and_refund_in_full(self, unit_id: int, amount: Decimal) -> None:
        before = self._state()
        payment_id = self._pay(unit_id, amount, None)
        _run(self._do(refund_payment, RefundPayment(FINANCE, self._key(), payment_id, amount,
                                                    "charged twice")))
        assert self._state() == before

    @rule(choice=st.integers(min_value=0), share=st.integers(min_value=1, max_value=100))
    def refund_part(self, choice: int, share: int) -> None:
        open_ = [p for p in self.db.stored(Payment).values() if p.refundable > 0]
        if not open_:
            return
        payment = open_[choice % len(open_)]
        amount = max(CENT, (payment.refundable * share / 100).quantize(CENT))
        _run(self._do(refund_payment, RefundPayment(FINANCE, self._key(), payment.id or 0,
                                                    amount, "partial refund")))

    @rule(choice=st.integers(min_value=0), share=st.integers(min_value=1, max_value=100))
    def write_off(self, choice: int, share: int) -> None:
        owing = [b for b in self.db.stored(Bill).values() if b.outstanding > 0]
        if not owing:
            return
        bill = owing[choice % len(owing)]
        amount = max(CENT, (bill.outstanding * share / 100).quantize(CENT))
        _run(self._do(write_off_bill, WriteOffBill(FINANCE, bill.id or 0, "hardship", amount)))

    @invariant()
    def amounts_stay_within_bounds(self) -> None:
        for bill in self.db.stored(Bill).values():
            lines = [ln for ln in self.db.stored(BillLine).values() if ln.bill_id == bill.id]
            assert bill.paid >= ZERO and bill.written_off >= ZERO
            assert bill.paid + bill.written_off <= bill.total
            assert bill.paid == sum((ln.paid for ln in lines), ZERO)
            assert all(ZERO <= ln.paid <= ln.amount for ln in lines)
        assert self._balance(1) >= 0 and self._balance(2) >= 0

    @invariant()
    def money_is_conserved(self) -> None:
        received = sum((p.amount - p.refunded for p in self.db.stored(Payment).values()), ZERO)
        on_bills = sum((a.amount for a in self.db.stored(Allocation).values()
                        if a.kind in (AllocationKind.PAYMENT, AllocationKind.REFUND)), ZERO)
        assert received == on_bills + self._balance(1) + self._balance(2)


Ledger.TestCase.settings = settings(max_examples=60, stateful_step_count=12, deadline=None)
TestLedger = Ledger.TestCase
