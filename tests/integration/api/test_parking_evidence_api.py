"""The pictures behind a gate decision through the API: lakeside's guard and manager get the
snapshot (JPEG) and the plate crop (PNG) of a lakeside decision; riverside's manager finds no
such decision; residents and other staff are refused; a decision without a crop says so."""

from __future__ import annotations

import cv2
import numpy as np
from sqlalchemy import update

from hub.store.parking_session_tables import parking_gate_decisions
from tests.integration.api.conftest import Api
from tests.integration.parking_evidence.seed import snapshot_ref_of

SNAPSHOT = "/api/v1/parking/decisions/{}/snapshot"
CROP = "/api/v1/parking/decisions/{}/crop"


def _pictures() -> tuple[bytes, np.ndarray]:
    scene = np.full((720, 1280, 3), 90, np.uint8)
    cv2.rectangle(scene, (560, 500), (700, 544), (200, 80, 20), -1)
    jpeg = cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    return jpeg, scene[500:544, 560:700].copy()


def _keep(api: Api, site: str) -> bytes:
    evidence = api.hub.plate_evidence
    assert evidence is not None
    jpeg, crop = _pictures()
    evidence.keep_sync(snapshot_ref_of(site), jpeg, crop)
    return evidence.files.snapshot_path(snapshot_ref_of(site)).read_bytes()


async def test_a_guard_and_a_manager_see_the_snapshot_and_crop_of_their_site(api: Api) -> None:
    kept = _keep(api, "lakeside")
    decision = api.world.decision_lakeside
    for username in ("guard", "manager", "admin"):
        snapshot = await api.client.get(SNAPSHOT.format(decision),
                                        headers=api.world.auth(username))
        assert snapshot.status_code == 200, snapshot.text
        assert snapshot.headers["content-type"] == "image/jpeg" and snapshot.content == kept
        crop = await api.client.get(CROP.format(decision), headers=api.world.auth(username))
        assert crop.status_code == 200 and crop.headers["content-type"] == "image/png"
        image = cv2.imdecode(np.frombuffer(crop.content, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape == (44, 140, 3)


async def test_another_site_and_other_roles_do_not_get_the_pictures(api: Api) -> None:
    _keep(api, "lakeside")
    decision = api.world.decision_lakeside
    foreign = await api.client.get(SNAPSHOT.format(decision),
                                   headers=api.world.auth("river-manager"))
    missing = await api.client.get(SNAPSHOT.format(2_000_000_000),
                                   headers=api.world.auth("river-manager"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["message"].replace(str(decision), "?") == \
        missing.json()["error"]["message"].replace("2000000000", "?")
    for username in ("alice", "finance", "desk", "tech"):
        refused = await api.client.get(CROP.format(decision), headers=api.world.auth(username))
        assert refused.status_code == 403, (username, refused.text)


async def test_a_decision_without_pictures_says_which_is_missing(api: Api) -> None:
    decision = api.world.decision_lakeside
    no_files = await api.client.get(CROP.format(decision), headers=api.world.auth("guard"))
    assert no_files.status_code == 404
    assert "plate crop" in no_files.json()["error"]["message"]
    async with api.hub.engine.begin() as connection:
        await connection.execute(update(parking_gate_decisions)
                                 .where(parking_gate_decisions.c.id == decision)
                                 .values(snapshot_ref=None))
    none = await api.client.get(SNAPSHOT.format(decision), headers=api.world.auth("guard"))
    assert none.status_code == 404
    assert "snapshot of gate decision" in none.json()["error"]["message"]
