"""The gate's decisions, as pure functions of what the registry says about a car, the lane,
the lots' loads and the sessions inside: open, refuse, hold for a guard, or wait for payment,
each with its reasons in short sentences a guard reads on the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from hub.domain.parking.explain import yuan
from hub.domain.parking.quote import Coupon, CouponKind, PriorCharge, Quote, Stay, quote
from hub.domain.parking.sessions import ZERO, ParkingSession, Verdict, billable_span
from hub.domain.parking.standing import (
    FREE_STANDINGS,
    LaneInfo,
    LotInfo,
    PlateStanding,
    Standing,
)
from hub.domain.parking.tariff import PlateColor, Tariff, TariffMode, VehicleClass

# Standings that take one of a lot's spaces for temporary cars.
COUNTED_STANDINGS = frozenset({Standing.TEMPORARY, Standing.VISITOR})


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...]
    alert_security: bool = False
    due: Decimal = ZERO  # AWAIT_PAYMENT: what the display shows


@dataclass(frozen=True)
class LotLoad:
    """A lot and the temporary and visitor cars in it now (the deciding car not counted)."""

    lot: LotInfo
    temporary_inside: int


def _hhmm(at: datetime, zone: tzinfo | None) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def free_standing(standing: PlateStanding, lot_id: int) -> bool:
    """Registered, a monthly pass (or its grace) for this lot, or whitelisted."""
    if standing.standing not in FREE_STANDINGS:
        return False
    lots: tuple[int, ...] = getattr(standing, "lot_ids", ())
    return not lots or lot_id in lots


def lane_refusal(lane: LaneInfo, vehicle: VehicleClass | None, color: PlateColor | None
                 ) -> str | None:
    """Why the lane does not take this car (a barrier too low, a lane for new-energy cars)."""
    if lane.vehicle_classes and vehicle is not None and vehicle not in lane.vehicle_classes:
        allowed = ", ".join(sorted(v.value for v in lane.vehicle_classes))
        return f"lane {lane.code} takes {allowed} vehicles, not {vehicle.value}"
    if lane.plate_colors and color is not None and color not in lane.plate_colors:
        allowed = ", ".join(sorted(c.value for c in lane.plate_colors))
        return f"lane {lane.code} takes {allowed} plates, not {color.value}"
    return None


def decide_entry(standing: PlateStanding, lane: LaneInfo, loads: Sequence[LotLoad],
                 inside: ParkingSession | None, color: PlateColor | None,
                 zone: tzinfo | None = None) -> Decision:
    """`loads`: the lane's lot first, then each lot it is inside. `inside`: this plate's
    present session in the lane's lot, if any (anti-passback)."""
    refused = _refusal(standing, lane, inside, color, zone)
    if refused is not None:
        return refused
    reasons = list(standing.reasons)
    if free_standing(standing, lane.lot_id):
        return Decision(Verdict.OPEN, (*reasons, f"{standing.standing.value}: open"))
    if standing.standing in FREE_STANDINGS:
        reasons.append(f"its pass does not cover lot {loads[0].lot.code if loads else ''}: "
                       "it parks as a temporary car")
    if standing.standing is Standing.VISITOR:
        return Decision(Verdict.OPEN, (*reasons, "visitor with a valid pass: open"))
    for load in loads:
        if load.temporary_inside >= load.lot.temporary_capacity:
            return Decision(Verdict.REFUSE, (
                *reasons, f"lot {load.lot.name} is full: {load.temporary_inside} of "
                          f"{load.lot.temporary_capacity} spaces for temporary cars taken"))
    taken = ", ".join(f"{x.lot.name} {x.temporary_inside + 1}/{x.lot.temporary_capacity}"
                      for x in loads)
    return Decision(Verdict.OPEN, (*reasons, f"temporary car, space left ({taken}): open"))


def _refusal(standing: PlateStanding, lane: LaneInfo, inside: ParkingSession | None,
             color: PlateColor | None, zone: tzinfo | None) -> Decision | None:
    """Refusals whatever the car's standing: the black list, the lane, anti-passback."""
    reasons = standing.reasons
    if standing.standing is Standing.BLACKLISTED:
        return Decision(Verdict.REFUSE, (*reasons, "blacklisted: refused, security alerted"),
                        alert_security=True)
    refusal = lane_refusal(lane, standing.vehicle_class, color or standing.plate_color)
    if refusal is not None:
        return Decision(Verdict.REFUSE, (*reasons, refusal))
    if inside is not None:
        since = "" if inside.entry_at is None else f" since {_hhmm(inside.entry_at, zone)}"
        return Decision(Verdict.REFUSE, (
            *reasons, f"already inside{since} (session {inside.id}): it must leave, or a guard "
                      "closes that session, before it enters again"))
    return None


