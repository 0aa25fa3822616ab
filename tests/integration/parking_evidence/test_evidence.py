"""The gate flow reading snapshots and keeping their evidence: cameras that send only a
picture (rendered by hub.devices.plates), the snapshot and the plate crop stored by content
and referenced from the decision, refused payloads held for a guard with their reason, and
the files removed with the plate logs.

The reader here is a stand-in that answers the plate each picture was drawn with, after the
real reader's own payload checks (hub.devices.plates.decode); the real worker pool is tried
at the end of the file, when the reader's model is there."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.devices.plates.camera_images import plate_image_source
from hub.devices.plates.decode import decode_image
from hub.devices.plates.pool import PlateReadFailed
from hub.domain.parking.sessions import GateDecision, SessionState, Verdict
from hub.domain.parking.standing import Direction, Standing
from hub.parking.evidence import (
    EvidenceFiles,
    GateEvidence,
    compress_snapshot,
    run_evidence_retention,
)
from hub.parking.flow import GateFlow
from hub.parking.gate import Outcome
from hub.parking.reading import GateRead
from hub.parking.steps import run_gate_log_retention
from hub.settings import ParkingSettings
from hub.store.db import make_sessions
from tests.integration.parking_gate.world import T0, World, build_world

M = timedelta(minutes=1)


@dataclass
class Reading:
    plate: str
    color: str
    confidence: float
    crop: Any = field(repr=False)


@dataclass
class StandInPool:
    """Answers the plate a picture was drawn with; refuses what the real reader refuses."""

    plates: dict[bytes, str] = field(default_factory=dict)
    reads: int = 0
    fail_next: bool = False

    async def read(self, image: bytes) -> Reading | None:
        self.reads += 1
        if self.fail_next:
            self.fail_next = False
            raise PlateReadFailed("the plate reader's worker died during this read")
        decode_image(image)  # PlateImageRejected, as in the worker
        plate = self.plates.get(image)
        crop = np.full((44, 140, 3), (200, 80, 20), np.uint8)  # a blue plate's size
        return None if plate is None else Reading(plate, "blue", 0.97, crop)


@dataclass
class Rig:
    world: World
    pool: StandInPool
    evidence: GateEvidence
    flow: GateFlow
    pictures: Any = field(default_factory=lambda: plate_image_source(share=1.0, hard_share=0.0,
                                                                      seed=11))
    seq: int = 0

    def picture(self, plate: str) -> bytes:
        image = self.pictures(plate, "blue")
        assert image is not None
        self.pool.plates[image] = plate
        return bytes(image)

    async def read(self, direction: Direction, at: datetime, image: bytes | None, *,
                   plate: str | None = None, confidence: float | None = None) -> Outcome:
        w = self.world
        self.seq += 1
        camera, lane = (w.camera_in, "in-1") if direction is Direction.IN \
            else (w.camera_out, "out-1")
        outcome = await self.flow.handle(GateRead(camera, lane, direction, plate,
                                                  "blue" if plate else None, confidence, at,
                                                  at, self.seq, "b1", image))
        await self.flow.gate.commands.drain()
        await self.evidence.drain()
        assert outcome is not None
        return outcome

    async def decision(self, decision_id: int | None) -> GateDecision:
        async with self.world.sessions() as db:
            record = await db.get(GateDecision, decision_id)
        assert record is not None
        return record


@pytest.fixture
async def rig(engine: AsyncEngine, tmp_path: Path) -> Rig:
    world = await build_world(engine, make_sessions(engine))
    pool = StandInPool()
    evidence = GateEvidence(EvidenceFiles(tmp_path / "evidence"), pool)
    flow = GateFlow(world.flow.gate, world.clock, reader=evidence.reader, evidence=evidence)
    return Rig(world, pool, evidence, flow)


def _decoded(data: bytes) -> Any:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


async def test_picture_only_registered_car_opens_and_keeps_snapshot_and_crop(rig: Rig) -> None:
    rig.world.standing("沪A12345", Standing.REGISTERED, resident_ids=(3,))
    image = rig.picture("沪A12345")
    outcome = await rig.read(Direction.IN, T0, image)
    assert outcome.verdict is Verdict.OPEN
    assert rig.world.gateway.actions() == [("gate-in", "open")]
    record = await rig.decision(outcome.decision_id)
    assert record.plate == "沪A12345"
    assert any("read from the snapshot" in reason for reason in record.reasons)
    assert record.snapshot_ref == hashlib.sha256(image).hexdigest() + ".jpg"
    snapshot = await rig.evidence.files.snapshot(record.snapshot_ref)
    assert max(_decoded(snapshot).shape[:2]) <= 1280 and len(snapshot) <= len(image)
    crop = await rig.evidence.files.crop(record.snapshot_ref)
    assert crop.startswith(b"\x89PNG") and _decoded(crop).shape == (44, 140, 3)


async def test_temporary_car_by_pictures_gets_its_session_and_the_charge_its_evidence(
        rig: Rig) -> None:
    entry = await rig.read(Direction.IN, T0, rig.picture("苏E54321"))
    assert entry.verdict is Verdict.OPEN and entry.session_id is not None
    (session,) = await rig.world.all_sessions()
    assert session.state is SessionState.INSIDE and session.plate == "苏E54321"
    leave = await rig.read(Direction.OUT, T0 + 90 * M, rig.picture("苏E54321"))
    assert leave.verdict is Verdict.AWAIT_PAYMENT and leave.session_id == entry.session_id
    (charge,) = await rig.world.charges()
    assert charge.session_id == entry.session_id
    (session,) = await rig.world.all_sessions()
    for decision_id in (session.entry_decision_id, session.exit_decision_id):
        record = await rig.decision(decision_id)
        assert record.snapshot_ref is not None
        assert await rig.evidence.files.snapshot(record.snapshot_ref)
        assert await rig.evidence.files.crop(record.snapshot_ref)
    assert rig.pool.reads == 2


@pytest.mark.parametrize(("payload", "why"), [
    (lambda good: good[: len(good) // 2], "truncated JPEG"),
    (lambda good: b"\xff\xd8\xff" + b"\x00" * 300, "corrupt JPEG"),
])
async def test_a_refused_picture_is_held_for_a_guard_with_its_reason(
        rig: Rig, payload: Any, why: str) -> None:
    good = rig.picture("沪A12345")
    rig.world.standing("沪A12345", Standing.REGISTERED)
    held = await rig.read(Direction.IN, T0, payload(good))
    assert held.verdict is Verdict.HOLD and rig.world.gateway.sent == []
    record = await rig.decision(held.decision_id)
    assert record.snapshot_ref is None
    assert any(f"refused by the plate reader: {why}" in r for r in record.reasons), \
        record.reasons
    assert any("held for a guard" in r for r in record.reasons)
    opened = await rig.read(Direction.IN, T0 + M, good)  # the reader goes on
    assert opened.verdict is Verdict.OPEN


async def test_a_failed_read_is_held_with_its_reason(rig: Rig) -> None:
    rig.pool.fail_next = True
    held = await rig.read(Direction.IN, T0, rig.picture("沪A12345"))
    assert held.verdict is Verdict.HOLD
    record = await rig.decision(held.decision_id)
    assert any("plate reader failed on the snapshot" in r for r in record.reasons)


async def test_a_confident_camera_read_keeps_its_picture_without_reading_it(rig: Rig) -> None:
    image = rig.picture("沪A12345")
    outcome = await rig.read(Direction.IN, T0, image, plate="沪A12345", confidence=0.95)
    assert outcome.verdict is Verdict.OPEN and rig.pool.reads == 0
    record = await rig.decision(outcome.decision_id)
    assert record.snapshot_ref is not None
    assert await rig.evidence.files.snapshot(record.snapshot_ref)
    assert not rig.evidence.files.crop_path(record.snapshot_ref).exists()


def test_large_snapshots_are_kept_at_most_1280_pixels_wide() -> None:
    rng = np.random.default_rng(5)
    frame = cv2.GaussianBlur(rng.integers(0, 255, (1080, 1920, 3), np.uint8), (9, 9), 0)
    big = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    kept = compress_snapshot(big, 1280, 75)
    assert _decoded(kept).shape == (720, 1280, 3) and len(kept) < len(big)
    small = plate_image_source(seed=3)("沪A12345", "blue")
    assert small is not None and compress_snapshot(small, 1280, 75) == small


async def test_evidence_goes_with_the_plate_logs(rig: Rig) -> None:
    old = await rig.read(Direction.IN, T0, rig.picture("沪B11111"))
    orphan_young = rig.evidence.files.snapshot_path("ab" * 32 + ".jpg")
    rig.evidence.files.write(orphan_young, b"\xff\xd8\xff")
    settings = ParkingSettings()
    later = T0 + timedelta(days=settings.log_retention_days + 1)
    recent = await rig.read(Direction.IN, later - M, rig.picture("沪C22222"))
    old_ref = (await rig.decision(old.decision_id)).snapshot_ref
    recent_ref = (await rig.decision(recent.decision_id)).snapshot_ref
    assert old_ref and recent_ref
    files = rig.evidence.files
    two_hours_ago = later.timestamp() - 7200
    for path in (files.snapshot_path(old_ref), files.crop_path(old_ref),
                 files.snapshot_path(recent_ref), files.crop_path(recent_ref)):
        os.utime(path, (two_hours_ago, two_hours_ago))
    os.utime(orphan_young, (later.timestamp(), later.timestamp()))
    # Referenced by a decision still kept: nothing goes.
    assert await run_evidence_retention(rig.world.sessions, files, later) == 0
    assert await run_gate_log_retention(rig.world.sessions, settings, later) >= 1
    assert await run_evidence_retention(rig.world.sessions, files, later) == 2
    assert not files.snapshot_path(old_ref).exists() and not files.crop_path(old_ref).exists()
    assert files.snapshot_path(recent_ref).exists() and files.crop_path(recent_ref).exists()
    assert orphan_young.exists()  # its decision may still be being written
    async with rig.world.sessions() as db:
        assert (await db.execute(select(GateDecision).where(
            GateDecision.id == old.decision_id))).first() is None  # type: ignore[arg-type]


async def test_the_real_reader_pool_refuses_bad_payloads_and_goes_on(
        engine: AsyncEngine, tmp_path: Path) -> None:
    from hub.devices.plates.pool import PlateReaderPool

    world = await build_world(engine, make_sessions(engine))
    pool = PlateReaderPool(workers=1, timeout_s=30.0)  # a busy test machine is not a fault
    evidence = GateEvidence(EvidenceFiles(tmp_path / "evidence"), pool)
    flow = GateFlow(world.flow.gate, world.clock, reader=evidence.reader, evidence=evidence)
    rig = Rig(world, StandInPool(), evidence, flow)
    try:
        await pool.worker_pids()  # started, model loaded
        image = rig.picture("沪A12345")
        for bad in (b"", image[:1000], b"\xff\xd8\xff" + b"\x00" * 300):
            held = await rig.read(Direction.IN, T0, bad)
            assert held.verdict is Verdict.HOLD
            record = await rig.decision(held.decision_id)
            assert any("plate reader" in r for r in record.reasons), record.reasons
        world.standing("沪A12345", Standing.REGISTERED)
        opened = await rig.read(Direction.IN, T0 + M, image)
        assert opened.verdict is Verdict.OPEN, opened.reasons
        record = await rig.decision(opened.decision_id)
        assert record.snapshot_ref is not None
        assert await evidence.files.crop(record.snapshot_ref)
    finally:
        await evidence.aclose()
