"""Asset status derivation, order spans, downtime and MTBF, with exact numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain.errors import Invalid
from hub.domain.facilities import (
    AssetEvent,
    AssetEventKind,
    AssetStatus,
    DeviceCondition,
    DeviceState,
    OpenOrder,
    derive_status,
    downtime,
    reliability,
    spans,
)
from hub.domain.outcomes import OrderSource, Priority

T0 = datetime(2026, 11, 1, tzinfo=UTC)
FAULT, PLAN, OFFLINE = OrderSource.DEVICE_FAULT, OrderSource.MAINTENANCE_PLAN, \
    OrderSource.DEVICE_OFFLINE


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.mark.parametrize(("orders", "devices", "expected"), [
    ([], [], AssetStatus.OPERATIONAL),
    ([OpenOrder(FAULT, Priority.P1)], [], AssetStatus.DOWN),
    ([OpenOrder(FAULT, Priority.P2)], [], AssetStatus.DOWN),
    ([OpenOrder(FAULT, Priority.P3)], [], AssetStatus.OPERATIONAL),
    ([OpenOrder(OrderSource.RESIDENT, Priority.P4)], [], AssetStatus.OPERATIONAL),
    ([OpenOrder(OFFLINE, Priority.P3)], [], AssetStatus.DOWN),
    ([], [DeviceCondition(online=False)], AssetStatus.DOWN),
    ([], [DeviceCondition(online=None)], AssetStatus.OPERATIONAL),
    # A planned order waiting for its day leaves the lift in service...
    ([OpenOrder(PLAN, Priority.P3)], [DeviceCondition(True, "normal")], AssetStatus.OPERATIONAL),
    # ...until work starts: the lift in maintenance mode, or the order says so.
    ([OpenOrder(PLAN, Priority.P3)], [DeviceCondition(True, "maintenance")],
     AssetStatus.UNDER_MAINTENANCE),
    ([OpenOrder(PLAN, Priority.P3, in_progress=True)], [], AssetStatus.UNDER_MAINTENANCE),
    # A P1 plan order is still a plan order; maintenance mode alone is not an order.
    ([OpenOrder(PLAN, Priority.P1, in_progress=True)], [], AssetStatus.UNDER_MAINTENANCE),
    ([], [DeviceCondition(True, "maintenance")], AssetStatus.OPERATIONAL),
    # Down wins over maintenance.
    ([OpenOrder(PLAN, Priority.P3, True), OpenOrder(FAULT, Priority.P1)], [],
     AssetStatus.DOWN),
    ([OpenOrder(PLAN, Priority.P3, True)], [DeviceCondition(False, "maintenance")],
     AssetStatus.DOWN),
])
def test_status_is_derived_from_open_orders_and_devices(
        orders: list[OpenOrder], devices: list[DeviceCondition], expected: AssetStatus) -> None:
    assert derive_status(orders, devices) == expected


def test_a_device_state_reads_its_mode_from_the_last_values() -> None:
    state = DeviceState(7, True, {"mode": {"value": "inspection", "at": "2026-11-01T00:00:00"}})
    assert state.condition() == DeviceCondition(True, "inspection")
    assert DeviceState(7, None, {}).condition() == DeviceCondition(None, None)


def event(order: int, change: AssetEventKind, at: timedelta, priority: Priority | None = None,
          source: OrderSource = FAULT) -> AssetEvent:
    return AssetEvent(asset_id=1, order_id=order, change=change, at=T0 + at, fault="E",
                      source=source, priority=priority)


OPENED, RESOLVED, REOPENED = AssetEventKind.OPENED, AssetEventKind.RESOLVED, \
    AssetEventKind.REOPENED


def test_a_reopened_order_has_one_span_per_time_it_was_open() -> None:
    found = spans([event(1, OPENED, hours(1), Priority.P1), event(1, RESOLVED, hours(3)),
                   event(1, REOPENED, hours(10)), event(1, RESOLVED, hours(12))])
    assert [(s.opened_at - T0, s.resolved_at and s.resolved_at - T0) for s in found] == [
        (hours(1), hours(3)), (hours(10), hours(12))]


def test_overlapping_failures_count_once_and_an_open_one_runs_to_the_end() -> None:
    found = spans([
        event(1, OPENED, hours(10), Priority.P1), event(1, RESOLVED, hours(14)),
        event(2, OPENED, hours(12), Priority.P2), event(2, RESOLVED, hours(16)),  # overlaps
        event(3, OPENED, hours(20), Priority.P3), event(3, RESOLVED, hours(30)),  # minor
        event(4, OPENED, hours(40), Priority.P3, PLAN), event(4, RESOLVED, hours(44)),  # plan
        event(5, OPENED, hours(90), Priority.P1),  # still open
    ])
    failures = [s for s in found if s.is_failure]
    assert [s.order_id for s in failures] == [1, 2, 5]
    # 10h-16h (6 h) plus 90h-100h (10 h)
    assert downtime(failures, T0, T0 + hours(100)) == hours(16)
    # Clipped to the period: 12h-16h (4 h) of the first pair only.
    assert downtime(failures, T0 + hours(12), T0 + hours(50)) == hours(4)


def test_mtbf_is_uptime_over_failures_in_the_period() -> None:
    """A 30-day month with three breakdowns of 2 h, 4 h and 6 h: 12 h down, 708 h up,
    MTBF 236 h, MTTR 4 h, availability 708/720."""
    days = timedelta(days=1)
    found = spans([
        event(1, OPENED, 2 * days, Priority.P1), event(1, RESOLVED, 2 * days + hours(2)),
        event(2, OPENED, 10 * days, Priority.P2), event(2, RESOLVED, 10 * days + hours(4)),
        event(3, OPENED, 20 * days, Priority.P1), event(3, RESOLVED, 20 * days + hours(6)),
        event(4, OPENED, 25 * days, Priority.P4), event(4, RESOLVED, 26 * days),
    ])
    result = reliability(found, T0, T0 + 30 * days)
    assert (result.failures, result.downtime, result.uptime) == (3, hours(12), hours(708))
    assert result.mtbf == hours(236)
    assert result.mttr == hours(4)
    assert result.availability == pytest.approx(708 / 720)


def test_no_failure_means_no_mtbf() -> None:
    result = reliability([], T0, T0 + hours(24))
    assert (result.failures, result.mtbf, result.mttr, result.availability) == (0, None, None,
                                                                                1.0)


def test_a_period_must_end_after_it_starts() -> None:
    with pytest.raises(Invalid) as err:
        reliability([], T0, T0)
    assert err.value.field == "end"
