"""Pure decoding: raw 16-bit words and bits into numbers, numbers into domain values, and the
plan of the fewest reads that cover a register map. No IO; property-tested.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hub.devices.modbus.registers import (
    MAX_BITS_PER_READ,
    RegisterEntry,
    RegisterKind,
    RegisterMap,
    ValueType,
    WordOrder,
)

Raw = int | float | bool
Value = int | float | bool | str

_FLOAT = struct.Struct(">f")


def _int16(words: Sequence[int]) -> int:
    return words[0] - 0x10000 if words[0] & 0x8000 else words[0]


def _uint16(words: Sequence[int]) -> int:
    return words[0]


def _uint32(words: Sequence[int]) -> int:
    return (words[0] << 16) | words[1]


def _int32(words: Sequence[int]) -> int:
    value = (words[0] << 16) | words[1]
    return value - 0x1_0000_0000 if value & 0x8000_0000 else value


def _float32(words: Sequence[int]) -> float | None:
    value: float = _FLOAT.unpack(((words[0] << 16) | words[1]).to_bytes(4, "big"))[0]
    # A meter reports NaN or infinity when its sensor fails: that is no reading, not a number.
    return value if math.isfinite(value) else None


_DECODERS: dict[ValueType, Callable[[Sequence[int]], int | float | None]] = {
    ValueType.INT16: _int16, ValueType.UINT16: _uint16, ValueType.INT32: _int32,
    ValueType.UINT32: _uint32, ValueType.FLOAT32: _float32,
}


def decode_words(words: Sequence[int], vtype: ValueType,
                 order: WordOrder = WordOrder.BIG) -> int | float | None:
    """The number `words` hold (most significant word first unless `order` is little);
    None for a float that is NaN or infinite."""
    if len(words) != vtype.words:
        raise ValueError(f"{vtype} needs {vtype.words} words, got {len(words)}")
    if vtype.words == 2 and order is WordOrder.LITTLE:
        words = (words[1], words[0])
    return _DECODERS[vtype](words)


def encode_value(value: float, vtype: ValueType, order: WordOrder = WordOrder.BIG) -> list[int]:
    """The words a device sends for `value` (the inverse of `decode_words`)."""
    if vtype is ValueType.FLOAT32:
        bits = int.from_bytes(_FLOAT.pack(value), "big")
    elif vtype is ValueType.BOOL:
        raise ValueError("bool values are bits, not words")
    else:
        bits = int(value) & (0xFFFF if vtype.words == 1 else 0xFFFF_FFFF)
    if vtype.words == 1:
        return [bits]
    words = [bits >> 16, bits & 0xFFFF]
    return words[::-1] if order is WordOrder.LITTLE else words


def present(entry: RegisterEntry, raw: Raw) -> Value:
    """The domain value of a raw number: an enum name, or raw × scale + offset."""
    if entry.enum is not None:
        return entry.enum.get(int(raw), f"UNKNOWN_{int(raw)}")
    if entry.plain or isinstance(raw, bool):
        return raw
    return raw * entry.scale + entry.offset


@dataclass(frozen=True)
class ReadBlock:
    """One request: `count` registers (or bits) of `kind` from `address`."""

    kind: RegisterKind
    address: int
    count: int


def plan_reads(regmap: RegisterMap) -> list[ReadBlock]:
    """The fewest reads covering every entry, never spanning more than `max_gap` unused
    addresses nor more than one request may carry. Greedy from the lowest address is
    optimal for sorted, non-overlapping entries."""
    blocks: list[ReadBlock] = []
    for kind in RegisterKind:
        limit = MAX_BITS_PER_READ if kind.is_bit else regmap.max_registers
        spans = sorted((e.address, e.address + e.width) for e in regmap.registers
                       if e.kind is kind)
        start = end = -1
        for low, high in spans:
            if start >= 0 and low - end <= regmap.max_gap and high - start <= limit:
                end = max(end, high)
                continue
            if start >= 0:
                blocks.append(ReadBlock(kind, start, end - start))
            start, end = low, high
        if start >= 0:
            blocks.append(ReadBlock(kind, start, end - start))
    return blocks


@dataclass(frozen=True)
class _Slot:
    entry: RegisterEntry
    block: int
    offset: int


class MapDecoder:
    """Decodes the answers to `blocks` (in that order) into raw numbers by key."""

    def __init__(self, regmap: RegisterMap) -> None:
        self.regmap = regmap
        self.blocks = plan_reads(regmap)
        self._slots = [self._locate(entry) for entry in regmap.registers]

    def _locate(self, entry: RegisterEntry) -> _Slot:
        for index, block in enumerate(self.blocks):
            if block.kind is entry.kind and \
                    block.address <= entry.address < block.address + block.count:
                return _Slot(entry, index, entry.address - block.address)
        raise AssertionError(f"{entry.key} is in no planned read")  # plan_reads covers all

    def decode(self, answers: Sequence[Sequence[int] | Sequence[bool]]) -> dict[str, Raw | None]:
        if len(answers) != len(self.blocks):
            raise ValueError(f"expected {len(self.blocks)} answers, got {len(answers)}")
        values: dict[str, Raw | None] = {}
        for slot in self._slots:
            data = answers[slot.block]
            entry = slot.entry
            if entry.kind.is_bit:
                values[entry.key] = bool(data[slot.offset])
            else:
                words = [int(w) for w in data[slot.offset:slot.offset + entry.width]]
                values[entry.key] = decode_words(words, entry.value_type, entry.word_order)
        return values
