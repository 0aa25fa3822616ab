"""Issue 7 end to end: a camera that sends only a picture (a scene drawn by
hub.devices.plates, no plate text) on the real broker, the hub built by the composition root
with its plate reader's worker process, the lane's simulated gate. A corrupt picture is held
for a guard with its reason; the registered car's picture opens the barrier; a temporary
car's picture starts its session; the snapshot and the plate crop of both are served to the
guard by the API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from hub.devices.plates.camera_images import plate_image_source
from hub.domain.parking.standing import Direction
from hub.store.parking_session_tables import parking_gate_decisions
from tests.e2e.parking.estate import WAIT_S, Parking, car_park, register

pytestmark = [pytest.mark.mqtt]  # the reader's model is committed: a missing one fails
IN = Direction.IN
RESIDENT, TEMPORARY = "沪A12345", "苏E54321"
CORRUPT = b"\xff\xd8\xff\xe0" + b"\x00" * 64  # a JPEG's magic, then nothing that decodes


async def _see(world: Parking, plate: str) -> dict[str, Any]:
    """The entry camera sends its picture of the car; the hub's decision on it."""
    before = world.flow.decided
    await world.lanes[IN].camera.see(plate, image=True, repeats=False)
    await world.decided(before + 1)
    async with world.hub.engine.connect() as db:
        row = (await db.execute(select(parking_gate_decisions)
                                .order_by(parking_gate_decisions.c.id.desc()).limit(1))).one()
    return dict(row._mapping)


async def _picture(world: Parking, decision_id: int, kind: str) -> Any:
    """The image the API serves; written just after the decision (in a thread), so waited
    for."""
    path = f"/api/v1/parking/decisions/{decision_id}/{kind}"
    answer = await world.api.get(path, headers=world.staff)
    waited = 0.0
    while answer.status_code != 200:
        assert waited < WAIT_S, f"{kind} of decision {decision_id}: {answer.text}"
        await asyncio.sleep(0.05)
        waited += 0.05
        answer = await world.api.get(path, headers=world.staff)
    image = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


async def test_a_camera_sending_only_pictures(tmp_path: Path, broker_url: str,
                                              migrated: Path) -> None:
    async with car_park(tmp_path, broker_url, migrated) as world:
        await register(world, residents=[RESIDENT])
        evidence = world.hub.plate_evidence
        assert evidence is not None and evidence.reader is not None
        await evidence.warm()  # a slow start on a busy machine is not what is tested here
        camera = world.lanes[IN].camera

        camera.image_source = lambda plate, color: CORRUPT
        held = await _see(world, RESIDENT)
        assert held["verdict"] == "hold" and held["snapshot_ref"] is None
        assert any("refused by the plate reader" in r for r in held["reasons"]), held
        assert world.commands(IN) == []

        camera.image_source = plate_image_source(share=1.0, hard_share=0.0, seed=2026)
        opened = await _see(world, RESIDENT)
        assert (opened["verdict"], opened["plate"]) == ("open", RESIDENT), opened["reasons"]
        assert [c["action"] for c in world.commands(IN)] == ["open"]

        entered = await _see(world, TEMPORARY)
        assert entered["verdict"] == "open", entered["reasons"]
        session = await world.session_of(TEMPORARY)
        assert session["state"] == "inside"

        for decision in (opened, entered):
            snapshot = await _picture(world, decision["id"], "snapshot")
            crop = await _picture(world, decision["id"], "crop")
            assert max(snapshot.shape[:2]) <= 1280 and crop.shape[1] > 2 * crop.shape[0]
        assert evidence.failed == 0 and evidence.dropped == 0
