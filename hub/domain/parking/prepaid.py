"""Paying before the exit (场内预付): what a stay still owes, given what was paid for it.

A payment made at `paid_at` settles the stay as if the car had left then, and gives it
`grace` to reach the exit (出场宽限). The reckoning at a moment `at` (the exit, or "now" in
the app) is:

    billed_to = of `at` and the payment moments whose grace still runs at `at`, the one
                whose quote (entry → that moment) is the smallest (the earliest, by a
                quote's monotonicity; ties go to the earlier)
    due       = max(0, quote(entry → billed_to) − everything paid for this stay)
    to_settle = max(0, quote(entry → at) − everything paid for this stay)

Why so:
- Within a grace the stay is billed only up to the payment that opened it: a car that paid
  the quoted amount and leaves in time owes 0. Once no grace runs any more, billing resumes
  from the tariff's rules for the *whole* stay, entry to exit, less what was paid: the car
  pays the difference the tariff says, nothing for the grace twice and nothing less.
- The payments of this stay are part of this stay's charge, never `PriorCharge`s: the
  whole-stay quote already holds the cap of every window (and the plate's earlier stays as
  their `PriorCharge`s), so `due` plus what was paid is never above the tariff's own figure,
  and a cap reached before a payment stays reached after it. Passing the stay's own payments
  as prior charges would count them twice against the cap.
- The smallest figure among the covering payments is taken, not merely the latest payment's:
  a further payment only adds to what was paid and only adds a candidate end of billing, so
  paying never raises what is due, even where coupon rounding makes a quote dip.
- `to_settle` is what the app asks for: the stay up to now, not up to an earlier payment,
  so that after paying it the car owes 0 for the whole coming grace.
- Payment moments come from the hub's clock, entry and exit from the camera's. A payment
  stamped before the entry or after `at` (a camera clock off by minutes) counts as made at
  the entry or at `at`: a skewed clock never makes a paid car owe more than it paid for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from hub.domain.billing.ledger import PaymentStatus
from hub.domain.errors import Invalid
from hub.domain.parking.explain import when, yuan
from hub.domain.parking.quote import ZERO, PriorCharge, Quote, Stay, quote
from hub.domain.parking.tariff import Tariff, price

MAX_GRACE_MINUTES = 24 * 60


@dataclass(frozen=True)
class PrepaidPayment:
    """A succeeded payment for the stay, at the hub's clock."""

    amount: Decimal
    paid_at: datetime

    def __post_init__(self) -> None:
        if self.paid_at.tzinfo is None or self.paid_at.utcoffset() is None:
            raise Invalid("paid_at needs a UTC offset", field="payments.paid_at")
        object.__setattr__(self, "amount", price(self.amount, "payments.amount"))
        if self.amount == 0:  # a payment of nothing must not open a grace
            raise Invalid("a payment is more than 0", field="payments.amount")


@dataclass(frozen=True)
class PaidLine:
    """One line after the tariff's: a payment taken off, or the grace that stops the clock."""

    kind: str  # "paid" or "grace"
    amount: Decimal
    explain_zh: str
    explain_en: str
    at: datetime


@dataclass(frozen=True)
class Reckoning:
    """What the stay owes at `at`: the tariff's quote to `billed_to`, then the paid lines."""

    at: datetime
    billed_to: datetime
    quote: Quote  # entry → billed_to, by the tariff
    paid: Decimal
    due: Decimal  # leaving at `at`
    to_settle: Decimal  # to pay at `at` so that leaving within the coming grace owes 0
    grace_until: datetime | None  # the grace that runs at `at`, if one does
    lines: tuple[PaidLine, ...]


def _clamped(payment: PrepaidPayment, stay: Stay) -> datetime:
    return min(max(payment.paid_at, stay.entry), stay.exit)


def reckon(tariff: Tariff, stay: Stay, payments: Sequence[PrepaidPayment], grace_minutes: int,
           history: Sequence[PriorCharge] = ()) -> Reckoning:
    """What `stay` owes when it ends at `stay.exit` (the exit, or now), after `payments`."""
    if not 0 <= grace_minutes <= MAX_GRACE_MINUTES:
        raise Invalid(f"the grace must be 0 to {MAX_GRACE_MINUTES} minutes",
                      field="pay_grace_minutes")
    grace = timedelta(minutes=grace_minutes)
    at, zone = stay.exit, stay.entry.tzinfo
    moments = sorted(_clamped(p, stay) for p in payments)
    covering = [m for m in moments if at <= m + grace]
    whole = quote(tariff, stay, history)
    billed_to, billed = at, whole
    for moment in dict.fromkeys(covering):  # earliest first: ties keep the earlier
        candidate = quote(tariff, replace(stay, exit=moment), history)
        if candidate.total < billed.total or (candidate.total == billed.total
                                              and moment < billed_to):
            billed_to, billed = moment, candidate
    paid = sum((p.amount for p in payments), ZERO)
    lines = [PaidLine("paid", ZERO - p.amount, f"已于{when(m, zone)}预付{yuan(p.amount)}",
                      f"Paid {yuan(p.amount)} in advance at {when(m, zone)}", m)
             for p, m in sorted(((p, _clamped(p, stay)) for p in payments),
                                key=lambda pm: pm[1])]
    grace_until = covering[-1] + grace if covering else None
    if covering:
        lines.append(PaidLine(
            "grace", ZERO,
            f"付款后{grace_minutes}分钟内离场：计费截至{when(billed_to, zone)}",
            f"Left within {grace_minutes} minutes of paying: charged up to "
            f"{when(billed_to, zone)}", billed_to))
    return Reckoning(at=at, billed_to=billed_to, quote=billed, paid=paid,
                     due=max(ZERO, billed.total - paid), to_settle=max(ZERO, whole.total - paid),
                     grace_until=grace_until, lines=tuple(lines))


class PaySource(StrEnum):
    """Who started the payment: the scanned QR or link differs, the money does not."""

    APP = "app"  # a resident, for a session of their household's car
    VISITOR = "visitor"  # whoever holds the signed, short-lived link of a session
    EXIT = "exit"  # the QR on the exit display, for the fee shown there


@dataclass(eq=False)
class ParkingPayment:
    """An online payment for one parking session, through the hub's payment providers."""

    session_id: int
    site_id: int
    amount: Decimal
    source: PaySource
    status: PaymentStatus
    created_at: datetime
    provider: str
    created_by: int | None = None  # the account; None for a visitor's link
    provider_ref: str | None = None
    paid_at: datetime | None = None
    paid_until: datetime | None = None  # paid_at + the grace: leave by then, owing nothing
    version: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.amount.is_finite() or self.amount <= 0:
            raise Invalid("amount must be more than zero", field="amount")


@dataclass(eq=False)
class ParkingPaymentEvent:
    """A provider's callback for a parking payment, kept so that a replay changes nothing."""

    provider: str
    event_id: str
    payment_id: int
    at: datetime
    id: int | None = None
