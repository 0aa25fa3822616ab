"""The work order's transitions, its timeline, checklist results, ratings, costs, the
round-robin turn and the configuration file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from hub.domain.errors import Conflict, Invalid
from hub.domain.outcomes import OrderSource, Priority
from hub.domain.work_orders import (
    DEFAULT_POLICY,
    By,
    DispatchMode,
    InvalidTransition,
    MaterialLine,
    RosterEntry,
    Status,
    WorkOrder,
    candidates,
    next_in_turn,
)
from hub.work_order_config import WorkOrderConfigError, load_order_policy

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
BOSS = By.account(9)


def lift_order(**kwargs: object) -> WorkOrder:
    order = WorkOrder(site_id=1, title="Lift B1 stuck at 5F", category="elevator",
                      priority=Priority.P1, source=OrderSource.DEVICE_FAULT, opened_at=T0,
                      fault="TRAPPED_AT_FLOOR", device_id=7, id=42, **kwargs)  # type: ignore[arg-type]
    order.opened(By(), DEFAULT_POLICY.terms("elevator", Priority.P1))
    return order


def test_opening_starts_the_trapped_passenger_clocks() -> None:
    order = lift_order()
    assert (order.respond_by, order.arrive_by) == (T0 + timedelta(minutes=5),
                                                  T0 + timedelta(minutes=30))
    assert order.open_key == order.fault_key == "device:7:TRAPPED_AT_FLOOR"
    assert len(order.occurrences) == 1


def test_the_happy_path_leaves_one_timeline_entry_per_change() -> None:
    order = lift_order(checklist=["rescue"])
    order.assign(3, T0, BOSS)
    order.accept(3, T0 + timedelta(minutes=2))
    order.start(3, T0 + timedelta(minutes=20))
    order.pause(3, T0 + timedelta(minutes=30), "waiting for a part")
    order.resume(3, T0 + timedelta(minutes=50))
    order.resolve(T0 + timedelta(hours=1), By.account(3), {"rescue": True})
    order.close(T0 + timedelta(hours=2), BOSS)
    assert [e.kind for e in order.timeline] == [
        "opened", "assigned", "accepted", "started", "paused", "resumed", "resolved", "closed"]
    assert order.status == Status.CLOSED and order.open_key is None
    assert order.accepted_at == T0 + timedelta(minutes=2)


def test_a_bad_transition_names_the_order_its_state_and_the_action() -> None:
    order = lift_order()
    with pytest.raises(InvalidTransition, match=r"work order 42 is new: cannot start it "
                                                r"\(only when accepted\)"):
        order.start(3, T0)
    assert [e.kind for e in order.timeline] == ["opened"]


def test_only_the_assignee_accepts() -> None:
    order = lift_order()
    order.assign(3, T0, BOSS)
    with pytest.raises(Conflict, match="only its assignee may accept"):
        order.accept(4, T0)


def test_resolve_records_each_checklist_item_done_or_not() -> None:
    order = lift_order(checklist=["brakes", "doors", "ropes"])
    order.claim(3, T0)
    results = order.resolve(T0, By.account(3), {"brakes": True, "ropes": False})
    assert results == (("brakes", True), ("doors", False), ("ropes", False))
    assert "2 of 3 checklist items not done" in order.timeline[-1].text
    other = lift_order(checklist=["brakes"])
    other.claim(3, T0)
    with pytest.raises(Invalid, match="'oil' is not on work order 42"):
        other.resolve(T0, BOSS, {"oil": True})


def test_closed_stays_closed_until_reopened_and_the_counter_counts() -> None:
    order = lift_order()
    order.claim(3, T0)
    order.resolve(T0, By.account(3))
    order.close(T0, BOSS)
    for act in (lambda: order.accept(3, T0), lambda: order.cancel(T0, BOSS),
                lambda: order.add_material(MaterialLine("bolt", Decimal(1), Decimal(2)), T0,
                                           BOSS)):
        with pytest.raises(InvalidTransition, match="is closed"):
            act()
    order.reopen(T0, BOSS, "still noisy")
    assert (order.status, order.reopen_count, order.open_key) == (
        Status.ASSIGNED, 1, "device:7:TRAPPED_AT_FLOOR")


def test_return_and_transfer() -> None:
    order = lift_order()
    order.assign(3, T0, BOSS)
    order.hand_back(3, T0, "not my building")
    assert (order.status, order.assignee_id) == (Status.RETURNED, None)
    order.assign(4, T0, BOSS)
    order.transfer(5, T0, BOSS, "night shift")
    assert (order.status, order.assignee_id) == (Status.ASSIGNED, 5)
    assert order.timeline[-1].data == {"from": 4, "to": 5}
    with pytest.raises(Conflict, match="already with account 5"):
        order.transfer(5, T0, BOSS)


def test_a_household_rates_once_and_a_resolved_order_closes() -> None:
    order = lift_order()
    order.claim(3, T0)
    order.resolve(T0, By.account(3))
    with pytest.raises(Invalid, match="rating must be 1 to 5"):
        order.confirm(T0, By.account(20), 6)
    order.confirm(T0, By.account(20), 4, "quick, thanks")
    assert (order.status, order.rating) == (Status.CLOSED, 4)
    with pytest.raises(Conflict, match="already rated"):
        order.confirm(T0, By.account(20), 5)


def test_materials_cost_in_exact_decimals() -> None:
    order = lift_order()
    order.claim(3, T0)
    order.add_material(MaterialLine("door roller", Decimal("2"), Decimal("35.50"), True), T0,
                       By.account(3))
    order.add_material(MaterialLine("labour", Decimal("1.5"), Decimal("80.00")), T0,
                       By.account(3))
    assert order.cost() == (Decimal("191.00"), Decimal("71.00"))
    with pytest.raises(Invalid, match="quantity must be positive"):
        MaterialLine("bolt", Decimal("0"), Decimal("1"))
    with pytest.raises(Invalid, match="unit_price"):
        MaterialLine("bolt", Decimal("1"), Decimal("NaN"))


def test_round_robin_takes_turns_among_on_duty_staff_with_the_skill() -> None:
    roster = [RosterEntry(1, 30, ["elevator"], True), RosterEntry(1, 10, ["elevator"], True),
              RosterEntry(1, 20, ["elevator", "gate"], False),
              RosterEntry(1, 40, ["gate"], True)]
    on = candidates(roster, "elevator")
    turns, last = [], None
    for _ in range(6):
        last = next_in_turn(on, last)
        turns.append(last)
    assert turns == [10, 30, 10, 30, 10, 30]
    assert next_in_turn([], 10) is None
    assert next_in_turn([10, 30], 99) == 10  # the last one left the roster: wrap around
    with pytest.raises(Invalid, match="skill"):
        RosterEntry(1, 10, ["Elevator Repair"], True)


def test_the_shipped_configuration_loads(tmp_path: Path) -> None:
    policy = load_order_policy(Path(__file__).parents[2] / "config" / "work_orders.yaml")
    assert policy.of("elevator").dispatch == DispatchMode.ROUND_ROBIN
    assert policy.terms("elevator", Priority.P1).respond == timedelta(minutes=5)
    assert policy.terms("elevator", Priority.P4) == policy.terms("anything", Priority.P4)


@pytest.mark.parametrize(("text", "message"), [
    ("default: {sla: {P1: {respond: 5 parsecs, resolve: 1h}}}", "default.sla.P1.respond: "
                                                                 "'5 parsecs' is not a duration"),
    ("default: {dispatch: lottery, sla: {}}", "default.dispatch"),
    ("default: {sla: {P1: {respond: 1h, resolve: 1h}}}", "missing P2, P3, P4"),
    ("default: {sla: {}}\ncolour: red", "colour: Extra inputs are not permitted"),
])
def test_a_bad_configuration_is_refused_by_file_and_key(tmp_path: Path, text: str,
                                                        message: str) -> None:
    path = tmp_path / "work_orders.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WorkOrderConfigError, match=message.replace(".", r"\.")) as err:
        load_order_policy(path)
    assert str(path) in str(err.value)
