"""Register maps, their decoding, read planning, counters, schedules and the observations of a
read: everything in hub/devices/modbus that is pure."""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.devices.backoff import Backoff
from hub.devices.modbus.codec import (
    MapDecoder,
    ReadBlock,
    decode_words,
    encode_value,
    plan_reads,
    present,
)
from hub.devices.modbus.counters import Counter
from hub.devices.modbus.device import PolledDevice
from hub.devices.modbus.registers import (
    RegisterKind,
    RegisterMap,
    RegisterMapError,
    ValueType,
    WordOrder,
    load_register_map,
    load_register_maps,
)
from hub.devices.modbus.schedule import Schedule
from hub.devices.modbus.targets import ModbusTarget, target_for
from hub.domain.observations import DeviceKey, Fault, Telemetry
from hub.domain.registry import Device, Protocol

REGISTERS = Path(__file__).resolve().parents[2] / "config" / "registers"
AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

RANGES = {
    ValueType.INT16: (-(2**15), 2**15 - 1), ValueType.UINT16: (0, 2**16 - 1),
    ValueType.INT32: (-(2**31), 2**31 - 1), ValueType.UINT32: (0, 2**32 - 1),
}


def regmap(*entries: dict[str, object], **extra: object) -> RegisterMap:
    return RegisterMap.model_validate({"name": "test-map", "registers": list(entries), **extra})


# --- the shipped maps implement DESIGN.md §3 -------------------------------------------------

def test_elevator_std_map_is_the_contract_of_design_section_3() -> None:
    elevator = load_register_map(REGISTERS / "elevator-std.yaml")
    layout = [(e.key, e.address, e.kind, e.value_type, e.word_order) for e in elevator.registers]
    h, big = RegisterKind.HOLDING, WordOrder.BIG
    assert layout == [
        ("floor", 0, h, ValueType.INT16, big), ("direction", 1, h, ValueType.UINT16, big),
        ("door", 2, h, ValueType.UINT16, big), ("mode", 3, h, ValueType.UINT16, big),
        ("fault", 4, h, ValueType.UINT16, big), ("occupied", 5, h, ValueType.UINT16, big),
        ("trips", 6, h, ValueType.UINT32, big), ("run_seconds", 8, h, ValueType.UINT32, big),
        ("speed_mm_s", 10, h, ValueType.INT16, big),
    ]
    assert elevator.entry("direction").enum == {0: "idle", 1: "up", 2: "down"}
    assert elevator.entry("door").enum == {0: "closed", 1: "open", 2: "closing", 3: "opening"}
    assert elevator.entry("mode").enum == {0: "normal", 1: "inspection", 2: "maintenance",
                                           3: "fire_return", 4: "out_of_service"}
    faults = elevator.entry("fault").enum or {}
    assert sorted(faults) == list(range(16))
    assert (faults[1], faults[7], faults[8], faults[15]) == (
        "OVERTRAVEL_TOP", "TRAPPED_AT_FLOOR", "TRAPPED_BETWEEN_FLOORS", "ABNORMAL_SPEED")
    assert [e.key for e in elevator.registers if e.counter] == ["trips", "run_seconds"]


@pytest.mark.parametrize(("name", "unit"), [("meter-energy", "kWh"), ("meter-water", "m³")])
def test_meter_maps_hold_a_float32_reading_counter_and_a_status(name: str, unit: str) -> None:
    meter = load_register_maps(REGISTERS)[name]
    reading, status = meter.entry("reading"), meter.entry("status")
    assert (reading.address, reading.value_type, reading.counter, reading.unit) == (
        0, ValueType.FLOAT32, True, unit)
    assert (status.address, status.value_type) == (2, ValueType.UINT16)


def test_the_elevator_is_read_in_one_request_of_eleven_registers() -> None:
    decoder = MapDecoder(load_register_map(REGISTERS / "elevator-std.yaml"))
    assert decoder.blocks == [ReadBlock(RegisterKind.HOLDING, 0, 11)]


# --- bad files are refused with file, entry and reason --------------------------------------

