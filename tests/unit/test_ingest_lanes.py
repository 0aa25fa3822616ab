"""The bulk and express lanes into the ingestion writer: urgent messages go ahead of the
telemetry queued before them, and one device's messages are still taken in the order they
came, whatever the writers take in between."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from hub.ingest.lanes import Lanes


@dataclass(frozen=True)
class Msg:
    device: str | None
    urgent: bool
    n: int = 0


def lanes() -> Lanes[Msg]:
    return Lanes(100, urgent=lambda m: m.urgent, device=lambda m: m.device)


def test_an_urgent_message_goes_express_and_telemetry_bulk() -> None:
    into = lanes()
    assert into.admit(Msg("meter-1", False)) is into.bulk
    assert into.admit(Msg("camera-1", True)) is into.express


def test_a_devices_urgent_message_waits_behind_its_own_unfinished_telemetry() -> None:
    into = lanes()
    telemetry, event = Msg("lift-1", False, 1), Msg("lift-1", True, 2)
    assert into.admit(telemetry) is into.bulk
    assert into.admit(event) is into.bulk  # its telemetry is not stored yet
    into.finished([telemetry, event])
    assert into.admit(Msg("lift-1", True, 3)) is into.express  # nothing of it left in bulk


def test_telemetry_follows_its_devices_urgent_message_into_express_until_it_is_stored() -> None:
    into = lanes()
    event = Msg("lift-1", True, 1)
    assert into.admit(event) is into.express
    after = Msg("lift-1", False, 2)
    assert into.admit(after) is into.express
    into.finished([event, after])
    assert into.admit(Msg("lift-1", False, 3)) is into.bulk


def test_a_withdrawn_message_no_longer_holds_its_device_in_a_lane() -> None:
    into = lanes()
    telemetry = Msg("lift-1", False)
    into.admit(telemetry)
    into.withdraw(telemetry)  # its put was cancelled
    assert into.admit(Msg("lift-1", True)) is into.express


def test_messages_of_no_device_keep_no_order_and_hold_nothing() -> None:
    into = lanes()
    assert into.admit(Msg(None, False)) is into.bulk
    assert into.admit(Msg(None, True)) is into.express
    into.finished([Msg(None, False)])  # nothing counted, nothing to forget


# One step of a run: admit a new message (device index, urgent), or let a writer take the
# head of a lane (0 express, 1 bulk) and finish it at once or later.
steps = st.lists(st.one_of(
    st.tuples(st.just("admit"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("take"), st.integers(0, 1), st.booleans()),
    st.tuples(st.just("finish"), st.integers(0, 0), st.booleans()),
), max_size=80)


@given(steps)
def test_whatever_the_writers_take_each_devices_messages_are_taken_in_order(
        run: list[tuple[str, int, bool]]) -> None:
    into = lanes()
    taken: list[Msg] = []
    unfinished: list[Msg] = []
    counter = 0
    for action, index, flag in run:
        if action == "admit":
            counter += 1
            message = Msg(f"d{index}", flag, counter)
            into.admit(message).put_nowait(message)
        elif action == "take":
            lane = into.express if index == 0 else into.bulk
            if not lane.empty():
                message = lane.get_nowait()
                taken.append(message)
                if flag:
                    into.finished([message])
                else:
                    unfinished.append(message)
        elif unfinished:
            into.finished(unfinished)
            unfinished.clear()
    for device in {m.device for m in taken}:
        numbers = [m.n for m in taken if m.device == device]
        assert numbers == sorted(numbers), device
    # and nothing was lost: what was not taken is still queued
    assert len(taken) + into.depth() == counter


async def test_join_waits_for_both_lanes() -> None:
    into = lanes()
    for message in (Msg("a", False), Msg("b", True)):
        into.admit(message).put_nowait(message)
    joined = asyncio.create_task(into.join())
    await asyncio.sleep(0)
    into.bulk.get_nowait()
    into.bulk.task_done()
    await asyncio.sleep(0)
    assert not joined.done()  # the express message is not done yet
    into.express.get_nowait()
    into.express.task_done()
    await asyncio.wait_for(joined, 1.0)
