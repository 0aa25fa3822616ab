"""The writes of one batch, in the caller's transaction, with SQLAlchemy Core (executemany)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.domain.observations import Sample
from hub.ingest import sql
from hub.ingest.plan import DeadLetter
from hub.ingest.sequencing import Gap
from hub.ingest.state import DeviceState, values_from_json, values_to_json
from hub.store.device_tables import dead_letters, device_state, sequence_gaps, telemetry

DROPPED = "dead_letters_dropped"


async def lock_states(connection: AsyncConnection, device_ids: Collection[int],
                      known: set[int]) -> dict[int, DeviceState]:
    """The current state of each device, its row created if missing and locked until commit
    (PostgreSQL, MySQL), in id order so that two workers never deadlock on them."""
    ordered = sorted(device_ids)
    missing = [i for i in ordered if i not in known]
    await sql.insert_ignoring(connection, device_state, [
        {"device_id": i, "online": None, "boot": "", "last_seq": None, "last_values": {},
         "errors": {}} for i in missing])
    rows = await connection.execute(
        select(device_state).where(device_state.c.device_id.in_(ordered))
        .order_by(device_state.c.device_id).with_for_update())
    return {row.device_id: DeviceState(
        online=row.online, online_since=row.online_since, offline_reason=row.offline_reason,
        last_seen=row.last_seen, boot=row.boot, last_seq=row.last_seq,
        last_values=values_from_json(row.last_values), errors=dict(row.errors or {}),
    ) for row in rows}


STATE_COLUMNS = ("online", "online_since", "offline_reason", "last_seen", "boot", "last_seq",
                 "last_values", "errors")


async def save_states(connection: AsyncConnection, states: Mapping[int, DeviceState]) -> None:
    await sql.update_many(connection, device_state, "device_id", STATE_COLUMNS, [
        (s.online, s.online_since, s.offline_reason, s.last_seen, s.boot, s.last_seq,
         values_to_json(s.last_values), dict(s.errors), device_id)
        for device_id, s in sorted(states.items())])


TELEMETRY_COLUMNS = ("device_id", "metric", "at", "value", "text")


async def save_samples(connection: AsyncConnection, samples: Sequence[Sample]) -> None:
    await sql.insert_many(connection, telemetry, TELEMETRY_COLUMNS, [
        (s.device_id, s.metric, s.at, s.value, s.text) for s in samples])


async def save_gaps(connection: AsyncConnection, gaps: Sequence[tuple[int, Gap]],
                    at: Any) -> None:
    if gaps:
        await connection.execute(insert(sequence_gaps), [
            {"device_id": device_id, "boot": g.boot, "first_missing": g.first_missing,
             "last_missing": g.last_missing, "detected_at": at} for device_id, g in gaps])


async def save_dead_letters(connection: AsyncConnection, letters: Sequence[DeadLetter],
                            keep: int) -> int:
    """Store the letters, then drop all but the newest `keep`; returns how many were dropped."""
    if not letters:
        return 0
    await connection.execute(insert(dead_letters), [
        {"at": d.at, "topic": d.topic, "device_key": d.device_key, "reason": d.reason,
         "excerpt": d.excerpt} for d in letters])
    cutoff = await connection.scalar(select(dead_letters.c.id).order_by(
        dead_letters.c.id.desc()).offset(keep).limit(1))
    if cutoff is None:
        return 0
    result = await connection.execute(delete(dead_letters).where(dead_letters.c.id <= cutoff))
    return int(result.rowcount or 0)


def letter_counter(reason: str, device_key: str | None) -> str:
    """The `counters` row of dead letters for one (reason, device key)."""
    reason = reason.replace("|", "/")  # the separator of the name
    name = f"dead_letter|{reason}|{device_key or '-'}"
    return name if len(name) <= 200 else f"dead_letter|{reason}|(long key)"[:200]
