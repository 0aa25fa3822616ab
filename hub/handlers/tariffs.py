"""Parking tariffs: create one for a site, add versions, and quote any stay against them.

A tariff belongs to a site and changing it needs the whole site. A version never starts in
the past: a car already inside is charged by the version in force when it entered. Quoting
writes nothing; it is how staff simulate a stay before publishing a version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain.accounts import Actor
from hub.domain.audit import AuditAction, entry_by
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.parking.quote import Coupon, PriorCharge, Quote, Stay, quote
from hub.domain.parking.tariff import (
    ParkingTariff,
    PlateColor,
    TariffVersion,
    VehicleClass,
    tariff_from_dict,
    version_at,
)
from hub.domain.property import Site
from hub.handlers.scope import managed_site
from hub.ports import Clock, UnitOfWork


@dataclass(frozen=True)
class CreateTariff(Command):
    site_id: int
    code: str
    name: str
    effective_from: datetime
    rules: Mapping[str, Any]


@dataclass(frozen=True)
class AddTariffVersion(Command):
    tariff_id: int
    effective_from: datetime
    rules: Mapping[str, Any]


@dataclass(frozen=True)
class QuoteStay(Command):
    tariff_id: int
    entry: datetime
    exit: datetime
    vehicle_class: VehicleClass = VehicleClass.SMALL
    plate_color: PlateColor = PlateColor.BLUE
    coupons: tuple[Coupon, ...] = ()
    prior_charges: tuple[PriorCharge, ...] = ()


@dataclass(frozen=True)
class Quoted:
    tariff_id: int
    version: int
    effective_from: datetime
    quote: Quote


async def visible_tariff(uow: UnitOfWork, actor: Actor, tariff_id: int) -> ParkingTariff:
    tariff = await uow.get(ParkingTariff, tariff_id)
    if tariff is None or actor.is_resident or not actor.sees_site(tariff.site_id):
        raise NotFound("tariff", tariff_id)
    return tariff


def _rules(rules: Mapping[str, Any]) -> dict[str, Any]:
    """The rules as the domain reads them back: checked, and stored in one normal form."""
    try:
        return tariff_from_dict(rules).to_dict()
    except Invalid as err:
        raise Invalid(err.message, field=f"rules.{err.field}" if err.field else "rules") from err


async def create_tariff(cmd: CreateTariff, uow: UnitOfWork, clock: Clock) -> int:
    await managed_site(uow, cmd.actor, cmd.site_id)
    if await uow.find_one(ParkingTariff, site_id=cmd.site_id, code=cmd.code):
        raise Conflict(f"tariff code {cmd.code!r} exists in this site", field="code")
    rules = _rules(cmd.rules)
    now = clock()
    tariff = ParkingTariff(site_id=cmd.site_id, code=cmd.code, name=cmd.name, created_at=now)
    uow.add(tariff)
    await uow.flush()
    assert tariff.id is not None
    uow.add(TariffVersion(tariff_id=tariff.id, number=1, effective_from=cmd.effective_from,
                          rules=rules, created_at=now, created_by=cmd.actor.account_id))
    uow.audit(entry_by(cmd.actor, now, AuditAction.CONFIG_CHANGED, f"tariff:{tariff.id}",
                       {"change": "created", "effective_from": cmd.effective_from.isoformat()}))
    await uow.commit()
    return tariff.id


async def add_tariff_version(cmd: AddTariffVersion, uow: UnitOfWork, clock: Clock) -> int:
    tariff = await visible_tariff(uow, cmd.actor, cmd.tariff_id)
    await managed_site(uow, cmd.actor, tariff.site_id)
    now = clock()
    if cmd.effective_from < now:
        raise Conflict("a new version cannot start in the past: cars inside are charged by "
                       "the version in force when they entered", field="effective_from")
    versions = await uow.find(TariffVersion, tariff_id=cmd.tariff_id)
    if any(v.effective_from == cmd.effective_from for v in versions):
        raise Conflict(f"a version from {cmd.effective_from.isoformat()} exists",
                       field="effective_from")
    version = TariffVersion(
        tariff_id=cmd.tariff_id, number=max((v.number for v in versions), default=0) + 1,
        effective_from=cmd.effective_from, rules=_rules(cmd.rules), created_at=now,
        created_by=cmd.actor.account_id)
    uow.add(version)
    await uow.flush()
    uow.audit(entry_by(cmd.actor, now, AuditAction.CONFIG_CHANGED, f"tariff:{tariff.id}",
                       {"change": "version", "number": str(version.number),
                        "effective_from": cmd.effective_from.isoformat()}))
    await uow.commit()
    assert version.id is not None
    return version.id


async def quote_stay(cmd: QuoteStay, uow: UnitOfWork) -> Quoted:
    """The itemised fee of a stay by the version in force at its entry, on the site's clock."""
    tariff = await visible_tariff(uow, cmd.actor, cmd.tariff_id)
    site = await uow.get(Site, tariff.site_id)
    assert site is not None and tariff.id is not None
    zone = ZoneInfo(site.timezone)
    version = version_at(await uow.find(TariffVersion, tariff_id=tariff.id), cmd.entry)
    stay = Stay(cmd.entry.astimezone(zone), cmd.exit.astimezone(zone), cmd.vehicle_class,
                cmd.plate_color, cmd.coupons)
    return Quoted(tariff.id, version.number, version.effective_from.astimezone(zone),
                  quote(version.tariff(), stay, cmd.prior_charges))


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    CreateTariff: create_tariff,
    AddTariffVersion: add_tariff_version,
    QuoteStay: quote_stay,
}
