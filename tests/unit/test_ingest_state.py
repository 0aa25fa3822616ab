"""A device's state under its messages: online once, newest value per metric, errors counted."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.device_events import DeviceCameOnline, DeviceWentOffline
from hub.domain.observations import DeviceKey, Envelope, Sample, Telemetry
from hub.ingest.state import (
    DeviceState,
    LastValue,
    came_online,
    count_errors,
    heard,
    merge_values,
    samples_of,
    values_from_json,
    values_to_json,
    went_offline,
)

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
LIFT = DeviceKey("lakeside", "elevator", "b3-lift-1")


def test_the_first_message_brings_a_device_online_and_the_next_changes_nothing() -> None:
    state, first = heard(DeviceState(), 7, T0)
    state, second = heard(state, 7, T0 + timedelta(seconds=1))
    assert first == [DeviceCameOnline(7, T0)]
    assert second == []
    assert (state.online, state.online_since, state.last_seen) == (True, T0,
                                                                  T0 + timedelta(seconds=1))


def test_a_late_message_does_not_move_last_seen_back() -> None:
    state, _ = heard(DeviceState(), 7, T0)
    state, _ = heard(state, 7, T0 - timedelta(minutes=5))
    assert state.last_seen == T0


def test_going_offline_twice_raises_one_event_and_keeps_the_first_reason() -> None:
    state, _ = came_online(DeviceState(), 7, T0)
    state, first = went_offline(state, 7, T0, "status offline")
    state, second = went_offline(state, 7, T0, "inactive 30s")
    assert first == [DeviceWentOffline(7, T0, "status offline")]
    assert second == []
    assert state.offline_reason == "status offline"


def test_errors_are_counted_per_reason() -> None:
    state = count_errors(DeviceState(), ["poll timeout", "bad_json", "poll timeout"])
    assert state.errors == {"poll timeout": 2, "bad_json": 1}


def test_numbers_and_booleans_become_values_and_strings_text() -> None:
    reading = Telemetry(Envelope(LIFT, T0, ts=T0, seq=1),
                        {"floor": 5, "occupied": True, "door": "closed", "speed": math.nan})
    assert samples_of(7, reading) == [Sample(7, "floor", T0, value=5.0),
                                      Sample(7, "occupied", T0, value=1.0),
                                      Sample(7, "door", T0, text="closed")]


def test_a_reading_without_a_device_time_is_stamped_on_arrival() -> None:
    reading = Telemetry(Envelope(LIFT, T0), {"floor": -1})
    assert samples_of(7, reading) == [Sample(7, "floor", T0, value=-1.0)]


readings = st.lists(st.tuples(st.sampled_from(["floor", "door", "trips"]),
                              st.integers(-3, 30), st.integers(0, 50)), max_size=30)


@given(readings, st.integers(0, 30))
def test_the_newest_value_wins_however_the_readings_are_split(
        values: list[tuple[str, int, int]], split: int) -> None:
    timed = [(metric, value, T0 + timedelta(seconds=s)) for metric, value, s in values]
    at_once = merge_values(DeviceState(), timed)
    in_two = merge_values(merge_values(DeviceState(), timed[:split]), timed[split:])
    assert at_once == in_two
    for metric, last in at_once.last_values.items():
        newest = max(at for m, _, at in timed if m == metric)
        assert last.at == newest
        assert last.value == [v for m, v, at in timed if m == metric and at == newest][-1]


def test_last_values_survive_the_json_column() -> None:
    values = {"floor": LastValue(5, T0), "door": LastValue("closed", T0)}
    assert values_from_json(values_to_json(values)) == values
