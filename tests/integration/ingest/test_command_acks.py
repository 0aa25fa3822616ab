"""Devices' acks settle their commands in the ingestion batch's transaction, several at once
(a batch holding two acks used to fail: SQLAlchemy refuses an `in_` list with executemany, and
the pipeline halved the batch until each ack stood alone)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.observations import CommandAcknowledged, DeviceKey, Envelope
from hub.ingest.command_log import settle_acks
from hub.store.device_tables import device_commands
from tests.integration.ingest.conftest import GATE, LIFT, T0, Lakeside


def ack(key: DeviceKey, command_id: str, ok: bool, error: str | None = None
        ) -> CommandAcknowledged:
    return CommandAcknowledged(Envelope(key=key, received_at=T0, ts=T0), command_id, ok, error)


async def test_two_acks_in_one_batch_settle_both_commands(engine: AsyncEngine,
                                                        lakeside: Lakeside) -> None:
    lift, gate = lakeside.ids[LIFT.device], lakeside.ids[GATE.device]
    commands = {"c-open": (gate, "sent"), "c-stop": (lift, "no_ack"), "c-old": (gate, "expired"),
                "c-other": (lift, "sent")}
    async with engine.begin() as connection:
        await connection.execute(insert(device_commands), [
            {"id": command_id, "device_id": device, "action": "open", "args": {},
             "issued_at": T0, "expires_at": T0 + timedelta(seconds=30), "issued_by": None,
             "cause": "test", "status": status}
            for command_id, (device, status) in commands.items()])
    async with engine.begin() as connection:
        await settle_acks(connection, [
            (gate, ack(GATE, "c-open", True)),
            (lift, ack(LIFT, "c-stop", False, "door obstructed")),
            (gate, ack(GATE, "c-old", True)),  # expired: the device's word comes too late
            (gate, ack(GATE, "c-other", True)),  # another device's command: not this one's
        ])
    async with engine.connect() as connection:
        rows = {row.id: (row.status, row.error) for row in await connection.execute(
            select(device_commands.c.id, device_commands.c.status, device_commands.c.error))}
    assert rows == {"c-open": ("acked", None), "c-stop": ("failed", "door obstructed"),
                    "c-old": ("expired", None), "c-other": ("sent", None)}
