"""Meter readings (water, electricity) and the period each one bills.

A reading is attributed to the period it measures: entered with an explicit period, or by the
day it was taken (see `attributed_period`). `readings_from_telemetry` is the adapter that
turns Modbus meter telemetry (the `meter-water` / `meter-energy` register maps' cumulative
`reading`) into the same readings, so automatic and manual readings bill alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from hub.domain.billing.periods import attributed_period
from hub.domain.errors import Invalid

METER_NAME_MAX = 32


class ReadingSource(StrEnum):
    STAFF = "staff"
    IMPORT = "import"
    TELEMETRY = "telemetry"


@dataclass(eq=False)
class MeterReading:
    site_id: int
    unit_id: int
    meter: str  # "water", "electricity": what metered fee items name
    period: str  # the month it bills, e.g. "2026-11"
    value: Decimal  # cumulative register value (metered) or the period's usage (usage)
    read_on: date
    source: ReadingSource
    created_at: datetime
    entered_by: int | None = None
    device_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.meter or len(self.meter) > METER_NAME_MAX:
            raise Invalid(f"meter must be 1 to {METER_NAME_MAX} characters", field="meter")
        if not self.value.is_finite() or self.value < 0:
            raise Invalid("value must be zero or more", field="value")


@dataclass(frozen=True)
class MeterSample:
    """One telemetry value of a meter device, as ingestion stored it."""

    device_id: int
    at: datetime
    value: float | Decimal


@dataclass(frozen=True)
class MeterBinding:
    """Which unit and meter a metering device measures."""

    unit_id: int
    site_id: int
    meter: str


def readings_from_telemetry(samples: Iterable[MeterSample],
                            bindings: Mapping[int, MeterBinding],
                            created_at: datetime) -> list[MeterReading]:
    """The last sample of each bound device per attributed month, as a reading.

    Telemetry arrives as float32 registers; the value is rounded to three decimals (litres,
    watt-hours) so that the same register gives the same Decimal every time.
    """
    latest: dict[tuple[int, str], MeterSample] = {}
    for sample in samples:
        if sample.device_id not in bindings:
            continue
        label = attributed_period(sample.at.date()).label
        key = (sample.device_id, label)
        if key not in latest or latest[key].at < sample.at:
            latest[key] = sample
    readings = []
    for (device_id, label), sample in sorted(latest.items()):
        binding = bindings[device_id]
        readings.append(MeterReading(
            site_id=binding.site_id, unit_id=binding.unit_id, meter=binding.meter,
            period=label, value=Decimal(str(sample.value)).quantize(Decimal("0.001")),
            read_on=sample.at.date(), source=ReadingSource.TELEMETRY, created_at=created_at,
            device_id=device_id))
    return readings
