"""SLA clocks at controlled times: a warning before due, an escalation after, each once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.domain.outcomes import OrderSource, Priority
from hub.domain.work_orders import (
    DEFAULT_POLICY,
    AlertKind,
    By,
    Clock,
    WorkOrder,
    sla_check,
)
from hub.domain.work_orders.sla import record

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LEAD = timedelta(minutes=10)


def trapped() -> WorkOrder:
    order = WorkOrder(site_id=1, title="Trapped in lift B1", category="elevator",
                      priority=Priority.P1, source=OrderSource.DEVICE_FAULT, opened_at=T0,
                      fault="TRAPPED_BETWEEN_FLOORS", device_id=7, id=1)
    order.opened(By(), DEFAULT_POLICY.terms("elevator", Priority.P1))
    return order


def said(order: WorkOrder, minutes: float) -> list[tuple[Clock, AlertKind]]:
    now = T0 + timedelta(minutes=minutes)
    alerts = sla_check([order], now, LEAD)
    for alert in alerts:
        record(order, alert, now, notified=True)
    return [(a.clock, a.kind) for a in alerts]


def test_trapped_passengers_escalate_at_five_minutes_unacknowledged_and_only_once() -> None:
    order = trapped()
    assert said(order, 1) == []
    # A 5-minute clock warns half-way (the 10-minute lead would be before it even started).
    assert said(order, 2.5) == [(Clock.RESPOND, AlertKind.WARNING)]
    assert said(order, 3) == []
    assert said(order, 5) == [(Clock.RESPOND, AlertKind.ESCALATION)]
    assert said(order, 6) == []
    assert said(order, 20) == [(Clock.ARRIVE, AlertKind.WARNING)]
    order.claim(3, T0 + timedelta(minutes=21))
    assert said(order, 30) == [(Clock.ARRIVE, AlertKind.ESCALATION)]
    assert said(order, 31) == []
    assert [e.kind for e in order.timeline].count("sla_escalation") == 2
    assert "was due to be acknowledged by 2026-11-27T08:05:00+00:00" in next(
        e.text for e in order.timeline if e.kind == "sla_escalation")


def test_an_acknowledged_order_does_not_escalate_its_respond_clock() -> None:
    order = trapped()
    order.claim(3, T0 + timedelta(minutes=1))
    order.start(3, T0 + timedelta(minutes=12))
    assert said(order, 60) == []
    assert said(order, 230) == [(Clock.RESOLVE, AlertKind.WARNING)]


def test_a_late_check_escalates_without_warning_first() -> None:
    order = trapped()
    assert said(order, 500) == [(Clock.RESPOND, AlertKind.ESCALATION),
                                (Clock.ARRIVE, AlertKind.ESCALATION),
                                (Clock.RESOLVE, AlertKind.ESCALATION)]
    assert sorted(order.sla_flags) == sorted(
        f"{c}:{k}" for c in ("respond", "arrive", "resolve") for k in ("warning", "escalation"))


def test_resolved_and_cancelled_orders_are_silent() -> None:
    order = trapped()
    order.cancel(T0, By.account(9), "false alarm")
    assert said(order, 500) == []


def test_a_reopened_order_runs_its_clocks_again() -> None:
    order = trapped()
    order.claim(3, T0)
    order.start(3, T0 + timedelta(minutes=10))
    order.resolve(T0 + timedelta(minutes=40), By.account(3))
    assert said(order, 500) == []
    order.reopen(T0 + timedelta(minutes=500), By.account(9), "again",
                 DEFAULT_POLICY.terms("elevator", Priority.P1))
    assert said(order, 505) == [(Clock.RESPOND, AlertKind.ESCALATION)]
    assert said(order, 600) == [(Clock.ARRIVE, AlertKind.ESCALATION)]


def test_a_paused_order_resolve_clock_stands_still_and_moves_on_by_the_pause() -> None:
    order = trapped()
    order.claim(3, T0)
    order.start(3, T0 + timedelta(minutes=10))
    order.pause(3, T0 + timedelta(minutes=60), "waiting for a door roller")
    assert said(order, 300) == []  # 4 h after opening, but paused
    order.resume(3, T0 + timedelta(minutes=180))
    assert order.resolve_by == T0 + timedelta(hours=4, minutes=120)
    assert order.timeline[-1].data == {"paused_s": 7200}
    assert said(order, 355) == [(Clock.RESOLVE, AlertKind.WARNING)]
    assert said(order, 360) == [(Clock.RESOLVE, AlertKind.ESCALATION)]
