"""The evidence of a gate decision: the camera's snapshot and the plate crop the hub read it
from (hub.parking.evidence). Plate images are location data: security, managers and admins
of the decision's whole site only; residents see their sessions through /me, without
pictures. A decision out of scope answers like one that does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from hub.api.deps import ActorDep, HubDep, SessionDep
from hub.api.schemas.common import Id
from hub.domain.errors import NotFound
from hub.parking.evidence import GateEvidence
from hub.store.parking_session_tables import parking_gate_decisions

router = APIRouter(prefix="/api/v1", tags=["parking evidence"])

IMAGE: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}, "image/png": {}},
               "description": "the image as the hub keeps it"}}


async def _snapshot_ref(db: SessionDep, actor: ActorDep, decision_id: int) -> str:
    row = (await db.execute(
        select(parking_gate_decisions.c.site_id, parking_gate_decisions.c.snapshot_ref)
        .where(parking_gate_decisions.c.id == decision_id))).first()
    if row is None or actor.is_resident or not actor.manages_site(row.site_id):
        raise NotFound("gate decision", decision_id)
    if row.snapshot_ref is None:
        raise NotFound("snapshot of gate decision", decision_id)
    return str(row.snapshot_ref)


def _evidence(hub: HubDep) -> GateEvidence:
    if hub.plate_evidence is None:  # a hub built without the gate flow's evidence
        raise NotFound("evidence store", "of this hub")
    return hub.plate_evidence


def _image(data: bytes, media_type: str) -> Response:
    return Response(content=data, media_type=media_type,
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get("/parking/decisions/{decision_id}/snapshot", response_class=Response,
            responses=IMAGE)
async def decision_snapshot(decision_id: Id, actor: ActorDep, db: SessionDep,
                            hub: HubDep) -> Response:
    """The camera's snapshot the decision was made on (JPEG, at most 1280 px wide)."""
    ref = await _snapshot_ref(db, actor, decision_id)
    return _image(await _evidence(hub).files.snapshot(ref), "image/jpeg")


@router.get("/parking/decisions/{decision_id}/crop", response_class=Response,
            responses=IMAGE)
async def decision_crop(decision_id: Id, actor: ActorDep, db: SessionDep,
                        hub: HubDep) -> Response:
    """The plate as the hub's reader cut it from the snapshot, straightened (PNG). Only a
    read the hub made itself has one (the camera sent no text, or text it was unsure of)."""
    ref = await _snapshot_ref(db, actor, decision_id)
    return _image(await _evidence(hub).files.crop(ref), "image/png")