@pytest.mark.parametrize(("entry", "reason"), [
    ({"key": "reading", "address": 0, "type": "float32", "enum": {0: "ok"}},
     "enum needs an integer type"),
    ({"key": "reading", "address": 0, "type": "int16", "counter": True},
     "a counter must be uint16, uint32 or float32"),
    ({"key": "reading", "address": 0, "kind": "coil", "type": "uint16"},
     "kind coil cannot hold type uint16"),
    ({"key": "reading", "address": 0, "colour": "red"}, "colour: unknown field"),
    ({"key": "reading", "address": 65535, "type": "uint32"}, "past 65535"),
    ({"key": "reading", "address": 0, "type": "int64"}, "type: Input should be"),
    ({"key": "reading", "address": 0, "fault": True}, "a fault register needs an enum"),
])
def test_a_bad_entry_is_refused_naming_file_entry_and_reason(
        tmp_path: Path, entry: dict[str, object], reason: str) -> None:
    path = tmp_path / "b3-meter.yaml"
    path.write_text(f"registers:\n  - {{key: status, address: 9}}\n  - {entry}\n".replace(
        "'", '"'), encoding="utf-8")
    with pytest.raises(RegisterMapError) as caught:
        load_register_map(path)
    assert f"{path}: registers[1] (reading)" in str(caught.value)
    assert reason in str(caught.value)


def test_overlapping_registers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "b3-lift.yaml"
    path.write_text("registers:\n  - {key: trips, address: 6, type: uint32}\n"
                    "  - {key: run_seconds, address: 7, type: uint32}\n", encoding="utf-8")
    with pytest.raises(RegisterMapError, match="'run_seconds' overlaps 'trips' at holding 7"):
        load_register_map(path)


def test_every_broken_file_of_a_folder_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("registers:\n  - {key: a, address: 0}\n", "utf-8")
    (tmp_path / "unparsable.yaml").write_text("registers: [\n", encoding="utf-8")
    (tmp_path / "renamed.yaml").write_text("name: other\nregisters: []\n", encoding="utf-8")
    with pytest.raises(RegisterMapError) as caught:
        load_register_maps(tmp_path)
    message = str(caught.value)
    assert "unparsable.yaml: not valid YAML" in message
    assert "renamed.yaml: name 'other' differs from the file name" in message
    assert "good.yaml" not in message


# --- decoding ---------------------------------------------------------------------------------

@given(data=st.data(), vtype=st.sampled_from(list(RANGES)), order=st.sampled_from(WordOrder))
def test_integers_round_trip_through_words_for_every_type_and_word_order(
        data: st.DataObject, vtype: ValueType, order: WordOrder) -> None:
    value = data.draw(st.integers(*RANGES[vtype]))
    words = encode_value(value, vtype, order)
    assert len(words) == vtype.words and all(0 <= w <= 0xFFFF for w in words)
    assert decode_words(words, vtype, order) == value


@given(value=st.floats(width=32, allow_nan=False, allow_infinity=False),
       order=st.sampled_from(WordOrder))
def test_finite_float32_round_trips_through_words(value: float, order: WordOrder) -> None:
    assert decode_words(encode_value(value, ValueType.FLOAT32, order), ValueType.FLOAT32,
                        order) == value


@given(high=st.integers(0, 0xFFFF), low=st.integers(0, 0xFFFF))
def test_nan_and_infinite_float32_decode_as_no_reading(high: int, low: int) -> None:
    (as_float,) = struct.unpack(">f", struct.pack(">HH", high, low))
    decoded = decode_words([high, low], ValueType.FLOAT32)
    assert decoded is None if not math.isfinite(as_float) else decoded == as_float


def test_word_order_little_puts_the_low_word_first() -> None:
    assert decode_words([0x0002, 0x0001], ValueType.UINT32, WordOrder.LITTLE) == 0x0001_0002
    assert decode_words([0x0001, 0x0002], ValueType.UINT32, WordOrder.BIG) == 0x0001_0002
    assert decode_words([0xFFFF], ValueType.INT16) == -1


def test_scale_offset_and_enum_turn_raw_numbers_into_domain_values() -> None:
    m = regmap({"key": "temp", "address": 0, "type": "int16", "scale": 0.1, "offset": -40},
               {"key": "door", "address": 1, "enum": {0: "closed", 1: "open"}})
    assert present(m.entry("temp"), 652) == pytest.approx(25.2)
    assert present(m.entry("door"), 1) == "open"
    assert present(m.entry("door"), 9) == "UNKNOWN_9"


