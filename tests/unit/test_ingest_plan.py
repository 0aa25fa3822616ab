"""One batch's decisions: which messages count, and what each does to its device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.device_events import DeviceCameOnline, DeviceWentOffline, SequenceGapDetected
from hub.domain.observations import (
    CredentialPresented,
    DeviceKey,
    Envelope,
    Rejected,
    StatusReported,
    Telemetry,
)
from hub.domain.registry import Approval
from hub.ingest.items import Reachability, excerpt_of
from hub.ingest.plan import (
    InboxKey,
    dead_letter,
    first_occurrences,
    plan_device,
    verdict,
)
from hub.ingest.registry_cache import DeviceInfo
from hub.ingest.state import DeviceState

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
LIFT = DeviceKey("lakeside", "elevator", "b3-lift-1")
B3_LIFT = DeviceInfo(7, 1, "lakeside", "b3-lift-1", "elevator", 3, Approval.ACTIVE, 30)


def _reading(seq: int | None, *, boot: str = "boot-a", floor: int = 1) -> Telemetry:
    at = T0 + timedelta(seconds=min(seq or 0, 10**6))
    return Telemetry(Envelope(LIFT, at, seq=seq, boot=boot), {"floor": floor})


def test_only_active_devices_of_the_named_kind_are_trusted() -> None:
    pending = DeviceInfo(8, 1, "lakeside", "lamp-07", "light", None, Approval.PENDING, 300)
    lamp = Telemetry(Envelope(DeviceKey("lakeside", "light", "lamp-07"), T0), {"on": True})
    spoof = Telemetry(Envelope(DeviceKey("lakeside", "light", "b3-lift-1"), T0), {"on": True})
    assert verdict(_reading(1), B3_LIFT) is None
    assert verdict(_reading(1), None) == "unknown_device"
    assert verdict(lamp, pending) == "not_approved"
    assert verdict(spoof, B3_LIFT) == "kind_mismatch"
    assert verdict(_reading(2**63), B3_LIFT) == "seq_out_of_range"
    assert verdict(_reading(1, boot="x" * 65), B3_LIFT) == "boot_too_long"


@given(st.lists(st.one_of(st.none(), st.tuples(st.just(7), st.sampled_from("ab"),
                                                st.integers(0, 5))), max_size=40))
def test_each_inbox_key_has_one_first_position_and_the_rest_are_repeats(
        keys: list[InboxKey | None]) -> None:
    first, repeats = first_occurrences(keys)
    assert set(first) == {k for k in keys if k is not None}
    assert all(keys.index(k) == p for k, p in first.items())
    assert len(first) + len(repeats) + keys.count(None) == len(keys)
    assert not repeats & set(first.values())


def test_a_batch_brings_its_device_online_once_and_stores_its_readings() -> None:
    plan = plan_device(7, DeviceState(), [_reading(1, floor=2), _reading(2, floor=3)], T0)
    assert plan.events == [DeviceCameOnline(7, T0 + timedelta(seconds=1))]
    assert [(s.metric, s.value) for s in plan.samples] == [("floor", 2.0), ("floor", 3.0)]
    assert plan.state.last_values["floor"].value == 3
    assert (plan.state.boot, plan.state.last_seq) == ("boot-a", 2)


def test_the_last_will_takes_a_device_offline_and_its_next_reading_back() -> None:
    offline = StatusReported(Envelope(LIFT, T0 + timedelta(seconds=5)), online=False)
    online_state = DeviceState(online=True, online_since=T0, last_seen=T0)
    plan = plan_device(7, online_state, [offline, _reading(9)], T0)
    assert plan.events == [DeviceWentOffline(7, T0 + timedelta(seconds=5), "status offline"),
                           DeviceCameOnline(7, T0 + timedelta(seconds=9))]


def test_a_replayed_retained_online_status_does_not_move_last_seen() -> None:
    seen_at, hub_restarted = T0, T0 + timedelta(hours=2)
    state = DeviceState(online=True, online_since=T0, last_seen=seen_at)
    replay = StatusReported(Envelope(LIFT, hub_restarted), online=True, retained=True)
    said_now = StatusReported(Envelope(LIFT, hub_restarted), online=True)
    assert plan_device(7, state, [replay], hub_restarted).state == state
    assert plan_device(7, state, [said_now], hub_restarted).state.last_seen == hub_restarted
    offline = DeviceState(online=False, online_since=T0, last_seen=seen_at)
    back = plan_device(7, offline, [replay], hub_restarted)
    assert (back.state.online, back.state.last_seen) == (True, seen_at)


def test_gaps_are_raised_with_the_batch_time_after_the_transitions() -> None:
    stored_at = T0 + timedelta(minutes=1)
    state = DeviceState(online=True, boot="boot-a", last_seq=3)
    plan = plan_device(7, state, [_reading(7), _reading(5)], stored_at)
    assert plan.events == [SequenceGapDetected(7, "boot-a", 4, 4, stored_at),
                           SequenceGapDetected(7, "boot-a", 6, 6, stored_at)]


def test_a_poller_verdict_and_rejected_messages_count_against_the_device() -> None:
    state = DeviceState(online=True)
    down = Reachability(7, False, T0, "poll timeout")
    plan = plan_device(7, state, [down, "bad_json", Reachability(7, True, T0)], T0)
    assert plan.events == [DeviceWentOffline(7, T0, "poll timeout"), DeviceCameOnline(7, T0)]
    assert plan.state.errors == {"poll timeout": 1, "bad_json": 1}


def test_a_dead_letter_never_shows_a_credential() -> None:
    door = CredentialPresented(Envelope(DeviceKey("lakeside", "door", "b1-door-1"), T0, seq=3),
                               credential="CARD:0004411223")
    letter = dead_letter(door, "not_approved")
    assert "0004411223" not in letter.excerpt
    assert letter.topic == "estate/lakeside/door/b1-door-1/event"
    assert letter.excerpt == excerpt_of(door)


def test_a_dead_letter_of_bad_text_is_itself_storable() -> None:
    rejected = Rejected("estate/lakeside/elevator/b3-lift-1/telemetry\x00", "bad_json",
                        '{"floor": "\ud800"}' + "x" * 500, T0, LIFT)
    letter = dead_letter(rejected)
    letter.excerpt.encode("utf-8")
    assert "\x00" not in letter.topic
    assert len(letter.excerpt) == 300
    assert letter.device_key == "lakeside/elevator/b3-lift-1"
