"""Monotonic counters read from devices (trips, run seconds, meter readings), made continuous.

A device counter can go down for two reasons:
- it **wrapped**: a uint16/uint32 register overflowed. A drop from the top quarter of the range
  into the bottom quarter is read as a wrap, and the total grows by the wrapped difference;
- it was **reset**: the device restarted or was replaced and counts from zero again. Any other
  drop is a reset, and the total grows by the new raw value (what was counted since the reset).
Float readings (meters) never wrap; any drop larger than float32 rounding is a reset.

The poller emits both `key` (the raw value, as the device shows it) and `key_total` (this
continuous total, which starts at the first raw value this poller saw and never goes down).
The total lives in memory: after a hub restart it starts again from the raw value, so whoever
stores it should keep its own baseline across restarts (or use the raw value with resets).
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.devices.modbus.registers import ValueType

# float32 carries 24 significant bits: a reading can come back a hair lower after rounding.
_FLOAT_NOISE = 1e-6


@dataclass
class Counter:
    modulus: int | None  # 2**bits for unsigned integers, None for floats
    last: float | None = None
    total: float = 0.0
    wraps: int = 0
    resets: int = 0

    @classmethod
    def for_type(cls, vtype: ValueType) -> Counter:
        if vtype is ValueType.UINT16:
            return cls(1 << 16)
        if vtype is ValueType.UINT32:
            return cls(1 << 32)
        if vtype is ValueType.FLOAT32:
            return cls(None)
        raise ValueError(f"{vtype} cannot be a counter")

    def update(self, raw: float) -> float:
        """Take a new raw reading; return the continuous total."""
        if self.last is None:
            self.total = raw
        elif self._rounding(self.last, raw):
            return self.total  # keep the higher reading, or the noise would count twice
        else:
            self.total += self._increase(self.last, raw)
        self.last = raw
        return self.total

    def _rounding(self, last: float, raw: float) -> bool:
        return self.modulus is None and 0 < last - raw <= _FLOAT_NOISE * max(1.0, abs(last))

    def _increase(self, last: float, raw: float) -> float:
        if raw >= last:
            return raw - last
        if self.modulus is None:
            self.resets += 1
            return raw
        quarter = self.modulus // 4
        if last >= self.modulus - quarter and raw < quarter:
            self.wraps += 1
            return raw + self.modulus - last
        self.resets += 1
        return raw
