"""Which households an arrears reminder goes to: overdue beyond N days, owing more than the
threshold, not reminded within M days — at controlled times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.billing.arrears import ArrearsPolicy, UnpaidBill, choose_reminders
from hub.domain.errors import Invalid

D = Decimal
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = ArrearsPolicy(overdue_days=30, repeat_days=14, min_amount=D("10.00"))


def bill(bill_id: int, unit_id: int, due: date, outstanding: str,
         period: str = "2026-06") -> UnpaidBill:
    return UnpaidBill(bill_id=bill_id, site_id=1, unit_id=unit_id, unit_number=f"1-{unit_id}",
                      period=period, due_date=due, outstanding=D(outstanding))


def test_only_bills_overdue_beyond_n_days_count_and_each_unit_gets_one_reminder() -> None:
    bills = [
        bill(1, 101, date(2026, 7, 15), "235.00", "2026-06"),  # 139 days overdue
        bill(2, 101, date(2026, 8, 15), "235.00", "2026-07"),  # 108 days
        bill(3, 101, date(2026, 11, 15), "235.00", "2026-10"),  # 16 days: not yet
        bill(4, 102, date(2026, 10, 31), "50.00"),  # exactly 31 days: beyond 30
        bill(5, 103, date(2026, 11, 1), "50.00"),  # exactly 30 days: not beyond
    ]
    chosen = choose_reminders(bills, {}, POLICY, NOW)
    assert [(r.unit_id, r.bill_ids, r.amount, r.oldest_due) for r in chosen] == [
        (101, (1, 2), D("470.00"), date(2026, 7, 15)),
        (102, (4,), D("50.00"), date(2026, 10, 31)),
    ]
    assert "470.00" in chosen[0].body() and "2026-06、2026-07" in chosen[0].body()
    assert "不影响任何服务" in chosen[0].body()


def test_the_threshold_is_on_the_sum_and_must_be_exceeded() -> None:
    due = date(2026, 7, 15)
    assert choose_reminders([bill(1, 101, due, "10.00")], {}, POLICY, NOW) == []
    assert choose_reminders([bill(1, 101, due, "6.00"), bill(2, 101, due, "4.01")], {},
                            POLICY, NOW)[0].amount == D("10.01")
    assert choose_reminders([bill(1, 101, due, "0.00")], {},
                            ArrearsPolicy(min_amount=D(0)), NOW) == []


def test_a_unit_reminded_within_m_days_is_not_reminded_again() -> None:
    bills = [bill(1, 101, date(2026, 7, 15), "235.00")]
    just_before = NOW - timedelta(days=14) + timedelta(seconds=1)
    assert choose_reminders(bills, {101: just_before}, POLICY, NOW) == []
    assert len(choose_reminders(bills, {101: NOW - timedelta(days=14)}, POLICY, NOW)) == 1
    assert len(choose_reminders(bills, {102: NOW}, POLICY, NOW)) == 1  # another unit's


@pytest.mark.parametrize("bad", [{"overdue_days": -1}, {"repeat_days": 0},
                                 {"min_amount": D("-1")}, {"min_amount": D("NaN")}])
def test_a_bad_policy_is_refused_naming_the_setting(bad: dict[str, object]) -> None:
    with pytest.raises(Invalid) as err:
        ArrearsPolicy(**bad)  # type: ignore[arg-type]
    assert err.value.field == next(iter(bad))


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(0, 400),
                          st.decimals(min_value=0, max_value=10_000, places=2)),
                max_size=30),
       st.integers(0, 90), st.decimals(min_value=0, max_value=500, places=2))
def test_every_reminder_is_owed_overdue_and_above_the_threshold(
        rows: list[tuple[int, int, Decimal]], overdue_days: int, threshold: Decimal) -> None:
    policy = ArrearsPolicy(overdue_days=overdue_days, min_amount=threshold)
    bills = [bill(i, unit, NOW.date() - timedelta(days=age), str(amount))
             for i, (unit, age, amount) in enumerate(rows)]
    chosen = choose_reminders(bills, {}, policy, NOW)
    assert len({r.unit_id for r in chosen}) == len(chosen)
    by_id = {b.bill_id: b for b in bills}
    for reminder in chosen:
        named = [by_id[i] for i in reminder.bill_ids]
        assert all(b.unit_id == reminder.unit_id for b in named)
        assert all((NOW.date() - b.due_date).days > overdue_days for b in named)
        assert reminder.amount == sum(b.outstanding for b in named) > threshold
    reminded = {r.unit_id for r in chosen}
    for unit in {u for u, _, _ in rows} - reminded:
        owed = sum((b.outstanding for b in bills if b.unit_id == unit
                    and (NOW.date() - b.due_date).days > overdue_days), D(0))
        assert owed <= threshold
