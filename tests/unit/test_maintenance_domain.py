"""Plans: when they fall due (calendar, usage, whichever first), what completing one
schedules next, counters across wraps and resets, and the shipped TSG T5002 templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain.errors import Invalid
from hub.domain.maintenance import (
    COUNTER_MODULUS,
    Anchor,
    MaintenancePlan,
    Trigger,
    UsageCounter,
    add_months,
    adopt_baselines,
    complete,
    due,
    overdue,
    reopen,
    request,
)
from hub.domain.maintenance_templates import templates_from
from hub.handlers.maintenance import load_templates

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def plan(**overrides: object) -> MaintenancePlan:
    values: dict[object, object] = {
        "site_id": 1, "asset_id": 2, "name": "半月维保", "category": "elevator",
        "checklist": ["门锁有效 door locks", "制动器 brake"], "next_due": T0 + 15 * DAY,
        "every_days": 15, "lead_hours": 48, "id": 9}
    values.update(overrides)
    return MaintenancePlan(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "months", "expected"), [
    (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
    (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
    (datetime(2026, 11, 30, tzinfo=UTC), 3, datetime(2027, 2, 28, tzinfo=UTC)),
    (datetime(2026, 8, 15, tzinfo=UTC), 12, datetime(2027, 8, 15, tzinfo=UTC)),
])
def test_months_are_calendar_months(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months) == expected


def test_calendar_order_opens_the_lead_time_before_due() -> None:
    p = plan()
    assert due(p, {}, T0 + 13 * DAY - timedelta(seconds=1)) is None
    found = due(p, {}, T0 + 13 * DAY)
    assert found is not None
    assert (found.trigger, found.due_at) == (Trigger.CALENDAR, T0 + 15 * DAY)


def test_usage_opens_when_the_counter_since_the_last_service_reaches_the_limit() -> None:
    p = plan(every_trips=5000, usage_base={"trips": 120_000.0})
    assert due(p, {"trips": 124_999.0}, T0 + DAY) is None
    found = due(p, {"trips": 125_000.0}, T0 + DAY)
    assert found is not None and found.trigger == Trigger.USAGE
    assert found.due_at == T0 + DAY + timedelta(hours=48)  # due within the lead time
    assert found.detail == {"metric": "trips", "used": 5000.0, "limit": 5000.0}


def test_whichever_comes_first_takes_the_earlier_due_date() -> None:
    p = plan(every_trips=5000, usage_base={"trips": 0.0}, lead_hours=0)
    found = due(p, {"trips": 9000.0}, T0 + 16 * DAY)  # both reached: the calendar was first
    assert found is not None and found.trigger == Trigger.CALENDAR


def test_a_counter_without_a_base_counts_from_its_first_reading() -> None:
    p = plan(every_trips=5000, next_due=None, every_days=None)
    assert due(p, {"trips": 3_000_000.0}, T0) is None  # lifetime trips are not usage
    assert adopt_baselines(p, {"trips": 3_000_000.0})
    assert not adopt_baselines(p, {"trips": 3_000_100.0})
    assert due(p, {"trips": 3_004_999.0}, T0) is None
    assert due(p, {"trips": 3_005_000.0}, T0) is not None


def test_nothing_opens_while_an_order_is_in_flight() -> None:
    p = plan()
    found = due(p, {}, T0 + 14 * DAY)
    assert found is not None
    request(p, found, T0 + 14 * DAY)
    assert due(p, {}, T0 + 20 * DAY) is None


def _serve(p: MaintenancePlan, requested: datetime, completed: datetime,
           totals: dict[str, float] | None = None) -> datetime | None:
    found = due(p, totals or {}, requested)
    assert found is not None
    request(p, found, requested)
    p.order_id = 77
    run = complete(p, 77, completed, [("门锁有效 door locks", True)], totals or {})
    return run.next_due


def test_next_due_from_the_schedule_keeps_the_grid() -> None:
    p = plan(anchor=Anchor.SCHEDULE)
    # Due on day 15, done late on day 18: the next is day 30, not day 33.
    assert _serve(p, T0 + 14 * DAY, T0 + 18 * DAY) == T0 + 30 * DAY
    # Due on day 30, done very late on day 47: day 45 has passed, so day 60.
    assert _serve(p, T0 + 29 * DAY, T0 + 47 * DAY) == T0 + 60 * DAY


def test_next_due_from_completion_counts_from_the_service() -> None:
    p = plan(anchor=Anchor.COMPLETION)
    assert _serve(p, T0 + 14 * DAY, T0 + 18 * DAY) == T0 + 33 * DAY


def test_a_service_brought_forward_by_usage_restarts_the_calendar_and_the_count() -> None:
    p = plan(every_trips=5000, usage_base={"trips": 0.0})
    assert _serve(p, T0 + 6 * DAY, T0 + 7 * DAY, {"trips": 5200.0}) == T0 + 22 * DAY
    assert p.usage_base == {"trips": 5200.0}


def test_completion_records_every_item_of_the_plan() -> None:
    p = plan()
    found = due(p, {}, T0 + 14 * DAY)
    assert found is not None
    request(p, found, T0 + 14 * DAY)
    run = complete(p, 5, T0 + 15 * DAY, [("门锁有效 door locks", True), ("extra", False)], {})
    assert run.checklist == [["门锁有效 door locks", True], ["制动器 brake", False],
                             ["extra", False]]
    assert (run.done, run.due_at, run.trigger) == (1, T0 + 15 * DAY, Trigger.CALENDAR)
    assert not p.in_flight


def test_a_reopened_order_puts_the_plan_back_where_it_was() -> None:
    p = plan()
    found = due(p, {}, T0 + 14 * DAY)
    assert found is not None
    request(p, found, T0 + 14 * DAY)
    run = complete(p, 5, T0 + 15 * DAY, [], {})
    reopen(p, run)
    assert (p.next_due, p.order_id, p.order_due_at, run.reopened) == (
        T0 + 15 * DAY, 5, T0 + 15 * DAY, True)


def test_overdue_once_past_the_due_time() -> None:
    p = plan()
    found = due(p, {}, T0 + 14 * DAY)
    assert found is not None
    request(p, found, T0 + 14 * DAY)
    assert not overdue(p, T0 + 15 * DAY)
    assert overdue(p, T0 + 15 * DAY + timedelta(seconds=1))
    p.escalated_at = T0 + 16 * DAY
    assert not overdue(p, T0 + 20 * DAY)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"checklist": []}, "checklist"),
    ({"checklist": ["a", "a"]}, "checklist"),
    ({"checklist": ["ok", " "]}, "checklist.1"),
    ({"every_months": 3}, "every_months"),
    ({"every_days": None, "next_due": T0}, "first_due"),
    ({"next_due": None}, "first_due"),
    ({"every_days": None, "next_due": None}, "every_days"),
    ({"every_trips": 0}, "every_trips"),
    ({"lead_hours": -1}, "lead_hours"),
    ({"name": " "}, "name"),
])
def test_a_bad_plan_is_refused_by_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as err:
        plan(**overrides)
    assert err.value.field == field


def test_a_counter_continues_across_a_wrap_and_a_reset() -> None:
    counter = UsageCounter(device_id=1, metric="trips", asset_id=2,
                           last_raw=COUNTER_MODULUS - 10, total=100.0, at=T0)
    counter.update(COUNTER_MODULUS - 4, T0 + DAY)  # +6
    counter.update(5, T0 + 2 * DAY)  # wrapped: +4 to the top, +5 after
    counter.update(3, T0 + 3 * DAY)  # reset (device replaced): +3
    counter.update(1, T0 + DAY)  # older than what was counted: ignored
    assert (counter.total, counter.wraps, counter.resets) == (118.0, 1, 1)


def test_the_shipped_templates_include_the_shorter_ones() -> None:
    templates = load_templates()
    assert set(templates) >= {"half-monthly", "quarterly", "half-yearly", "yearly"}
    half, quarter = templates["half-monthly"], templates["quarterly"]
    half_year, year = templates["half-yearly"], templates["yearly"]
    assert (half.every_days, quarter.every_months, half_year.every_months,
            year.every_months) == (15, 3, 6, 12)
    assert year.items[:len(half_year.items)] == half_year.items
    assert half_year.items[:len(quarter.items)] == quarter.items
    assert quarter.items[:len(half.items)] == half.items
    assert len(half.items) < len(quarter.items) < len(half_year.items) < len(year.items)
    assert all(t.category == "elevator" for t in templates.values())
    assert "制动器" in " ".join(half.items) and "brake" in " ".join(half.items)


@pytest.mark.parametrize(("data", "field"), [
    ({"templates": [{"id": "a", "every_days": 1, "items": ["x"], "includes": ["b"]}]},
     "a.includes"),
    ({"templates": [{"id": "a", "every_days": 1, "includes": ["b"], "items": ["x"]},
                    {"id": "b", "every_days": 1, "includes": ["a"], "items": ["y"]}]}, "a"),
    ({"templates": [{"id": "a", "every_days": 1, "items": ["x"], "colour": "red"}]}, "a"),
    ({"templates": [{"id": "a", "items": ["x"]}]}, "a.every_days"),
    ({"templates": [{"id": "a", "every_days": 1, "items": []}]}, "a.items"),
    ({"templates": [{"id": "a", "every_days": 1, "items": ["x"]},
                    {"id": "a", "every_days": 2, "items": ["y"]}]}, "a"),
])
def test_a_bad_template_is_refused_naming_it(data: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as err:
        templates_from(data)
    assert err.value.field == field