def test_an_elevator_snapshot_decodes_to_its_meaning() -> None:
    decoder = MapDecoder(load_register_map(REGISTERS / "elevator-std.yaml"))
    trips, run = 70_000, 123_456
    words = [0xFFFE, 2, 3, 0, 7, 1, trips >> 16, trips & 0xFFFF, run >> 16, run & 0xFFFF,
             (-1000) & 0xFFFF]
    assert decoder.decode([words]) == {
        "floor": -2, "direction": 2, "door": 3, "mode": 0, "fault": 7, "occupied": 1,
        "trips": 70_000, "run_seconds": 123_456, "speed_mm_s": -1000}


# --- read planning ----------------------------------------------------------------------------

def test_registers_apart_by_more_than_max_gap_take_two_reads() -> None:
    entries = ({"key": "a", "address": 0}, {"key": "b", "address": 5, "type": "uint32"})
    assert [(b.address, b.count) for b in plan_reads(regmap(*entries))] == [(0, 1), (5, 2)]
    assert [(b.address, b.count) for b in plan_reads(regmap(*entries, max_gap=4))] == [(0, 7)]


def test_a_read_never_exceeds_max_registers_and_kinds_are_read_apart() -> None:
    m = regmap(*({"key": f"r{i}", "address": i} for i in range(10)),
               {"key": "alarm", "address": 0, "kind": "coil"}, max_registers=4)
    assert [(b.kind, b.address, b.count) for b in plan_reads(m)] == [
        (RegisterKind.HOLDING, 0, 4), (RegisterKind.HOLDING, 4, 4), (RegisterKind.HOLDING, 8, 2),
        (RegisterKind.COIL, 0, 1)]


def fewest_reads(addresses: list[int], gap: int, limit: int) -> int:
    """By exhaustive dynamic programming: the fewest runs of consecutive one-word entries,
    each run with no hole wider than `gap` and no longer than `limit`."""
    best = [0] + [len(addresses)] * len(addresses)
    for end in range(1, len(addresses) + 1):
        for first in range(end):
            run = addresses[first:end]
            holes_fit = all(b - a - 1 <= gap for a, b in pairwise(run))
            if holes_fit and run[-1] - run[0] + 1 <= limit:
                best[end] = min(best[end], best[first] + 1)
    return best[-1]


@given(starts=st.sets(st.integers(0, 300), min_size=1, max_size=30),
       gap=st.integers(0, 10), limit=st.integers(1, 125))
def test_planned_reads_are_the_fewest_that_cover_every_entry_within_limits(
        starts: set[int], gap: int, limit: int) -> None:
    addresses = sorted(starts)
    entries = [{"key": f"k{a}", "address": a} for a in addresses]
    blocks = plan_reads(regmap(*entries, max_gap=gap, max_registers=limit))
    for address in addresses:
        assert sum(b.address <= address < b.address + b.count for b in blocks) == 1
    assert all(b.count <= limit for b in blocks)
    assert len(blocks) == fewest_reads(addresses, gap, limit)


# --- counters ---------------------------------------------------------------------------------

def test_a_uint32_counter_wrapping_keeps_counting() -> None:
    trips = Counter.for_type(ValueType.UINT32)
    assert trips.update(4_294_967_290) == 4_294_967_290
    assert trips.update(4) == 4_294_967_300
    assert (trips.wraps, trips.resets) == (1, 0)


def test_a_counter_that_drops_after_a_device_replacement_counts_from_zero() -> None:
    trips = Counter.for_type(ValueType.UINT32)
    trips.update(1000)
    assert trips.update(3) == 1003
    assert trips.update(10) == 1010
    assert (trips.wraps, trips.resets) == (0, 1)


def test_a_float_meter_reading_never_wraps_and_ignores_rounding() -> None:
    kwh = Counter.for_type(ValueType.FLOAT32)
    kwh.update(12_000.5)
    assert kwh.update(12_000.499) == 12_000.5  # float32 rounding, not a reset
    assert kwh.update(0.25) == pytest.approx(12_000.75)
    assert kwh.resets == 1


