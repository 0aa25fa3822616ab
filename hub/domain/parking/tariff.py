"""Tariffs (停车收费标准): the rules a quote applies, validated, and their versions over time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from hub.domain.billing.money import Rounding, RoundingMode
from hub.domain.errors import Invalid
from hub.domain.property import check_code

MAX_PRICE = Decimal("100000.00")
MAX_MULTIPLIER = Decimal("10")
MAX_MINUTES = 7 * 24 * 60


class TariffMode(StrEnum):
    PER_PERIOD = "per_period"  # by time: first period, then started units
    PER_ENTRY = "per_entry"  # 按次: one flat price per stay


class FreeMode(StrEnum):
    DEDUCTED = "deducted"  # the free minutes of every stay are never charged
    GRACE = "grace"  # free if the stay is that short; longer stays are charged from entry


class CapWindow(StrEnum):
    ROLLING_24H = "rolling_24h"  # 24-hour blocks from the first entry
    CALENDAR_DAY = "calendar_day"  # the site's calendar day, midnight to midnight


class VehicleClass(StrEnum):
    SMALL = "small"
    LARGE = "large"
    MOTORCYCLE = "motorcycle"
    NEW_ENERGY = "new_energy"


class PlateColor(StrEnum):
    BLUE = "blue"  # ordinary small cars
    GREEN = "green"  # new-energy (新能源)
    YELLOW = "yellow"  # large vehicles, motorcycles
    WHITE = "white"  # police, military
    BLACK = "black"  # foreign, consular


def _decimal(value: object, name: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as err:
        raise Invalid(f"{name} must be a number", field=name) from err
    if not amount.is_finite():
        raise Invalid(f"{name} must be a finite number", field=name)
    return amount


def price(value: object, name: str) -> Decimal:
    """A price: zero or more, at most two decimals, written with two places."""
    amount = _decimal(value, name)
    if amount < 0 or amount > MAX_PRICE:
        raise Invalid(f"{name} must be between 0 and {MAX_PRICE}", field=name)
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid(f"{name} has more than two decimals", field=name)
    return amount.quantize(Decimal("0.01"))


def _minutes(value: object, name: str, least: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= MAX_MINUTES:
        raise Invalid(f"{name} must be whole minutes from {least} to {MAX_MINUTES}", field=name)
    return value


def _multiplier(value: object, name: str) -> Decimal:
    factor = _decimal(value, name)
    if factor < 0 or factor > MAX_MULTIPLIER or factor != factor.quantize(Decimal("0.0001")):
        raise Invalid(f"{name} must be from 0 to {MAX_MULTIPLIER} with at most four decimals",
                      field=name)
    return factor


@dataclass(frozen=True)
class NightRate:
    """Night hours [start, end) on the site's clock (end before start: across midnight) and
    their own unit. A unit is priced by the hours in which it starts and is never cut."""

    start: time
    end: time
    unit_minutes: int
    unit_price: Decimal

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise Invalid("night start and end must differ", field="night.end")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise Invalid("night hours are wall-clock times without offset", field="night")
        _minutes(self.unit_minutes, "night.unit_minutes", 1)
        object.__setattr__(self, "unit_price", price(self.unit_price, "night.unit_price"))

    def covers(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Cap:
    """The most a plate pays in one window (封顶), over all its stays entered in the window."""

    amount: Decimal
    window: CapWindow

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", price(self.amount, "cap.amount"))
        object.__setattr__(self, "window", CapWindow(self.window))


@dataclass(frozen=True)
class Tariff:
    """What a stay costs. Prices are per unit, in CNY, exact; see docs/parking.md."""

    mode: TariffMode = TariffMode.PER_PERIOD
    free_minutes: int = 0
    free_mode: FreeMode = FreeMode.DEDUCTED
    first_period_minutes: int = 0  # 0: no first period
    first_period_price: Decimal = Decimal("0.00")
    unit_minutes: int = 60
    unit_price: Decimal = Decimal("0.00")  # the day price, or the only one without night
    night: NightRate | None = None
    entry_price: Decimal = Decimal("0.00")  # PER_ENTRY only
    cap: Cap | None = None
    class_multipliers: Mapping[VehicleClass, Decimal] = field(default_factory=dict)
    plate_multipliers: Mapping[PlateColor, Decimal] = field(default_factory=dict)
    rounding: Rounding = field(default_factory=Rounding)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", TariffMode(self.mode))
        object.__setattr__(self, "free_mode", FreeMode(self.free_mode))
        _minutes(self.free_minutes, "free_minutes")
        _minutes(self.first_period_minutes, "first_period_minutes")
        _minutes(self.unit_minutes, "unit_minutes", 1)
        for name in ("first_period_price", "unit_price", "entry_price"):
            object.__setattr__(self, name, price(getattr(self, name), name))
        object.__setattr__(self, "class_multipliers", {
            VehicleClass(k): _multiplier(v, f"class_multipliers.{k}")
            for k, v in self.class_multipliers.items()})
        object.__setattr__(self, "plate_multipliers", {
            PlateColor(k): _multiplier(v, f"plate_multipliers.{k}")
            for k, v in self.plate_multipliers.items()})
        if self.mode is TariffMode.PER_ENTRY and (self.night or self.first_period_minutes):
            raise Invalid("a per-entry tariff has no first period and no night price",
                          field="mode")

    def multiplier_of(self, vehicle: VehicleClass, plate: PlateColor) -> tuple[Decimal, Decimal]:
        one = Decimal(1)
        return self.class_multipliers.get(vehicle, one), self.plate_multipliers.get(plate, one)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: decimals as strings, times as HH:MM. `tariff_from_dict` reads it back."""
        night = None if self.night is None else {
            "start": self.night.start.strftime("%H:%M"), "end": self.night.end.strftime("%H:%M"),
            "unit_minutes": self.night.unit_minutes, "unit_price": str(self.night.unit_price)}
        cap = None if self.cap is None else {"amount": str(self.cap.amount),
                                             "window": self.cap.window.value}
        return {
            "mode": self.mode.value, "free_minutes": self.free_minutes,
            "free_mode": self.free_mode.value,
            "first_period_minutes": self.first_period_minutes,
            "first_period_price": str(self.first_period_price),
            "unit_minutes": self.unit_minutes, "unit_price": str(self.unit_price),
            "night": night, "entry_price": str(self.entry_price), "cap": cap,
            "class_multipliers": {k.value: str(v) for k, v in sorted(
                self.class_multipliers.items())},
            "plate_multipliers": {k.value: str(v) for k, v in sorted(
                self.plate_multipliers.items())},
            "rounding": {"places": self.rounding.places, "mode": self.rounding.mode.value},
        }


