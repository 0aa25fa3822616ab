"""What arrived from the broker goes to ingestion events first, each device in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.devices.mqtt.incoming import UrgentFirst, urgency


def line() -> UrgentFirst[str]:
    return UrgentFirst(lambda topic: topic)


def test_events_and_acks_are_urgent_telemetry_and_status_are_not() -> None:
    assert urgency("estate/lakeside/elevator/lift-1/event") == (True, "lakeside/lift-1")
    assert urgency("estate/lakeside/gate/gate-n/cmd/ack") == (True, "lakeside/gate-n")
    assert urgency("estate/lakeside/meter/m-1/telemetry") == (False, "lakeside/m-1")
    assert urgency("estate/lakeside/meter/m-1/status") == (False, "lakeside/m-1")
    assert urgency("somewhere/else") == (False, None)


def test_a_plate_read_goes_before_the_telemetry_that_came_before_it() -> None:
    queue = line()
    for n in range(3):
        queue.append(f"estate/s/meter/m-{n}/telemetry")
    queue.append("estate/s/camera/cam-1/event")
    assert queue.popleft() == "estate/s/camera/cam-1/event"
    assert [queue.popleft() for _ in range(len(queue))] == [
        f"estate/s/meter/m-{n}/telemetry" for n in range(3)]


def test_a_devices_event_waits_behind_its_own_telemetry_and_its_telemetry_follows_it() -> None:
    queue = line()
    queue.append("estate/s/elevator/lift-1/telemetry")
    queue.append("estate/s/meter/m-1/telemetry")
    queue.append("estate/s/elevator/lift-1/event")  # behind the lift's own reading
    queue.append("estate/s/camera/cam-1/event")
    queue.append("estate/s/camera/cam-1/telemetry")  # follows the camera's event ahead
    assert [queue.popleft() for _ in range(len(queue))] == [
        "estate/s/camera/cam-1/event", "estate/s/camera/cam-1/telemetry",
        "estate/s/elevator/lift-1/telemetry", "estate/s/meter/m-1/telemetry",
        "estate/s/elevator/lift-1/event"]


topics = st.builds(lambda device, channel: f"estate/s/k/d{device}/{channel}",
                   st.integers(0, 3), st.sampled_from(["telemetry", "status", "event",
                                                       "cmd/ack"]))


@given(st.lists(st.one_of(topics.map(lambda t: ("in", t)), st.just(("out", ""))),
                max_size=60))
def test_whatever_arrives_each_devices_messages_leave_in_the_order_they_came(
        steps: list[tuple[str, str]]) -> None:
    queue: UrgentFirst[str] = UrgentFirst(lambda tagged: tagged.split("#")[0])
    arrived: list[tuple[int, str]] = []
    left: list[tuple[int, str]] = []
    numbered: dict[str, int] = {}
    for action, topic in steps:
        if action == "in":
            tagged = f"{topic}#{len(arrived)}"
            arrived.append((len(arrived), topic))
            numbered[tagged] = len(arrived) - 1
            queue.append(tagged)
        elif len(queue):
            tagged = queue.popleft()
            left.append((numbered[tagged], tagged.split("#")[0]))
    while len(queue):
        tagged = queue.popleft()
        left.append((numbered[tagged], tagged.split("#")[0]))
    assert sorted(left) == arrived  # nothing lost, nothing twice
    for device in {urgency(t)[1] for _, t in arrived}:
        order = [n for n, t in left if urgency(t)[1] == device]
        assert order == sorted(order), device
