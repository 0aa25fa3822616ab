"""Bills, their lines, payments and where each yuan went (allocations, prepaid balances).

Every movement of money is a row: an allocation moves an amount onto (or, negative, off) a bill
line; a balance entry moves it into (or out of) a unit's prepaid balance. Stored totals on
bills and lines are the sums of those rows, kept in step by the functions here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from hub.domain.billing.money import ZERO
from hub.domain.errors import Invalid


class BillStatus(StrEnum):
    OPEN = "open"  # nothing settled yet
    PARTIAL = "partial"
    PAID = "paid"  # settled by payments, balance and write-offs


class Channel(StrEnum):
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    ONLINE = "online"


class PaymentStatus(StrEnum):
    PENDING = "pending"  # online: waiting for the provider's callback
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AllocationKind(StrEnum):
    PAYMENT = "payment"
    BALANCE = "balance"  # deducted from the unit's prepaid balance
    WRITE_OFF = "write_off"
    REFUND = "refund"  # negative: a refund took it back off the line


class BalanceKind(StrEnum):
    EXCESS = "excess"  # what a payment left after its bills
    DEDUCTION = "deduction"  # moved onto a bill
    REFUND = "refund"
    OPENING = "opening"  # credit carried over from the previous system (期初预存)


# The period of a unit's opening arrears (期初欠费), carried over from the previous system.
OPENING_PERIOD = "opening"


@dataclass(eq=False)
class Bill:
    site_id: int
    building_id: int
    unit_id: int
    period: str
    period_start: date
    period_end: date
    due_date: date
    issued_at: datetime
    total: Decimal = ZERO
    paid: Decimal = ZERO
    written_off: Decimal = ZERO
    version: int | None = None  # optimistic lock: two payments racing on one bill → 409
    id: int | None = None

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.paid - self.written_off

    @property
    def status(self) -> BillStatus:
        if self.outstanding <= 0:
            return BillStatus.PAID
        return BillStatus.OPEN if self.paid + self.written_off == 0 else BillStatus.PARTIAL


@dataclass(eq=False)
class BillLine:
    bill_id: int
    key: str
    fee_item_id: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    amount: Decimal
    due_date: date
    detail: list[str] = field(default_factory=list)
    paid: Decimal = ZERO
    written_off: Decimal = ZERO
    id: int | None = None

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid - self.written_off

    @property
    def is_late_fee(self) -> bool:
        return self.key.startswith("late:")


@dataclass(eq=False)
class Payment:
    site_id: int
    unit_id: int
    amount: Decimal
    channel: Channel
    status: PaymentStatus
    created_at: datetime
    created_by: int | None
    bill_id: int | None = None
    paid_at: datetime | None = None
    provider: str = ""
    provider_ref: str | None = None
    reference: str = ""  # the bank's or the cashier's own reference
    refunded: Decimal = ZERO
    version: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.amount.is_finite() or self.amount <= 0:
            raise Invalid("amount must be more than zero", field="amount")

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded if self.status == PaymentStatus.SUCCEEDED else ZERO


@dataclass(eq=False)
class Allocation:
    bill_id: int
    line_id: int
    amount: Decimal  # negative for refunds
    kind: AllocationKind
    at: datetime
    payment_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class BalanceEntry:
    site_id: int
    unit_id: int
    amount: Decimal  # positive: money held for the unit; negative: used or returned
    kind: BalanceKind
    at: datetime
    payment_id: int | None = None
    bill_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Refund:
    payment_id: int
    amount: Decimal
    reason: str
    at: datetime
    by: int
    id: int | None = None


@dataclass(eq=False)
class WriteOff:
    bill_id: int
    amount: Decimal
    reason: str
    at: datetime
    by: int
    id: int | None = None


def settle(bill: Bill, lines: Sequence[BillLine], amount: Decimal, kind: AllocationKind,
           at: datetime, payment_id: int | None = None) -> list[Allocation]:
    """Put up to `amount` onto the bill's lines, earliest due first (late fees last), and
    return the allocations; what does not fit stays with the caller."""
    assert bill.id is not None
    allocations: list[Allocation] = []
    left = amount
    for line in sorted(lines, key=lambda ln: (ln.is_late_fee, ln.due_date, ln.id or 0)):
        share = min(left, line.outstanding)
        if share <= 0:
            continue
        assert line.id is not None
        if kind == AllocationKind.WRITE_OFF:
            line.written_off += share
            bill.written_off += share
        else:
            line.paid += share
            bill.paid += share
        allocations.append(Allocation(bill.id, line.id, share, kind, at, payment_id))
        left -= share
        if left == 0:
            break
    return allocations


def take_back(lines_by_id: dict[int, BillLine], bills_by_id: dict[int, Bill],
              given: Sequence[Allocation], amount: Decimal, at: datetime,
              payment_id: int) -> tuple[list[Allocation], Decimal]:
    """Reverse up to `amount` of what a payment put onto lines, latest first.

    `given` is the payment's allocations so far (refunds included, negative); returns the
    reversing allocations and what could not be taken back from lines.
    """
    net: dict[int, Decimal] = {}
    for allocation in given:
        net[allocation.line_id] = net.get(allocation.line_id, ZERO) + allocation.amount
    reversals: list[Allocation] = []
    left = amount
    for allocation in sorted(given, key=lambda a: a.id or 0, reverse=True):
        share = min(left, net[allocation.line_id])
        if share <= 0 or allocation.kind != AllocationKind.PAYMENT:
            continue
        line = lines_by_id[allocation.line_id]
        bill = bills_by_id[allocation.bill_id]
        line.paid -= share
        bill.paid -= share
        net[allocation.line_id] -= share
        reversals.append(Allocation(allocation.bill_id, allocation.line_id, -share,
                                    AllocationKind.REFUND, at, payment_id))
        left -= share
        if left == 0:
            break
    return reversals, left


@dataclass(eq=False)
class ProviderEvent:
    """A payment provider's callback, kept so that a replay finds it and changes nothing."""

    provider: str
    event_id: str
    payment_id: int
    at: datetime
    id: int | None = None
