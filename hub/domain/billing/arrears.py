"""Arrears reminders (催缴提醒): which households to remind, and what to tell them.

Reminders only: nothing here, nor anywhere in the hub, cuts or limits a service for arrears.
`choose_reminders` is pure: given the unpaid bills, when each unit was last reminded and the
policy, the same facts always give the same reminders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from hub.domain.billing.money import ZERO
from hub.domain.errors import Invalid


@dataclass(frozen=True)
class ArrearsPolicy:
    """Remind a household when it owes more than `min_amount` on bills overdue for more than
    `overdue_days` days, at most once every `repeat_days` days."""

    overdue_days: int = 30
    repeat_days: int = 14
    min_amount: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        if self.overdue_days < 0:
            raise Invalid("overdue_days must be 0 or more", field="overdue_days")
        if self.repeat_days < 1:
            raise Invalid("repeat_days must be at least 1", field="repeat_days")
        if not self.min_amount.is_finite() or self.min_amount < 0:
            raise Invalid("min_amount must be 0 or more", field="min_amount")


@dataclass(frozen=True)
class UnpaidBill:
    bill_id: int
    site_id: int
    unit_id: int
    unit_number: str
    period: str
    due_date: date
    outstanding: Decimal


@dataclass(frozen=True)
class Reminder:
    site_id: int
    unit_id: int
    unit_number: str
    bill_ids: tuple[int, ...]
    periods: tuple[str, ...]
    amount: Decimal
    oldest_due: date

    def title(self) -> str:
        return f"缴费提醒 Payment reminder: {self.unit_number}"

    def body(self) -> str:
        return (f"{self.unit_number} 有 {len(self.bill_ids)} 张账单逾期未缴"
                f"（{'、'.join(self.periods)}），合计 {self.amount} 元，最早应于"
                f" {self.oldest_due.isoformat()} 缴纳。请在“我的账单”中查看并缴纳；如已缴纳请"
                f"忽略。此为提醒，不影响任何服务。\n"
                f"{self.unit_number}: {len(self.bill_ids)} overdue bill(s)"
                f" ({', '.join(self.periods)}), {self.amount} in total, the oldest due"
                f" {self.oldest_due.isoformat()}. See My bills to pay; ignore this if paid"
                f" already. A reminder only: no service is affected.")


def choose_reminders(bills: Iterable[UnpaidBill], last_reminded: Mapping[int, datetime],
                     policy: ArrearsPolicy, now: datetime) -> list[Reminder]:
    """One reminder per unit owing more than the threshold on bills more than
    `overdue_days` past due (on `now`'s date), unless reminded in the last `repeat_days`.
    `last_reminded`: unit id → when it was last reminded."""
    today = now.date()
    owed: dict[int, list[UnpaidBill]] = defaultdict(list)
    for bill in bills:
        if bill.outstanding > 0 and (today - bill.due_date).days > policy.overdue_days:
            owed[bill.unit_id].append(bill)
    chosen = []
    for unit_id, unpaid in sorted(owed.items()):
        amount = sum((b.outstanding for b in unpaid), ZERO)
        if amount <= policy.min_amount:
            continue
        last = last_reminded.get(unit_id)
        if last is not None and now - last < timedelta(days=policy.repeat_days):
            continue
        unpaid.sort(key=lambda b: (b.due_date, b.bill_id))
        chosen.append(Reminder(
            site_id=unpaid[0].site_id, unit_id=unit_id, unit_number=unpaid[0].unit_number,
            bill_ids=tuple(b.bill_id for b in unpaid), periods=tuple(b.period for b in unpaid),
            amount=amount, oldest_due=unpaid[0].due_date))
    return chosen
