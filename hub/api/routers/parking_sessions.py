"""Parking sessions for staff: who is in the lots, the history and what needs review, each
session with its gate decisions and charge; guards' manual decisions (audited); occupancy."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import ActorDep, BusDep, PagingDep, SessionDep, page_of
from hub.api.schemas.common import Id, Page
from hub.api.schemas.parking_sessions import (
    CashIn,
    ChargeOut,
    DecisionOut,
    LotOccupancyOut,
    ReasonIn,
    SessionDetailOut,
    SessionOut,
)
from hub.domain.parking.plates import normalise_plate
from hub.handlers import parking_gate as h
from hub.views import parking_sessions as views
from hub.views.parking_sessions import StateFilter
from hub.views.property import one, page

router = APIRouter(prefix="/api/v1/parking", tags=["parking"])
lane_router = APIRouter(prefix="/api/v1/parking", tags=["parking"])


@router.get("/sessions")
async def list_sessions(actor: ActorDep, db: SessionDep, paging: PagingDep,
                        site_id: Id | None = None, lot_id: Id | None = None,
                        state: StateFilter | None = None, needs_review: bool | None = None,
                        plate: str | None = None) -> Page[SessionOut]:
    """`state`: inside (in the lots now), held (at an exit, for a guard) or history."""
    wanted = normalise_plate(plate) if plate else None
    items, total = await page(db, views.session_query(
        actor, site_id=site_id, lot_id=lot_id, state=state, needs_review=needs_review,
        plate=wanted), paging.limit, paging.offset)
    return Page[SessionOut].model_validate(page_of(items, total, paging))


@router.get("/sessions/{session_id}")
async def get_session(session_id: Id, actor: ActorDep, db: SessionDep) -> SessionDetailOut:
    found = await one(db, views.session_query(actor, session_id=session_id),
                      "parking session", session_id)
    return SessionDetailOut.model_validate({
        **found, "decisions": await views.decisions_of(db, session_id),
        "charge": await views.charge_of(db, session_id)})


@router.post("/sessions/{session_id}/close")
async def close_session(session_id: Id, body: ReasonIn, actor: ActorDep,
                        bus: BusDep) -> SessionOut:
    """A guard ends a session (the car left unseen, a wrong read): it stops counting and the
    plate may enter again. Audited with the reason."""
    closed = await bus.handle(h.CloseParkingSession(actor, session_id, body.reason))
    return SessionOut.model_validate(closed)


@router.post("/sessions/{session_id}/cash")
async def record_cash(session_id: Id, body: CashIn, actor: ActorDep, bus: BusDep) -> ChargeOut:
    """A guard took the amount due in cash: the charge is paid and, if the car waits at the
    exit, the barrier opens. Audited."""
    charge = await bus.handle(h.RecordParkingCash(actor, session_id, body.amount))
    return ChargeOut.model_validate(charge)


@lane_router.post("/lanes/{lane_id}/open")
async def open_lane(lane_id: Id, body: ReasonIn, actor: ActorDep, bus: BusDep) -> DecisionOut:
    """A guard opens a barrier by hand; a car waiting to pay there is let out with its fee
    still due and the session flagged. Audited with the reason."""
    decision = await bus.handle(h.OpenParkingLane(actor, lane_id, body.reason))
    return DecisionOut.model_validate(decision)


@router.get("/occupancy")
async def occupancy(site_id: Id, actor: ActorDep, db: SessionDep) -> list[LotOccupancyOut]:
    """Per lot: its spaces for temporary cars, temporary and visitor cars inside, all cars
    inside (residents' included)."""
    return [LotOccupancyOut.model_validate(x) for x in await views.occupancy(db, actor, site_id)]
