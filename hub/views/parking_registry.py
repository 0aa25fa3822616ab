"""Reads of the parking registry. Scope is in the SQL: staff see the records of their sites
(vehicles: of the units they see); residents see their household's vehicles and the passes of
those vehicles' plates, through /me only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from hub.domain.accounts import Actor
from hub.domain.parking.plates import normalise_plate
from hub.store.parking_registry_tables import (
    parking_lanes,
    parking_lots,
    parking_passes,
    parking_plate_lists,
    parking_spaces,
    parking_vehicles,
)
from hub.store.tables import units
from hub.views.scoping import site_filter, unit_filter


def _staff(actor: Actor, site_id: ColumnElement[int]) -> ColumnElement[bool]:
    return false() if actor.is_resident else site_filter(actor, site_id)


def _equal(query: Select[Any], **columns: tuple[ColumnElement[Any], object]) -> Select[Any]:
    for column, value in columns.values():
        if value is not None:
            query = query.where(column == value)
    return query


def lot_query(actor: Actor, *, site_id: int | None = None, parent_id: int | None = None,
              lot_id: int | None = None) -> Select[Any]:
    c = parking_lots.c
    query = select(parking_lots).where(_staff(actor, c.site_id)).order_by(c.id)
    return _equal(query, site=(c.site_id, site_id), parent=(c.parent_id, parent_id),
                  lot=(c.id, lot_id))


def lane_query(actor: Actor, *, site_id: int | None = None, lot_id: int | None = None,
               camera_device_id: int | None = None, lane_id: int | None = None
               ) -> Select[Any]:
    c = parking_lanes.c
    query = select(parking_lanes).where(_staff(actor, c.site_id)).order_by(c.id)
    return _equal(query, site=(c.site_id, site_id), lot=(c.lot_id, lot_id),
                  camera=(c.camera_device_id, camera_device_id), lane=(c.id, lane_id))


def space_query(actor: Actor, *, site_id: int | None = None, lot_id: int | None = None,
                unit_id: int | None = None, kind: str | None = None, code: str | None = None,
                space_id: int | None = None) -> Select[Any]:
    c = parking_spaces.c
    query = select(parking_spaces).where(_staff(actor, c.site_id)).order_by(c.id)
    return _equal(query, site=(c.site_id, site_id), lot=(c.lot_id, lot_id),
                  unit=(c.unit_id, unit_id), kind=(c.kind, kind), code=(c.code, code),
                  space=(c.id, space_id))


def vehicle_query(actor: Actor, *, site_id: int | None = None, unit_id: int | None = None,
                  resident_id: int | None = None, space_id: int | None = None,
                  plate: str | None = None, vehicle_id: int | None = None) -> Select[Any]:
    c = parking_vehicles.c
    scope = false() if actor.is_resident else c.unit_id.in_(
        select(units.c.id).where(unit_filter(actor)))
    query = select(parking_vehicles).where(scope).order_by(c.id)
    return _equal(query, site=(c.site_id, site_id), unit=(c.unit_id, unit_id),
                  resident=(c.resident_id, resident_id), space=(c.space_id, space_id),
                  plate=(c.plate, normalise_plate(plate) if plate else None),
                  vehicle=(c.id, vehicle_id))


def pass_query(actor: Actor, *, site_id: int | None = None, plate: str | None = None,
               vehicle_id: int | None = None, valid_on: date | None = None,
               pass_id: int | None = None) -> Select[Any]:
    c = parking_passes.c
    query = select(parking_passes).where(_staff(actor, c.site_id)).order_by(c.id)
    if valid_on is not None:
        query = query.where(c.valid_from <= valid_on, c.valid_to >= valid_on)
    return _equal(query, site=(c.site_id, site_id),
                  plate=(c.plate, normalise_plate(plate) if plate else None),
                  vehicle=(c.vehicle_id, vehicle_id), one=(c.id, pass_id))


def list_query(actor: Actor, *, site_id: int | None = None, kind: str | None = None,
               plate: str | None = None, valid_at: datetime | None = None,
               entry_id: int | None = None) -> Select[Any]:
    c = parking_plate_lists.c
    query = select(parking_plate_lists).where(_staff(actor, c.site_id)).order_by(c.id)
    if valid_at is not None:
        query = query.where(c.valid_from <= valid_at,
                            or_(c.valid_to.is_(None), c.valid_to > valid_at))
    return _equal(query, site=(c.site_id, site_id), kind=(c.list, kind),
                  plate=(c.plate, normalise_plate(plate) if plate else None),
                  entry=(c.id, entry_id))


def my_vehicles(actor: Actor) -> Select[Any]:
    """The vehicles registered to the caller's households now."""
    c = parking_vehicles.c
    mine = c.unit_id.in_(actor.unit_ids) if actor.is_resident and actor.unit_ids else false()
    return (select(parking_vehicles, parking_spaces.c.code.label("space_code"),
                   units.c.number.label("unit_number"))
            .join(units, units.c.id == c.unit_id)
            .outerjoin(parking_spaces, parking_spaces.c.id == c.space_id)
            .where(mine).order_by(c.id))


def my_passes(actor: Actor) -> Select[Any]:
    """The passes of the plates of the caller's households' vehicles, newest first."""
    v, p = parking_vehicles.c, parking_passes.c
    if not (actor.is_resident and actor.unit_ids):
        return select(parking_passes).where(false())
    household = select(v.id).where(v.unit_id.in_(actor.unit_ids),
                                   and_(v.site_id == p.site_id, v.plate == p.plate))
    return (select(parking_passes).where(household.exists())
            .order_by(p.valid_to.desc(), p.id.desc()))