@dataclass(frozen=True)
class Fee:
    total: Decimal
    quote: Quote | None
    reasons: tuple[str, ...] = field(default=())


def _kind(session: ParkingSession) -> tuple[VehicleClass, PlateColor]:
    vehicles = {v.value: v for v in VehicleClass}
    colors = {c.value: c for c in PlateColor}
    return (vehicles.get(session.vehicle_class or "", VehicleClass.SMALL),
            colors.get(session.plate_color or "", PlateColor.BLUE))


def stay_fee(session: ParkingSession, exit_at: datetime, tariff: Tariff | None,
             zone: tzinfo, history: Sequence[PriorCharge] = (),
             exit_standing: PlateStanding | None = None,
             received: tuple[datetime, datetime] | None = None) -> Fee:
    """The whole stay's fee, by the tariff version in force at entry (`tariff`)."""
    if session.standing in FREE_STANDINGS:
        return Fee(ZERO, None, (f"{session.standing.value} car: no fee",))
    if exit_standing is not None and free_standing(exit_standing, session.lot_id):
        return Fee(ZERO, None, (*exit_standing.reasons,
                                f"{exit_standing.standing.value} car at the exit: no fee"))
    if tariff is None:
        return Fee(ZERO, None, ("the lot has no tariff: parking is free",))
    if session.entry_at is None:
        return first_period_fee(tariff, exit_at, zone, session)
    entry, leave, skew = billable_span(session.entry_at, exit_at, received)
    coupons: tuple[Coupon, ...] = ()
    if session.standing is Standing.VISITOR and session.visitor_free_minutes:
        coupons = (Coupon(CouponKind.MINUTES, Decimal(session.visitor_free_minutes),
                          "visitor"),)
    vehicle, color = _kind(session)
    prior = tuple(p for p in history if p.entry < entry)
    found = quote(tariff, Stay(entry.astimezone(zone), leave.astimezone(zone), vehicle, color,
                               coupons), prior)
    reasons = (skew,) if skew else ()
    return Fee(found.total, found, (*reasons, f"fee {yuan(found.total)} by the tariff"))


def first_period_fee(tariff: Tariff, exit_at: datetime, zone: tzinfo,
                     session: ParkingSession) -> Fee:
    """An exit with no entry, under `charge_first_period`: the fee of the tariff's first
    charged period (after its free minutes), as if the car had entered just before."""
    minutes = tariff.free_minutes + (tariff.first_period_minutes or tariff.unit_minutes)
    if tariff.mode is TariffMode.PER_ENTRY:
        minutes = tariff.free_minutes + 1
    vehicle, color = _kind(session)
    leave = exit_at.astimezone(zone)
    found = quote(tariff, Stay(leave - timedelta(minutes=minutes), leave, vehicle, color))
    return Fee(found.total, found, (f"no entry read: the first period is charged, "
                                    f"{yuan(found.total)}",))


def decide_exit(fee: Fee, session: ParkingSession, exit_at: datetime,
                zone: tzinfo | None = None) -> Decision:
    """Open when nothing is owed; else the fee on the display until it is paid."""
    reasons = list(fee.reasons)
    if fee.total == 0:
        return Decision(Verdict.OPEN, (*reasons, "nothing to pay: open"))
    if session.paid_until is not None and exit_at <= session.paid_until:
        return Decision(Verdict.OPEN, (
            *reasons, f"paid {yuan(session.paid_amount)} in advance, leaving within the grace "
                      f"(until {_hhmm(session.paid_until, zone)}): open"))
    owed = max(ZERO, fee.total - session.paid_amount)
    if owed == 0:
        return Decision(Verdict.OPEN, (*reasons, f"paid {yuan(session.paid_amount)}: open"))
    if session.paid_amount:
        reasons.append(f"paid {yuan(session.paid_amount)} before, the grace is over")
    return Decision(Verdict.AWAIT_PAYMENT, (*reasons, f"{yuan(owed)} to pay: shown on the "
                                                      "display, open once paid"), due=owed)


def overstayed(session: ParkingSession, now: datetime, limit: timedelta) -> bool:
    return (session.present and not session.overstay and session.entry_at is not None
            and now - session.entry_at > limit)
