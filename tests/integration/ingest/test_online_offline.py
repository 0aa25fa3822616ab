"""Online and offline: from messages, the status topic, pollers and silence; events only on
change; a restarted hub takes up the state it left (RELIABILITY Q7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.device_events import DeviceCameOnline, DeviceWentOffline
from hub.domain.observations import Envelope, Fault, Sample, StatusReported, Telemetry
from hub.ingest.observers import Delivered, Published
from hub.ingest.pipeline import IngestPipeline
from hub.store.device_tables import device_state
from tests.integration.ingest.conftest import (
    GATE,
    LIFT,
    METER,
    T0,
    Clock,
    Lakeside,
    PipelineFactory,
    reading,
    running,
    until,
)


@dataclass
class Heard:
    messages: list[Published] = field(default_factory=list)

    async def __call__(self, message: Published) -> None:
        self.messages.append(message)

    def transitions(self) -> list[tuple[str, int, str]]:
        return [(type(m).__name__, m.device_id, getattr(m, "reason", ""))
                for m in self.messages
                if isinstance(m, DeviceCameOnline | DeviceWentOffline)]


def _listening(pipeline: IngestPipeline) -> Heard:
    heard = Heard()
    pipeline.observers.subscribe(heard, DeviceCameOnline, DeviceWentOffline, Fault)
    return heard


def _status(online: bool) -> StatusReported:
    return StatusReported(Envelope(LIFT, received_at=T0), online=online)


async def _put_all(pipeline: IngestPipeline, items: Sequence[object]) -> None:
    done: list[int] = []
    target = pipeline.stats.items + len(items)
    for item in items:
        await pipeline.put(item, lambda: done.append(1))  # type: ignore[arg-type]
    await until(lambda: pipeline.stats.items >= target, f"{len(items)} more items stored")


async def test_messages_and_the_status_topic_move_a_device_online_and_offline_once_each(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline()
    heard = _listening(pipeline)
    lift = lakeside.ids["b3-lift-1"]
    async with running(pipeline):
        await _put_all(pipeline, [reading(LIFT, 1), reading(LIFT, 2), _status(True)])
        await _put_all(pipeline, [_status(False), _status(False)])  # the last will, retained
        await _put_all(pipeline, [reading(LIFT, 3)])

    assert heard.transitions() == [("DeviceCameOnline", lift, ""),
                                   ("DeviceWentOffline", lift, "status offline"),
                                   ("DeviceCameOnline", lift, "")]
    async with engine.connect() as connection:
        state = (await connection.execute(select(device_state).where(
            device_state.c.device_id == lift))).one()
    assert (state.online, state.offline_reason, state.last_seq) == (True, None, 3)


async def test_a_silent_device_goes_offline_after_its_own_timeout(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory,
        clock: Clock) -> None:
    pipeline = make_pipeline()
    heard = _listening(pipeline)
    lift, meter = lakeside.ids["b3-lift-1"], lakeside.ids["b3-meter-power"]
    async with running(pipeline):
        await _put_all(pipeline, [reading(LIFT, 1), reading(METER, 1, kwh=5.0)])
        clock.advance(29)
        quiet = await pipeline.sweep()
        clock.advance(2)  # the lift's 30 s are up; the meter has 300 s
        first = await pipeline.sweep()
        again = await pipeline.sweep()
        await _put_all(pipeline, [reading(LIFT, 2, at=clock.now)])

    assert (quiet, again) == ([], [])
    assert first == [DeviceWentOffline(lift, clock.now, "inactive 30s")]
    assert heard.transitions() == [
        ("DeviceCameOnline", lift, ""), ("DeviceCameOnline", meter, ""),
        ("DeviceWentOffline", lift, "inactive 30s"), ("DeviceCameOnline", lift, "")]


async def test_a_restarted_hub_takes_up_the_state_it_left(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory,
        clock: Clock) -> None:
    before = make_pipeline()
    async with running(before):
        await _put_all(before, [reading(LIFT, 1), _status(True)])
    clock.advance(100)  # the hub was down for 100 s; the lift's timeout is 30 s
    after = make_pipeline()
    heard = _listening(after)
    async with running(after):
        await _put_all(after, [_status(True)])  # the broker resends the retained status
        clock.advance(29)
        not_yet = await after.sweep()
        clock.advance(1)
        swept = await after.sweep()

    lift = lakeside.ids["b3-lift-1"]
    assert not_yet == []
    assert swept == [DeviceWentOffline(lift, clock.now, "inactive 30s")]
    assert heard.transitions() == [("DeviceWentOffline", lift, "inactive 30s")]


async def test_poller_verdicts_take_effect_in_order_with_its_readings(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(batch_max_items=100)
    heard = _listening(pipeline)
    meter = lakeside.ids["b3-meter-power"]
    await pipeline.put(reading(METER, None, kwh=5.0))
    pipeline.reachability(meter, False, "poll timeout")  # as a Modbus poller calls it
    await pipeline.device_unreachable(meter, "poll timeout")
    async with running(pipeline):
        await until(lambda: pipeline.stats.items == 3, "the first three")
        pipeline.reachability(meter, True, "")
        await until(lambda: pipeline.stats.items == 4, "back")

    assert heard.transitions() == [("DeviceCameOnline", meter, ""),
                                   ("DeviceWentOffline", meter, "poll timeout"),
                                   ("DeviceCameOnline", meter, "")]
    async with engine.connect() as connection:
        errors = await connection.scalar(select(device_state.c.errors).where(
            device_state.c.device_id == meter))
    assert errors == {"poll timeout": 2}


@dataclass
class RecordingExport:
    offered: list[Sample] = field(default_factory=list)

    def offer(self, samples: Sequence[Sample]) -> None:
        self.offered.extend(samples)


async def test_new_events_reach_observers_and_new_samples_the_export_once(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    export = RecordingExport()
    pipeline = make_pipeline(export=export)
    heard = _listening(pipeline)
    trapped = Fault(Envelope(LIFT, received_at=T0, seq=5, boot="boot-a"), "TRAPPED", True)
    plate = reading(GATE, 1, barrier="open")
    async with running(pipeline):
        await _put_all(pipeline, [trapped, trapped, plate, plate])

    faults = [m for m in heard.messages if isinstance(m, Delivered)]
    assert [(m.device.code, m.device.building_id, m.observation) for m in faults] == [
        ("b3-lift-1", lakeside.b3, trapped)]
    assert not [m for m in heard.messages if isinstance(m, Delivered)
                and isinstance(m.observation, Telemetry)]  # nobody subscribed to telemetry
    assert export.offered == [Sample(lakeside.ids["north-gate"], "barrier", T0, text="open")]


async def test_a_poller_verdict_waits_for_room_in_a_full_queue_without_blocking_the_poller(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(queue_size=10)
    heard = _listening(pipeline)
    meter = lakeside.ids["b3-meter-power"]
    for seq in range(1, 11):
        await pipeline.put(reading(METER, seq, kwh=float(seq)))
    pipeline.reachability(meter, False, "poll timeout")  # returns at once
    async with running(pipeline):
        await until(lambda: pipeline.stats.items == 11, "the readings and the verdict")

    assert heard.transitions() == [("DeviceCameOnline", meter, ""),
                                   ("DeviceWentOffline", meter, "poll timeout")]
