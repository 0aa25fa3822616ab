"""The pure rules engine on the shipped packs: time from the events, state as data."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.domain.accounts import Role
from hub.domain.outcomes import (
    ClearFault,
    Notify,
    OrderSource,
    PostAnnouncement,
    Priority,
    RaiseFault,
    WithdrawAnnouncement,
)
from hub.rules.actions import CommandDevice, Fired, describe
from hub.rules.engine import RuleEngine
from hub.rules.events import DeviceRef, RuleEvent
from hub.rules.loader import RuleSet, load_dir, load_texts
from hub.rules.state import EngineState

PACKS = Path(__file__).parents[2] / "config" / "rules"
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LIFT = DeviceRef(7, 1, "lakeside", "b3-lift-1", "elevator", building_id=3)
GATE = DeviceRef(9, 1, "lakeside", "gate-north", "gate")
LIGHT = DeviceRef(11, 1, "lakeside", "light-b3-1", "light", building_id=3)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fault(code: str, at: datetime, *, active: bool = True,
          device: DeviceRef = LIFT) -> RuleEvent:
    return RuleEvent("fault", at, device, {"code": code, "active": active})


def telemetry(at: datetime, device: DeviceRef = LIFT, **metrics: Any) -> RuleEvent:
    return RuleEvent("telemetry", at, device, metrics)


def tick(at: datetime) -> RuleEvent:
    return RuleEvent("tick", at)


class Feed:
    """An engine and its state, fed events one by one; keeps what fired."""

    def __init__(self, rules: RuleSet | None = None, state: EngineState | None = None) -> None:
        self.engine = RuleEngine(rules or load_dir(PACKS))
        self.state = state or EngineState()
        self.engine.adopt(self.state)
        self.fired: list[Fired] = []

    def __call__(self, *events: RuleEvent) -> list[Fired]:
        new = []
        for event in events:
            new += self.engine.feed(event, self.state)
        self.fired += new
        return new

    def commands(self, kind: type) -> list[Any]:
        return [f.command for f in self.fired if isinstance(f.command, kind)]


def test_trapped_passenger_raises_one_p1_fault_and_calls_the_technicians() -> None:
    feed = Feed()
    fired = feed(telemetry(s(0), mode="normal", floor=3), fault("TRAPPED_AT_FLOOR", s(1)))
    assert [f.command_kind for f in fired] == ["RaiseFault", "Notify"]
    raise_, notify = (f.command for f in fired)
    assert isinstance(raise_, RaiseFault) and isinstance(notify, Notify)
    assert raise_.priority == Priority.P1 and raise_.fault == "TRAPPED_AT_FLOOR"
    assert (raise_.device_id, raise_.site_id, raise_.building_id) == (7, 1, 3)
    assert raise_.source == OrderSource.DEVICE_FAULT and raise_.at == s(1)
    assert raise_.cause.rule_id == "elevator.trapped" and raise_.cause.rule_version == "1"
    (evidence,) = raise_.cause.evidence
    assert (evidence.kind, evidence.at, evidence.device_id) == ("fault", s(1), 7)
    assert evidence.summary == {"code": "TRAPPED_AT_FLOOR", "active": True}
    assert notify.role == Role.MAINTENANCE and "b3-lift-1" in notify.title
    # The same fault again a few seconds later (a second monitor message): nothing more.
    assert feed(fault("TRAPPED_AT_FLOOR", s(5))) == []


def test_faults_in_maintenance_or_inspection_mode_raise_nothing() -> None:
    for mode in (2, "maintenance", 1, "inspection"):
        feed = Feed()
        assert feed(telemetry(s(0), mode=mode), fault("TRAPPED_AT_FLOOR", s(1)),
                    fault("OVERTRAVEL_TOP", s(2)), tick(s(60)),
                    fault("OVERTRAVEL_TOP", s(61), active=False),
                    fault("OVERTRAVEL_TOP", s(62))) == [], mode
    feed = Feed()  # back in normal mode, the next fault counts
    feed(telemetry(s(0), mode=2), fault("TRAPPED_AT_FLOOR", s(1)), telemetry(s(2), mode=0))
    assert [f.command_kind for f in feed(fault("TRAPPED_AT_FLOOR", s(3)))] == \
        ["RaiseFault", "Notify"]


def test_for_fires_at_its_deadline_on_the_next_event_whatever_its_device() -> None:
    feed = Feed()
    assert feed(fault("OVERTRAVEL_TOP", s(0)), telemetry(s(2.9), GATE, x=1)) == []
    (raise_, _notify) = feed(telemetry(s(7), GATE, x=1))
    assert raise_.at == s(3)  # the deadline, not the time of the event that revealed it
    assert isinstance(raise_.command, RaiseFault) and raise_.command.priority == Priority.P1
    assert feed(tick(s(100))) == []  # latched: once per spell


def test_a_fault_cleared_before_its_for_raises_nothing() -> None:
    feed = Feed()
    assert feed(fault("DOOR_CLOSE_FAILURE", s(0)), fault("DOOR_CLOSE_FAILURE", s(9),
                active=False), tick(s(60))) == []


def test_seen_twice_within_the_window_confirms_a_fault() -> None:
    feed = Feed()
    fired = feed(fault("POWER_FAILURE", s(0)), fault("POWER_FAILURE", s(1), active=False),
                 fault("POWER_FAILURE", s(120)))
    assert [(f.command_kind, f.at) for f in fired] == [("RaiseFault", s(120))]
    (evidence1, evidence2) = fired[0].command.cause.evidence  # type: ignore[attr-defined]
    assert (evidence1.at, evidence2.at) == (s(0), s(120))
    feed = Feed()  # the second time outside the 10-minute window: not confirmed
    assert feed(fault("POWER_FAILURE", s(0)), fault("POWER_FAILURE", s(1), active=False),
                fault("POWER_FAILURE", s(601)), fault("POWER_FAILURE", s(602),
                active=False)) == []


def test_a_flapping_fault_is_debounced_to_one_order_and_one_clear() -> None:
    feed = Feed()
    for i in range(20):  # on for a second, off for two, for a minute
        feed(fault("SAFETY_CIRCUIT", s(3 * i)), fault("SAFETY_CIRCUIT", s(3 * i + 1),
             active=False))
    assert [f.command_kind for f in feed.fired] == ["RaiseFault", "ClearFault"]
    assert feed.fired[0].at == s(3)  # confirmed by the second sighting
    clear = feed.fired[1].command
    assert isinstance(clear, ClearFault) and clear.fault == "SAFETY_CIRCUIT"
    assert clear.cause.rule_id == "elevator.fault-cleared"


def test_a_clear_without_a_raised_fault_says_nothing() -> None:
    assert Feed()(fault("SAFETY_CIRCUIT", s(0), active=False)) == []


def test_count_of_consecutive_readings_for_a_dead_lamp() -> None:
    feed = Feed()
    assert feed(telemetry(s(0), LIGHT, on=True, power_w=0.3),
                telemetry(s(60), LIGHT, on=True, power_w=14.2),  # a good reading resets
                telemetry(s(120), LIGHT, on=True, power_w=0.3),
                telemetry(s(150), LIGHT, on=False, power_w=0.0)) == []
    fired = feed(telemetry(s(200), LIGHT, on=True, power_w=0.2),
                 telemetry(s(260), LIGHT, on=True, power_w=0.3))
    (raise_,) = (f.command for f in fired)
    assert isinstance(raise_, RaiseFault) and raise_.fault == "LAMP_DEAD"
    assert raise_.title == "Lamp light-b3-1 is on but draws 0.3 W"
    assert raise_.category == "lighting" and raise_.priority == Priority.P3
    (clear,) = feed(telemetry(s(900), LIGHT, on=True, power_w=15.0))
    assert isinstance(clear.command, ClearFault) and clear.command.fault == "LAMP_DEAD"
    assert feed(telemetry(s(960), LIGHT, on=True, power_w=15.0)) == []


def test_offline_device_raises_offline_fault_and_downtime_notice_withdrawn_on_return() -> None:
    feed = Feed()
    offline = RuleEvent("offline", s(0), LIFT, {"reason": "inactive 300s"})
    fired = feed(offline)
    assert sorted(f.command_kind for f in fired) == ["PostAnnouncement", "RaiseFault"]
    (raise_,) = feed.commands(RaiseFault)
    assert (raise_.fault, raise_.source, raise_.priority) == \
        ("offline", OrderSource.DEVICE_OFFLINE, Priority.P3)
    assert raise_.title == "elevator b3-lift-1 offline (inactive 300s)"
    (post,) = feed.commands(PostAnnouncement)
    assert (post.key, post.building_id, post.site_id) == ("downtime:device:7", 3, 1)
    fired = feed(RuleEvent("online", s(600), LIFT))
    assert sorted(f.command_kind for f in fired) == ["ClearFault", "WithdrawAnnouncement"]
    (withdraw,) = feed.commands(WithdrawAnnouncement)
    assert withdraw.key == "downtime:device:7"
    # Online again without having been offline in between: nothing to say.
    assert feed(RuleEvent("online", s(700), LIFT)) == []


def test_a_gate_offline_is_p2_and_tells_the_guards() -> None:
    feed = Feed()
    feed(RuleEvent("offline", s(0), GATE, {"reason": "last will"}))
    (raise_,) = feed.commands(RaiseFault)
    assert raise_.priority == Priority.P2 and raise_.category == "gate"
    assert [n.role for n in feed.commands(Notify)] == [Role.SECURITY]


def test_barrier_stuck_for_ten_seconds() -> None:
    feed = Feed()
    stuck = RuleEvent("barrier", s(0), GATE, {"state": "stuck"})
    assert feed(stuck, RuleEvent("barrier", s(4), GATE, {"state": "closed"}),
                tick(s(60))) == []
    feed(RuleEvent("barrier", s(400), GATE, {"state": "stuck"}), tick(s(411)))
    (raise_,) = feed.commands(RaiseFault)
    assert raise_.fault == "BARRIER_STUCK" and raise_.at == s(410)
    feed = Feed()  # stuck twice within five minutes, however short: confirmed at once
    feed(stuck, RuleEvent("barrier", s(4), GATE, {"state": "closed"}),
         RuleEvent("barrier", s(100), GATE, {"state": "stuck"}))
    assert [c.at for c in feed.commands(RaiseFault)] == [s(100)]
    feed(RuleEvent("barrier", s(500), GATE, {"state": "open"}))
    assert [c.fault for c in feed.commands(ClearFault)] == ["BARRIER_STUCK"]


def test_out_of_service_for_a_minute_posts_a_notice_and_normal_for_a_minute_withdraws() -> None:
    feed = Feed()
    feed(telemetry(s(0), mode=0), telemetry(s(70), mode=0))  # normal all along: nothing
    assert feed.fired == []
    feed(telemetry(s(100), mode=4), telemetry(s(130), mode=4), telemetry(s(161), mode=4))
    (post,) = feed.commands(PostAnnouncement)
    assert post.at == s(160) and post.key == "downtime:device:7"
    feed(telemetry(s(200), mode=0), telemetry(s(230), mode=0), telemetry(s(260), mode=0))
    (withdraw,) = feed.commands(WithdrawAnnouncement)
    assert withdraw.at == s(260)


def test_dusk_and_dawn_switch_the_lights_of_the_site_once_a_day() -> None:
    feed = Feed()
    # Shanghai, 2026-11-27: sunset 16:52 local (08:51:44 UTC), and the next sunrise 06:32
    # (22:32:20 UTC); the pack switches ten minutes before and after.
    other = DeviceRef(12, 2, "hillside", "light-1", "light")
    feed(RuleEvent("devices", s(0), devices=(LIGHT, other, LIFT)))
    for minute in range(0, 60 * 24, 1):
        feed(tick(s(60 * minute)))
    commands = feed.commands(CommandDevice)
    assert [(c.action, c.device_id) for c in commands] == [("on", 11), ("off", 11)]
    on, off = commands
    assert on.at.replace(microsecond=0) == datetime(2026, 11, 27, 8, 41, 44, tzinfo=UTC)
    assert off.at.replace(microsecond=0) == datetime(2026, 11, 27, 22, 42, 20, tzinfo=UTC)
    assert on.expires_in_s == 300 and on.cause.evidence[0].kind == "schedule"


def test_a_telemetry_condition_held_for_a_while() -> None:
    rules = load_texts([("pumps.yaml", """
