"""SQL filters that express an Actor's scope, so out-of-scope rows are never even loaded."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from hub.domain.accounts import Actor
from hub.store.tables import residencies, units


def site_filter(actor: Actor, site_id: ColumnElement[int]) -> ColumnElement[bool]:
    if actor.all_sites:
        return true()
    visible = actor.whole_sites | actor.partial_sites
    return site_id.in_(visible) if visible else false()


def building_filter(actor: Actor, site_id: ColumnElement[int],
                    building_id: ColumnElement[int]) -> ColumnElement[bool]:
    if actor.all_sites:
        return true()
    clauses = []
    if actor.whole_sites:
        clauses.append(site_id.in_(actor.whole_sites))
    if actor.buildings:
        clauses.append(building_id.in_(actor.buildings))
    return or_(*clauses) if clauses else false()


def unit_filter(actor: Actor) -> ColumnElement[bool]:
    if actor.is_resident:
        return units.c.id.in_(actor.unit_ids) if actor.unit_ids else false()
    return building_filter(actor, units.c.site_id, units.c.building_id)


def resident_filter(actor: Actor, resident_id: ColumnElement[int],
                    site_id: ColumnElement[int], today: date) -> ColumnElement[bool]:
    """Staff: residents of their sites, or who live or lived in their buildings.
    Residents: the people who live in their households now."""
    if actor.all_sites:
        return true()
    lived_in_scope = exists(
        select(residencies.c.id).join(units, units.c.id == residencies.c.unit_id).where(
            residencies.c.resident_id == resident_id, unit_filter(actor),
            *((residencies.c.moved_in <= today,
               or_(residencies.c.moved_out.is_(None), residencies.c.moved_out > today))
              if actor.is_resident else ()),
        ))
    if actor.is_resident or not actor.whole_sites:
        return lived_in_scope
    return or_(site_id.in_(actor.whole_sites), lived_in_scope)
