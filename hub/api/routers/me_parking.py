"""The resident app's parking part: my household's vehicles and their monthly passes."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import ActorDep, SessionDep
from hub.api.schemas.parking_registry import MyPassOut, MyVehicleOut
from hub.views import parking_registry as views

router = APIRouter(prefix="/api/v1/me", tags=["me"])


@router.get("/vehicles")
async def my_vehicles(actor: ActorDep, db: SessionDep) -> list[MyVehicleOut]:
    """The vehicles registered to the units I live in, with their spaces."""
    rows = await db.execute(views.my_vehicles(actor))
    return [MyVehicleOut.model_validate(dict(row._mapping)) for row in rows]


@router.get("/passes")
async def my_passes(actor: ActorDep, db: SessionDep) -> list[MyPassOut]:
    """The monthly passes of my household's plates, the latest ending first."""
    rows = await db.execute(views.my_passes(actor))
    return [MyPassOut.model_validate(dict(row._mapping)) for row in rows]
