"""Register maps: typed models of `config/registers/*.yaml`, validated when they are loaded.

A map names each value a device model exposes: where it is (kind, address), how its words are
laid out (type, word order) and how the raw number becomes a domain value (scale, offset, enum).
A bad file stops start-up with `file: registers[i] (key): reason`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class RegisterKind(StrEnum):
    HOLDING = "holding"
    INPUT = "input"
    COIL = "coil"
    DISCRETE = "discrete"

    @property
    def is_bit(self) -> bool:
        return self in (RegisterKind.COIL, RegisterKind.DISCRETE)


class ValueType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    BOOL = "bool"  # coils and discrete inputs only

    @property
    def words(self) -> int:
        return 2 if self in (ValueType.INT32, ValueType.UINT32, ValueType.FLOAT32) else 1

    @property
    def is_integer(self) -> bool:
        return self not in (ValueType.FLOAT32, ValueType.BOOL)

    @property
    def is_unsigned(self) -> bool:
        return self in (ValueType.UINT16, ValueType.UINT32)


class WordOrder(StrEnum):
    """Order of the 16-bit words of a 32-bit value; bytes inside a word are always big-endian
    (Modbus Application Protocol §4.2)."""

    BIG = "big"
    LITTLE = "little"


# Modbus Application Protocol §6.3/§6.1: one read returns at most 125 registers or 2000 bits.
MAX_REGISTERS_PER_READ = 125
MAX_BITS_PER_READ = 2000

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"


class RegisterEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=KEY_PATTERN)
    address: int = Field(ge=0, le=65535)
    kind: RegisterKind = RegisterKind.HOLDING
    type: ValueType | None = None  # default: uint16 for registers, bool for bits
    word_order: WordOrder = WordOrder.BIG
    scale: float = 1.0
    offset: float = 0.0
    enum: dict[int, str] | None = None
    counter: bool = False  # monotonic: wraps and resets are handled, a `_total` is emitted
    fault: bool = False  # a fault code (0 = none): its changes become Fault observations
    unit: str = ""
    description: str = ""

    @property
    def value_type(self) -> ValueType:
        if self.type is not None:
            return self.type
        return ValueType.BOOL if self.kind.is_bit else ValueType.UINT16

    @property
    def width(self) -> int:
        return self.value_type.words

    @property
    def plain(self) -> bool:
        """Emitted as read: no scale, no offset."""
        return self.scale == 1.0 and self.offset == 0.0

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        vtype = self.value_type
        if self.kind.is_bit != (vtype is ValueType.BOOL):
            raise ValueError(f"kind {self.kind} cannot hold type {vtype}"
                             " (coil and discrete are bool; registers are numbers)")
        if self.address + self.width > 65536:
            raise ValueError(f"address {self.address} + {self.width} words is past 65535")
        if self.scale == 0:
            raise ValueError("scale must not be 0")
        if self.enum is not None and (not vtype.is_integer or not self.plain):
            raise ValueError("enum needs an integer type without scale or offset")
        if self.counter and not (vtype.is_unsigned or vtype is ValueType.FLOAT32):
            raise ValueError("a counter must be uint16, uint32 or float32")
        if self.counter and self.offset != 0:
            raise ValueError("a counter cannot have an offset (its total would shift)")
        if self.fault and self.enum is None:
            raise ValueError("a fault register needs an enum of its code names")
        return self


class RegisterMap(BaseModel):
    """One device model. Reads are planned per kind: registers closer than `max_gap` unused
    addresses share one request (some devices refuse to read unmapped addresses: keep 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    description: str = ""
    max_gap: int = Field(default=0, ge=0, le=100)
    max_registers: int = Field(default=MAX_REGISTERS_PER_READ, ge=1, le=MAX_REGISTERS_PER_READ)
    registers: list[RegisterEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        seen: dict[str, int] = {}
        taken: dict[tuple[RegisterKind, int], str] = {}
        for entry in self.registers:
            if entry.key in seen:
                raise ValueError(f"key {entry.key!r} appears twice")
            seen[entry.key] = entry.address
            for word in range(entry.address, entry.address + entry.width):
                other = taken.setdefault((entry.kind, word), entry.key)
                if other != entry.key:
                    raise ValueError(f"{entry.key!r} overlaps {other!r} at {entry.kind} {word}")
        return self

    def entry(self, key: str) -> RegisterEntry:
        return next(e for e in self.registers if e.key == key)


class RegisterMapError(ValueError):
    """A register map file is unusable; the message names the file, the entry and the reason."""


def load_register_map(path: Path) -> RegisterMap:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RegisterMapError(f"{path}: cannot read: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise RegisterMapError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise RegisterMapError(f"{path}: expected a mapping with `registers`")
    data.setdefault("name", path.stem)
    if data["name"] != path.stem:
        raise RegisterMapError(f"{path}: name {data['name']!r} differs from the file name")
    try:
        return RegisterMap.model_validate(data)
    except ValidationError as err:
        lines = [f"{path}: {_where(e['loc'], data)}: {_reason(e)}" for e in err.errors()]
        raise RegisterMapError("\n".join(lines)) from None


def load_register_maps(folder: Path) -> dict[str, RegisterMap]:
    """Every `*.yaml` in `folder`, by name; all problems of all files in one error."""
    maps: dict[str, RegisterMap] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            maps[path.stem] = load_register_map(path)
        except RegisterMapError as err:
            problems.append(str(err))
    if problems:
        raise RegisterMapError("\n".join(problems))
    if not maps:
        raise RegisterMapError(f"{folder}: no register maps (*.yaml)")
    return maps


def _where(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "registers" and isinstance(loc[1], int):
        index = loc[1]
        raw = data.get("registers") or []
        key = raw[index].get("key", "?") if index < len(raw) and isinstance(raw[index], dict) \
            else "?"
        rest = ".".join(str(part) for part in loc[2:])
        return f"registers[{index}] ({key})" + (f": {rest}" if rest else "")
    return ".".join(str(part) for part in loc) or "map"


def _reason(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return str(error["msg"]).removeprefix("Value error, ")