@given(steps=st.lists(st.integers(0, 2**20), max_size=50), start=st.integers(0, 2**32 - 1))
def test_a_wrapping_counter_total_is_the_sum_of_its_increments(
        steps: list[int], start: int) -> None:
    trips = Counter.for_type(ValueType.UINT32)
    trips.update(start)
    raw = start
    for step in steps:
        raw = (raw + step) % 2**32
        trips.update(raw)
    assert trips.total == start + sum(steps)
    assert trips.resets == 0


# --- schedule ---------------------------------------------------------------------------------

def test_a_schedule_stays_on_its_grid_and_counts_slots_that_could_not_start() -> None:
    slots = Schedule(start=100.0, period=1.0)
    assert slots.skip_late(100.4) == 0 and slots.due == 100.0
    slots.advance()
    assert slots.skip_late(103.7) == 3 and slots.due == 104.0
    assert slots.skip_until(106.5) == 3 and slots.due == 107.0
    assert slots.skip_until(106.0) == 0


# --- observations of one device ---------------------------------------------------------------

def lift(boot: str = "modbus-test") -> PolledDevice:
    target = ModbusTarget(7, DeviceKey("lakeside", "elevator", "b3-lift-1"), "127.0.0.1", 1502,
                          "elevator-std")
    decoder = MapDecoder(load_register_map(REGISTERS / "elevator-std.yaml"))
    return PolledDevice(target, decoder, boot, Backoff())


def snapshot(fault: int = 0, trips: int = 10) -> dict[str, int | float | bool | None]:
    return {"floor": 5, "direction": 1, "door": 0, "mode": 0, "fault": fault, "occupied": 1,
            "trips": trips, "run_seconds": 3600, "speed_mm_s": 1000}


def test_a_read_becomes_telemetry_with_names_totals_and_a_fresh_seq() -> None:
    device = lift()
    (first,) = device.observe(snapshot(trips=10), AT)
    (second,) = device.observe(snapshot(trips=12), AT)
    assert isinstance(first, Telemetry) and isinstance(second, Telemetry)
    assert first.metrics["door"] == "closed" and first.metrics["direction"] == "up"
    assert (first.metrics["trips"], second.metrics["trips_total"]) == (10, 12)
    assert (first.envelope.seq, second.envelope.seq) == (1, 2)
    assert first.envelope.boot == "modbus-test" and first.envelope.key.device == "b3-lift-1"


def test_a_fault_code_is_raised_when_it_appears_and_cleared_when_it_goes() -> None:
    device = lift()
    faults = [[(o.code, o.active) for o in device.observe(snapshot(fault=f), AT)
               if isinstance(o, Fault)] for f in (0, 7, 7, 8, 0, 0)]
    assert faults == [[], [("TRAPPED_AT_FLOOR", True)], [],
                      [("TRAPPED_AT_FLOOR", False), ("TRAPPED_BETWEEN_FLOORS", True)],
                      [("TRAPPED_BETWEEN_FLOORS", False)], []]


def test_a_nan_reading_is_left_out_and_counted() -> None:
    device = lift()
    values = snapshot()
    values["speed_mm_s"] = None
    (telemetry,) = device.observe(values, AT)
    assert isinstance(telemetry, Telemetry) and "speed_mm_s" not in telemetry.metrics
    assert device.stats.invalid_values == 1


def test_a_registered_modbus_device_becomes_a_target_with_its_connection() -> None:
    device = Device(site_id=1, code="b3-lift-1", kind="elevator", protocol=Protocol.MODBUS,
                    connection={"host": "10.0.3.20", "port": 502, "unit": 3, "retries": 0},
                    register_map="elevator-std", poll_period_s=2.0, id=42)
    target = target_for(device, "lakeside")
    assert (target.device_id, str(target.key), target.unit, target.retries, target.period_s) == (
        42, "lakeside/elevator/b3-lift-1", 3, 0, 2.0)
    device.connection["unit"] = 300
    with pytest.raises(ValueError, match=r"device b3-lift-1: connection\.unit"):
        target_for(device, "lakeside")
