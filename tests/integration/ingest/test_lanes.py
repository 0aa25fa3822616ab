"""The express lane on each backend: a fault is stored ahead of the telemetry queued before
it, and a device's own earlier messages still go first."""

from __future__ import annotations

import asyncio

from hub.domain.observations import Envelope, Fault
from tests.integration.ingest.conftest import (
    LIFT,
    METER,
    T0,
    PipelineFactory,
    reading,
    running,
    until,
)

BACKLOG = 1000
BATCH = 50


def fault(seq: int) -> Fault:
    return Fault(Envelope(key=LIFT, received_at=T0, ts=T0, seq=seq, boot="boot-a"),
                 "TRAPPED_AT_FLOOR", True)


async def test_a_fault_is_stored_ahead_of_the_telemetry_queued_before_it(
        lakeside: object, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(batch_max_items=BATCH, queue_size=2 * BACKLOG)
    acked: list[str] = []
    for seq in range(1, BACKLOG + 1):
        await pipeline.put(reading(METER, seq), lambda: acked.append("telemetry"))
    await pipeline.put(fault(1), lambda: acked.append("fault"))

    async with running(pipeline):
        await until(lambda: len(acked) == BACKLOG + 1, "everything acknowledged")

    # In one lane it would be last; beside the bulk writer it waits for one batch or two.
    assert acked.index("fault") <= 2 * BATCH
    assert pipeline.stats.stored == BACKLOG + 1 and pipeline.stats.gaps == 0


async def test_a_devices_fault_still_follows_its_own_earlier_telemetry(
        lakeside: object, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(batch_max_items=BATCH, queue_size=2 * BACKLOG)
    acked: list[str] = []
    for seq in range(1, BACKLOG + 1):
        await pipeline.put(reading(METER, seq), lambda: acked.append("meter"))
        if seq == BACKLOG // 2:  # the lift's reading, halfway down the backlog
            await pipeline.put(reading(LIFT, 1), lambda: acked.append("lift reading"))
    await pipeline.put(fault(2), lambda: acked.append("lift fault"))

    async with running(pipeline):
        await until(lambda: len(acked) == BACKLOG + 2, "everything acknowledged")

    assert acked.index("lift reading") < acked.index("lift fault")
    assert pipeline.stats.gaps == 0  # seq 1 then 2: nothing looked missing


async def test_telemetry_batches_wait_while_urgent_work_is_under_way(
        lakeside: object, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(batch_max_items=BATCH, queue_size=2 * BACKLOG)
    pipeline.urgency.patience_s = 3600.0  # only the end of the urgent work lets it go
    acked: list[str] = []
    for seq in range(1, 11):
        await pipeline.put(reading(METER, seq), lambda: acked.append("telemetry"))
    await pipeline.put(fault(1), lambda: acked.append("fault"))

    with pipeline.urgency.working():  # a gate deciding, a rule opening an order
        async with running(pipeline):
            await until(lambda: acked == ["fault"], "the fault stored, the telemetry not")
            await asyncio.sleep(0.05)
            assert acked == ["fault"]
    async with running(pipeline):
        await until(lambda: len(acked) == 11, "the telemetry stored once it was quiet")