def _time(value: object, name: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError as err:
        raise Invalid(f"{name} must be a time like 20:00", field=name) from err


def _enum_keys(kind: type[StrEnum], values: object, name: str) -> dict[Any, Decimal]:
    if not isinstance(values, Mapping):
        raise Invalid(f"{name} must be an object", field=name)
    found: dict[Any, Decimal] = {}
    for key, value in values.items():
        try:
            found[kind(key)] = _multiplier(value, f"{name}.{key}")
        except ValueError as err:
            raise Invalid(f"{name} has an unknown key {key!r}", field=f"{name}.{key}") from err
    return found


def _night(night: Mapping[str, Any]) -> NightRate:
    return NightRate(_time(night.get("start"), "night.start"), _time(night.get("end"), "night.end"),
                     night.get("unit_minutes", 0),
                     _decimal(night.get("unit_price"), "night.unit_price"))


def _cap(cap: Mapping[str, Any]) -> Cap:
    try:
        window = CapWindow(str(cap.get("window")))
    except ValueError as err:
        raise Invalid("cap.window must be rolling_24h or calendar_day", field="cap.window") from err
    return Cap(_decimal(cap.get("amount"), "cap.amount"), window)


def _rounding(rounding: Mapping[str, Any]) -> Rounding:
    try:
        return Rounding(int(rounding.get("places", 2)),
                        RoundingMode(rounding.get("mode", "half_up")))
    except Invalid as err:
        raise Invalid(err.message, field="rounding.places") from err
    except ValueError as err:
        raise Invalid("rounding needs places 0 to 2 and a known mode", field="rounding") from err


def tariff_from_dict(rules: Mapping[str, Any]) -> Tariff:
    """A tariff from its stored or posted form; a wrong value is Invalid, naming the field."""
    unknown = sorted(set(rules) - set(Tariff.__dataclass_fields__))
    if unknown:
        raise Invalid(f"{unknown[0]} is not a tariff field", field=unknown[0])
    values: dict[str, Any] = {k: v for k, v in rules.items() if v is not None}
    for name, kind in (("mode", TariffMode), ("free_mode", FreeMode)):
        if name in values:
            try:
                values[name] = kind(values[name])
            except ValueError as err:
                raise Invalid(f"{name} must be one of {', '.join(kind)}", field=name) from err
    for name, read in (("night", _night), ("cap", _cap), ("rounding", _rounding)):
        if name in values:
            if not isinstance(values[name], Mapping):
                raise Invalid(f"{name} must be an object", field=name)
            values[name] = read(values[name])
    for name, keys in (("class_multipliers", VehicleClass), ("plate_multipliers", PlateColor)):
        if name in values:
            values[name] = _enum_keys(keys, values[name], name)
    return Tariff(**values)


@dataclass(eq=False)
class ParkingTariff:
    """A site's named tariff (临停收费); what it charges lives in its versions."""

    site_id: int
    code: str
    name: str
    created_at: datetime
    id: int | None = None

    def __post_init__(self) -> None:
        check_code(self.code)
        if not self.name.strip():
            raise Invalid("name must not be empty", field="name")


@dataclass(eq=False)
class TariffVersion:
    """The rules of a tariff from `effective_from` on. A stay is charged by the version in
    force when it entered, so a new version never re-prices a car already inside."""

    tariff_id: int
    number: int
    effective_from: datetime
    rules: dict[str, Any]
    created_at: datetime
    created_by: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.effective_from.tzinfo is None:
            raise Invalid("effective_from needs a UTC offset", field="effective_from")

    def tariff(self) -> Tariff:
        return tariff_from_dict(self.rules)


def version_at(versions: Sequence[TariffVersion], entry: datetime) -> TariffVersion:
    """The version in force at `entry`: the latest that took effect at or before it."""
    if entry.tzinfo is None:
        raise Invalid("entry needs a UTC offset", field="entry")
    in_force = [v for v in versions if v.effective_from <= entry]
    if not in_force:
        raise Invalid(f"no tariff version was in force at {entry.isoformat()}", field="entry")
    return max(in_force, key=lambda v: (v.effective_from, v.number))