rules:
  - id: pump.hot
    description: a hot pump for five minutes
    when: {event: telemetry, kind: [pump]}
    if:
      all: [{metric: temp_c, op: ">", value: 80}, {metric: state, op: in, value: [run, start]}]
      for: 5m
    then: [{raise_fault: {fault: HOT, priority: P2, title: "{device} at {temp_c} C"}}]
""")])
    pump = DeviceRef(20, 1, "lakeside", "pump-1", "pump")
    feed = Feed(rules)
    assert feed(telemetry(s(0), pump, temp_c=85, state="run"),
                telemetry(s(200), pump, temp_c=79, state="run"),  # cooled: starts over
                telemetry(s(250), pump, temp_c=90, state="run"),
                telemetry(s(500), pump, temp_c=91, state="run")) == []
    (fired,) = feed(telemetry(s(550), pump, temp_c=92))  # state known from before
    assert fired.at == s(550) and fired.command.title == "pump-1 at 92 C"  # type: ignore[attr-defined]


def test_state_as_rows_survives_a_restart_and_the_for_timer_continues() -> None:
    feed = Feed()
    feed(telemetry(s(0), mode=0), fault("DOOR_OPEN_FAILURE", s(1)))
    rows, removed = feed.state.take_changes()
    assert removed == set() and "ep:elevator.faults-p3|7|DOOR_OPEN_FAILURE" in rows
    stored = json.loads(json.dumps(rows))  # as the database keeps them
    restarted = Feed(state=EngineState.from_rows(stored))
    (raise_,) = restarted(tick(s(30)))
    assert raise_.at == s(11) and raise_.command.priority == Priority.P3  # type: ignore[attr-defined]
    assert raise_.command.cause.evidence[0].at == s(1)  # type: ignore[attr-defined]


def test_the_same_events_decide_the_same_things() -> None:
    events = list(story())
    first, second = Feed(), Feed()
    first(*events)
    second(*events)
    lines = [describe(f) for f in first.fired]
    assert lines == [describe(f) for f in second.fired] and len(lines) >= 6


def story() -> Iterable[RuleEvent]:
    yield RuleEvent("devices", s(0), devices=(LIFT, GATE, LIGHT))
    yield telemetry(s(1), mode=0)
    yield fault("TRAPPED_BETWEEN_FLOORS", s(2))
    yield fault("TRAPPED_BETWEEN_FLOORS", s(40), active=False)
    yield RuleEvent("offline", s(50), GATE, {"reason": "last will"})
    yield telemetry(s(60), LIGHT, on=True, power_w=0.1)
    yield telemetry(s(120), LIGHT, on=True, power_w=0.1)
    yield RuleEvent("online", s(200), GATE)
    yield tick(s(300))
